// IPv6 networks through the docker CLI, as dockerd 20.10 has them: `--ipv6` needs a v6 subnet (there is no
// default v6 pool) and gets a v4 one too; containers take v6 addresses from ::2 up (or --ip6), shown by
// inspect; they reach each other over v6 and resolve each other's names to AAAA records (aardvark-dns);
// and nothing (bridge, v4 or v6 rule, namespace) stays once they are gone.
import { afterAll, describe, expect, inject, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { suiteEngine } from './helpers/suite.js';
import { cliOf } from './helpers/cli.js';
import { leftovers, traceOf, type NetworkTrace } from './helpers/network.js';

const images = inject('images');
const engine = suiteEngine({ load: [images.busybox.archive] });
const { docker, ok } = cliOf(() => engine);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Subnets of their own, so that engines of other suites on this host do not clash with them.
const tag = Math.floor(Math.random() * 0xfff0 + 1).toString(16);
const V4 = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}.0/24`;
const V6 = `fd00:b347:${tag}::/64`;
const V6ONLY = `fd00:b348:${tag}::/64`;
const V6PLAIN = `fd00:b349:${tag}::/64`;
const prefix = `fd00:b347:${tag}::`;

const ip6Rules = () => {
  try {
    return execFileSync('ip6tables-save', [], { encoding: 'utf8' });
  } catch {
    return '';
  }
};

const traces: NetworkTrace[] = [];

afterAll(async () => {
  const ids = (await docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  if (ids.length) await docker(['rm', '-f', ...ids]);
  for (const n of ['v6net', 'v6only', 'v6plain', 'v4plain']) await docker(['network', 'rm', n]);
});

describe('IPv6 networks', () => {
  it('need a v6 subnet with --ipv6, and get a v4 one beside it', async () => {
    const refused = await docker(['network', 'create', '--ipv6', 'v6nopool']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('could not find an available, non-overlapping IPv6 address pool among the defaults to assign to the network');

    await ok(['network', 'create', '--ipv6', '--subnet', V4, '--subnet', V6, 'v6net']);
    const both = JSON.parse(await ok(['network', 'inspect', '-f', '{{json .}}', 'v6net']));
    expect(both.EnableIPv6).toBe(true);
    expect(both.IPAM.Config.map((c: { Subnet: string }) => c.Subnet)).toEqual([V4, V6]);

    // Only a v6 subnet: the v4 one comes from the pool, listed first (as dockerd lists them).
    await ok(['network', 'create', '--ipv6', '--subnet', V6ONLY, 'v6only']);
    const only = JSON.parse(await ok(['network', 'inspect', '-f', '{{json .IPAM.Config}}', 'v6only']));
    expect(only).toHaveLength(2);
    expect(only[0].Subnet).toMatch(/^\d+\.\d+\.\d+\.0\/24$/);
    expect(only[1].Subnet).toBe(V6ONLY);

    // A v6 subnet that overlaps another network's is refused as a v4 one is.
    const clash = await docker(['network', 'create', '--ipv6', '--subnet', `fd00:b347:${tag}::/48`, 'v6clash']);
    expect(clash.stderr).toContain('Pool overlaps with other one on this address space');
  });

  it('give containers v6 addresses (from ::2, or --ip6), shown by inspect', async () => {
    traces.push(await traceOf(engine, 'v6net'));
    await ok(['run', '-d', '--name', 'six1', '--network', 'v6net', 'busybox', 'sleep', '300']);
    await ok(['run', '-d', '--name', 'six2', '--network', 'v6net', '--ip6', `${prefix}99`, 'busybox', 'sleep', '300']);
    const [one, two] = ['six1', 'six2'].map(async (name) => JSON.parse(await ok(['inspect', '-f', '{{json .NetworkSettings.Networks.v6net}}', name])));
    const a = await one!;
    const b = await two!;
    expect(a).toMatchObject({ GlobalIPv6Address: `${prefix}2`, GlobalIPv6PrefixLen: 64, IPv6Gateway: `${prefix}1`, IPAMConfig: null });
    expect(a.IPAddress).toMatch(/^10\./);
    expect(b).toMatchObject({ GlobalIPv6Address: `${prefix}99`, GlobalIPv6PrefixLen: 64, IPAMConfig: { IPv6Address: `${prefix}99` } });
    expect(await ok(['exec', 'six1', 'ip', '-6', 'addr', 'show', 'eth0'])).toContain(`inet6 ${prefix}2/64`);
    // /etc/hosts names the container by both addresses, as dockerd writes it.
    const hostname = (await ok(['exec', 'six1', 'hostname'])).trim();
    expect(await ok(['exec', 'six1', 'cat', '/etc/hosts'])).toContain(`${prefix}2\t${hostname}\n`);
    expect(ip6Rules()).toContain(V6); // netavark's v6 rules, which the last test wants gone

    const n = JSON.parse(await ok(['network', 'inspect', '-f', '{{json .Containers}}', 'v6net']));
    expect(
      Object.values(n)
        .map((c) => (c as { IPv6Address: string }).IPv6Address)
        .sort(),
    ).toEqual([`${prefix}2/64`, `${prefix}99/64`]);
    // The DB holds a v6 address once: another --ip6 of it fails the start.
    await ok(['create', '--name', 'six4', '--network', 'v6net', '--ip6', `${prefix}99`, 'busybox', 'true']);
    expect((await docker(['start', 'six4'])).stderr).toContain('Address already in use');

    // docker network connect --ip6 onto a running container: set up at once.
    await ok(['run', '-d', '--name', 'six3', 'busybox', 'sleep', '300']);
    await ok(['network', 'connect', '--ip6', `${prefix}42`, 'v6net', 'six3']);
    expect(await ok(['inspect', '-f', '{{.NetworkSettings.Networks.v6net.GlobalIPv6Address}}', 'six3'])).toBe(`${prefix}42\n`);
    expect(await ok(['exec', 'six3', 'ip', '-6', 'addr', 'show', 'eth1'])).toContain(`inet6 ${prefix}42/64`);

    // As dockerd 20.10: a malformed --ip6 fails the create; one outside the v6 subnet, or on a network
    // without a v6 subnet, fails the start; on a v6 subnet without --ipv6 it is ignored.
    expect((await docker(['create', '--network', 'v6net', '--ip6', 'zzz', 'busybox'])).stderr).toContain('invalid IPv6 address: zzz');
    await ok(['create', '--name', 'six5', '--network', 'v6net', '--ip6', 'fd00:dead::5', 'busybox', 'true']);
    expect((await docker(['start', 'six5'])).stderr).toContain("Invalid address fd00:dead::5: It does not belong to any of this network's subnets");
    await ok(['network', 'create', '--subnet', V6PLAIN, 'v6plain']);
    expect(await ok(['network', 'inspect', '-f', '{{.EnableIPv6}} {{len .IPAM.Config}}', 'v6plain'])).toBe('false 2\n');
    expect(await ok(['run', '--rm', '--network', 'v6plain', '--ip6', `${V6PLAIN.slice(0, -3)}5`, 'busybox', 'ip', '-6', 'addr', 'show', 'eth0'])).not.toContain(
      'global',
    );
    await ok(['network', 'rm', 'v6plain']);
    await ok(['network', 'create', 'v4plain']);
    await ok(['create', '--name', 'six6', '--network', 'v4plain', '--ip6', `${prefix}6`, 'busybox', 'true']);
    expect((await docker(['start', 'six6'])).stderr).toContain(
      'user specified IP address is supported only when connecting to networks with user configured subnets',
    );
    await ok(['rm', 'six6']);
    await ok(['network', 'rm', 'v4plain']);
  });

  it('reach each other over v6, by address and by name (AAAA)', async () => {
    // The address may still be tentative (duplicate address detection) for a moment after start.
    let out = '';
    for (let i = 0; i < 20 && !out.includes('1 packets received'); i++, await sleep(200)) {
      out = (await docker(['exec', 'six1', 'ping', '-6', '-c', '1', '-W', '2', `${prefix}99`])).stdout;
    }
    expect(out).toContain('1 packets received');
    expect(await ok(['exec', 'six1', 'ping', '-6', '-c', '1', '-W', '2', 'six2'])).toContain(`${prefix}99`);
    expect(await ok(['exec', 'six2', 'nslookup', '-type=AAAA', 'six1'])).toContain(`${prefix}2`);
  });

  it('leave nothing behind', async () => {
    await ok(['rm', '-f', 'six1', 'six2', 'six3', 'six4', 'six5']);
    for (const n of ['v6net', 'v6only']) await ok(['network', 'rm', n]);
    await sleep(2500); // the shared chains' prune runs 2 s after the last container
    expect(await leftovers(engine, traces)).toEqual([]);
    const v6 = ip6Rules()
      .split('\n')
      .filter((l) => l.includes(`fd00:b347:${tag}:`) || l.includes(`fd00:b348:${tag}:`));
    expect(v6).toEqual([]);
    // netavark's shared v6 chains go too, once no network (only this suite makes v6 ones) has rules in them.
    expect(
      ip6Rules()
        .split('\n')
        .filter((l) => l.includes('NETAVARK')),
    ).toEqual([]);
  });
});
