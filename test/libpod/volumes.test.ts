// podman --remote volume commands against berth, beside Podman's own service: the same output and exit codes.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TestEngine } from '../helpers/engine.js';
import { PodmanService, sameAsOracle, sideBySide, type PodmanClient } from '../helpers/podman.js';

let engine: TestEngine;
let berth: PodmanClient;
let oracle: PodmanService;
const images = inject('images');

beforeAll(async () => {
  // (Containers on berth come from the docker CLI.)
  ({ engine, berth, oracle } = await sideBySide({ subnet: '10.231.6.0/24', busybox: images.busybox.archive }));
});
afterAll(async () => {
  await Promise.all([engine?.destroy(), oracle?.stop()]);
});

/** The same command against both: berth's stdout, stderr and exit code must be podman's (paths aside). */
const same = (args: string[], clean?: (s: string) => string) => sameAsOracle({ berth, oracle }, args, clean);
const both = (args: string[]) => Promise.all([berth.ok(args), oracle.client.ok(args)]);

describe('podman --remote volume', () => {
  it('creates with driver options and labels, lists, inspects, checks existence', async () => {
    await same(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=nodev', '--label', 'team=a', 'pv1']);
    await same(['volume', 'create', 'pv2']);
    await same(['volume', 'ls']);
    await same(['volume', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Labels}} {{.Scope}}']);
    await same(['volume', 'ls', '-q', '--filter', 'label=team=a']);
    await same(['volume', 'ls', '-q', '--filter', 'name=pv2']);
    // podman 4.3 keeps a volume any one filter key matches.
    await same(['volume', 'ls', '-q', '--filter', 'label=team=a', '--filter', 'name=pv2']);
    await same(['volume', 'ls', '-q', '--filter', 'opt=o=nodev']);
    await same(['volume', 'ls', '-q', '--filter', 'until=1h']);
    await same(['volume', 'create', '--driver', 'foo', 'pvf']);
    const inspect = ['volume', 'inspect', '--format', '{{.Name}} {{.Driver}} {{.Labels}} {{.Options}} {{.Scope}} {{.MountCount}}', 'pv1'];
    const out = await same(inspect);
    expect(out.stdout).toBe('pv1 local map[team:a] map[device:tmpfs o:nodev type:tmpfs] local 0\n');
    const [ours] = await both(['volume', 'inspect', 'pv1']);
    expect(JSON.parse(ours)[0].Mountpoint).toBe(`${engine.dir}/root/volumes/pv1/_data`.replace(/\/root\/root/, '/root'));
    await same(['volume', 'exists', 'pv1']);
    await same(['volume', 'exists', 'nope']);
    await same(['volume', 'inspect', 'nope']);
    await same(['volume', 'create', 'pv2']);
    await same(['volume', 'create', 'bad name']);
  });

  it('refuses to remove a volume in use (exit 2) unless forced, which removes its containers', async () => {
    await both(['volume', 'create', 'pvu']);
    expect((await engine.docker(['create', '--name', 'pvuser', '-v', 'pvu:/data', 'busybox', 'true'])).code).toBe(0);
    await oracle.client.ok(['create', '--name', 'pvuser', '-v', 'pvu:/data', 'busybox', 'true']);
    const clean = (s: string) => s.replace(/[0-9a-f]{64}/g, '<id>');
    await same(['volume', 'rm', 'pvu'], clean);
    await same(['volume', 'rm', 'nope']);
    await same(['volume', 'rm', '-f', 'pvu']);
    await same(['container', 'exists', 'pvuser']);
  });

  it('prunes unused volumes, named ones too, with label filters', async () => {
    await both(['volume', 'create', '--label', 'keep=1', 'pk']);
    await both(['volume', 'create', 'pp']);
    await same(['volume', 'prune', '-f', '--filter', 'label=keep=1']);
    await same(['volume', 'prune', '-f']);
    await same(['volume', 'ls', '-q']);
  });

  it('refuses volume export and import remotely (the client does)', async () => {
    await both(['volume', 'create', 'px']);
    await same(['volume', 'export', 'px']);
    await same(['volume', 'import', 'px', '/dev/null']);
  });
});
