// podman --remote network commands against berth, beside Podman's own service: the same output and exit
// codes. berth's one default network is `podman` to libpod and `bridge` to the Docker API.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TestEngine } from '../helpers/engine.js';
import { PodmanService, sameAsOracle, sideBySide, type PodmanClient } from '../helpers/podman.js';

let engine: TestEngine;
let berth: PodmanClient;
let oracle: PodmanService;
const images = inject('images');

// The oracle's default network takes the lower half of this task's /24; its user networks the upper.
const UPPER = '10.231.6.128/25';

beforeAll(async () => {
  // (Containers on berth come from the docker CLI.)
  ({ engine, berth, oracle } = await sideBySide({ subnet: '10.231.6.0/25', busybox: images.busybox.archive }));
});
afterAll(async () => {
  await Promise.all([engine?.destroy(), oracle?.stop()]);
});

/** The same command against both: berth's stdout, stderr and exit code must be podman's (IDs aside). */
const same = (args: string[], clean = (s: string) => s.replace(/[0-9a-f]{64}/g, '<id>')) => sameAsOracle({ berth, oracle }, args, clean);
const both = (args: string[]) => Promise.all([berth.ok(args), oracle.client.ok(args)]);
const docker = async (args: string[]) => {
  const r = await engine.docker(args);
  expect(r.code, `docker ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
};

/** netavark's JSON without what differs per engine (ID, time, bridge name). */
const portable = (json: string) =>
  (JSON.parse(json) as Record<string, unknown>[]).map(({ id, created, network_interface, ...rest }) => {
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(Date.parse(String(created))).toBeGreaterThan(0);
    expect(network_interface).toBeTruthy();
    return rest;
  });

describe('podman --remote network', () => {
  it('creates with subnet, gateway, range, internal, no DNS, labels and options: netavark JSON as podman', async () => {
    await same([
      'network',
      'create',
      '--subnet',
      UPPER,
      '--gateway',
      '10.231.6.254',
      '--ip-range',
      '10.231.6.192/26',
      '--internal',
      '--disable-dns',
      '--label',
      'k=v',
      '-o',
      'mtu=1400',
      'pn1',
    ]);
    await same(['network', 'create', 'pn2']);
    const [ours, theirs] = await both(['network', 'inspect', 'pn1']);
    expect(portable(ours)).toEqual(portable(theirs));
    expect(portable(ours)[0]).toMatchObject({
      subnets: [{ subnet: UPPER, gateway: '10.231.6.254', lease_range: { start_ip: '10.231.6.193', end_ip: '10.231.6.255' } }],
    });
    // A name taken, the default's too.
    await same(['network', 'create', 'pn1']);
    await same(['network', 'create', 'podman']);
    await same(['network', 'create', 'bad/name']);
    // --ipv6 without a v6 subnet: one picked (a unique local /64) beside the v4 one.
    await same(['network', 'create', '--ipv6', 'pn6']);
    await same(['network', 'inspect', '--format', '{{.IPv6Enabled}} {{len .Subnets}}', 'pn6']);
    expect(JSON.parse(await berth.ok(['network', 'inspect', 'pn6']))[0].subnets[1].subnet).toMatch(
      /^fd[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,4}:[0-9a-f]{1,4}::\/64$/,
    );
    await same(['network', 'rm', 'pn6']);
    // podman reports this refusal in a shape its own client cannot read.
    await same(['network', 'rm', 'podman']);
    await same(['network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Labels}} {{.Internal}} {{.DNSEnabled}}']);
    await same(['network', 'ls', '--format', '{{.Name}}', '--filter', 'label=k=v']);
    await same(['network', 'ls', '--format', '{{.Name}}', '--filter', 'name=pn']);
    await same(['network', 'exists', 'pn1']);
    await same(['network', 'exists', 'nope']);
    await same(['network', 'inspect', 'nope']);
    await same(['network', 'rm', 'pn1', 'nope']);
    await same(['network', 'prune', '-f']);
    await same(['network', 'ls', '--format', '{{.Name}}']);
  });

  it('shows the default network as podman; both names find it from either API, docker lists only bridge', async () => {
    const [ours] = await both(['network', 'inspect', 'podman']);
    const n = JSON.parse(ours)[0];
    expect(n).toMatchObject({ name: 'podman', driver: 'bridge', dns_enabled: false, internal: false, ipam_options: { driver: 'host-local' } });
    expect(n.options).toBeUndefined();
    expect(n.id).toBe((await docker(['network', 'inspect', '-f', '{{.Id}}', 'bridge'])).trim());
    // host and none are Docker's only.
    await same(['network', 'exists', 'host']);
    expect((await berth.podman(['network', 'exists', 'bridge'])).code).toBe(1);
    expect((await docker(['network', 'inspect', '-f', '{{.Name}}', 'podman'])).trim()).toBe('bridge');
    expect((await docker(['network', 'ls', '--format', '{{.Name}}'])).split('\n').sort()).not.toContain('podman');
    // A container created on `podman` through the Docker API is on the default network.
    await docker(['create', '--name', 'onpodman', '--network', 'podman', 'busybox', 'true']);
    expect(JSON.parse(await docker(['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'onpodman']))).toHaveProperty('bridge');
    await docker(['rm', 'onpodman']);
  });

  it('refuses to remove a network with containers (exit 2) unless forced, which removes them', async () => {
    await both(['network', 'create', 'pnu']);
    await docker(['create', '--name', 'pnuser', '--network', 'pnu', 'busybox', 'true']);
    await oracle.client.ok(['create', '--name', 'pnuser', '--network', 'pnu', 'busybox', 'true']);
    await same(['network', 'rm', 'pnu']);
    await same(['network', 'rm', '-f', 'pnu']);
    await same(['container', 'exists', 'pnuser']);
  });

  it('connects and disconnects a running container', async () => {
    await docker(['run', '-d', '--name', 'pc', 'busybox', 'sleep', '1000']);
    await oracle.client.ok(['create', '--name', 'pc', 'busybox', 'sleep', '1000']);
    await oracle.client.ok(['start', 'pc']);
    await berth.ok(['network', 'create', 'pcn']);
    await oracle.client.ok(['network', 'create', '--subnet', UPPER, 'pcn']);
    await same(['network', 'connect', '--alias', 'al', 'pcn', 'pc']);
    const networks = JSON.parse(await docker(['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'pc']));
    expect(Object.keys(networks).sort()).toEqual(['bridge', 'pcn']);
    expect(networks.pcn.Aliases).toContain('al');
    expect(networks.pcn.IPAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    await same(['network', 'disconnect', 'pcn', 'pc']);
    expect(Object.keys(JSON.parse(await docker(['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'pc'])))).toEqual(['bridge']);
    await same(['network', 'connect', 'nope', 'pc']);
    // On the wire: lowercase connect body, Docker-cased disconnect body, no Content-Type; `OK\n` as text.
    for (const [verb, body] of [
      ['connect', { container: 'pc', interface_name: '' }],
      ['disconnect', { Container: 'pc', Force: false }],
    ] as const) {
      const r = await engine.http('POST', `/v4.3.1/libpod/networks/pcn/${verb}`, JSON.stringify(body));
      expect({ status: r.status, type: r.headers['content-type'], body: r.body.toString() }).toEqual({
        status: 200,
        type: 'text/plain; charset=us-ascii',
        body: 'OK\n',
      });
    }
    await same(['network', 'connect', 'pcn', 'nope']);
    await same(['network', 'disconnect', 'pcn', 'nope']);
    // A static address on a user network.
    await berth.ok([
      'network',
      'connect',
      '--ip',
      (await docker(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', 'pcn'])).trim().replace(/\.1$/, '.77'),
      'pcn',
      'pc',
    ]);
    expect(JSON.parse(await docker(['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'pc'])).pcn.IPAddress).toMatch(/\.77$/);
    await docker(['rm', '-f', 'pc']);
  });

  it('refuses network reload remotely (the client does)', async () => {
    await same(['network', 'reload', '--all']);
  });
});
