// Named local volumes through the docker CLI: create, list, inspect, use from containers, in-use
// refusals, removal and prune.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inject } from 'vitest';
import { suiteEngine } from './helpers/suite.js';
import { cliOf } from './helpers/cli.js';

const images = inject('images');
const engine = suiteEngine({ load: [images.busybox.archive, images.layered.archive] });

const { docker, ok } = cliOf(() => engine);
/** What is mounted at a volume's data dir ('' when nothing): `<fstype> <super options>`. */
const mountedAt = (name: string) => {
  const line = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .find((l) => l.split(' ')[4] === join(engine.root, 'volumes', name, '_data'));
  if (!line) return '';
  const after = line.split(' - ')[1]!.split(' ');
  return `${after[0]} ${after[2]}`;
};
const waitFor = async (what: () => boolean, ms = 10_000) => {
  for (const end = Date.now() + ms; Date.now() < end && !what(); ) await new Promise((r) => setTimeout(r, 50));
  return what();
};

describe('docker volume', () => {
  it('creates, lists, inspects, and keeps data across containers', async () => {
    expect((await ok(['volume', 'create', '--label', 'team=a', 'data'])).trim()).toBe('data');
    const v = JSON.parse(await ok(['volume', 'inspect', 'data']))[0];
    expect(v).toMatchObject({
      Name: 'data',
      Driver: 'local',
      Labels: { team: 'a' },
      Scope: 'local',
      Mountpoint: join(engine.root, 'volumes', 'data', '_data'),
    });
    expect(await ok(['volume', 'ls', '-q'])).toBe('data\n');
    await ok(['run', '--rm', '-v', 'data:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f']);
    expect(await ok(['run', '--rm', '-v', 'data:/data:ro', 'busybox', 'cat', '/data/f'])).toBe('kept\n');
    const ro = await docker(['run', '--rm', '-v', 'data:/data:ro', 'busybox', 'touch', '/data/g']);
    expect(ro.code).not.toBe(0);
    // a volume a container names is made at create, as dockerd does
    await ok(['create', '--name', 'user', '-v', 'auto:/x', 'busybox', 'true']);
    expect((await ok(['volume', 'ls', '-q'])).split('\n').filter(Boolean).sort()).toEqual(['auto', 'data']);
    const mounts = JSON.parse(await ok(['inspect', '-f', '{{json .Mounts}}', 'user']));
    expect(mounts).toEqual([
      {
        Type: 'volume',
        Name: 'auto',
        Source: join(engine.root, 'volumes', 'auto', '_data'),
        Destination: '/x',
        Driver: 'local',
        Mode: 'z',
        RW: true,
        Propagation: '',
      },
    ]);
    expect(await ok(['volume', 'ls', '-q', '--filter', 'dangling=true'])).toBe('data\n');
    expect(await ok(['volume', 'ls', '-q', '--filter', 'label=team=a'])).toBe('data\n');
  });

  it('refuses to remove a volume in use (409), removes it after, and prunes', async () => {
    const busy = await engine.http('DELETE', '/volumes/auto');
    expect(busy.status).toBe(409);
    expect(busy.json().message).toMatch(/^remove auto: volume is in use - \[[0-9a-f]{64}\]$/);
    await ok(['rm', 'user']);
    await ok(['volume', 'rm', 'auto']);
    expect(existsSync(join(engine.root, 'volumes', 'auto'))).toBe(false);
    expect((await engine.http('GET', '/volumes/auto')).status).toBe(404);
    // named volumes survive a plain prune (dockerd ≥ 23 prunes anonymous ones), not prune -a
    await ok(['volume', 'prune', '-f']);
    expect(await ok(['volume', 'ls', '-q'])).toBe('data\n');
    expect(await ok(['volume', 'prune', '-a', '-f'])).toContain('Total reclaimed space: 5B'); // "kept\n"
    expect(await ok(['volume', 'ls', '-q'])).toBe('');
    const bad = await docker(['volume', 'create', 'bad/name']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('includes invalid characters for a local volume name');
    await new Promise((r) => setTimeout(r, 1100)); // --until 0s is whole seconds: let this one pass
    const events = await ok(['events', '--since', '5m', '--until', '0s', '--filter', 'type=volume', '--format', '{{.Action}} {{.Actor.ID}}']);
    expect(events).toContain('create data\n');
    expect(events).toContain('destroy data\n');
  });

  it("gives an image's VOLUMEs anonymous volumes, filled from the image, removed by rm -v and --rm", async () => {
    await ok(['create', '--name', 'base', images.layered.tag]);
    await ok(['commit', '-c', 'VOLUME /data', 'base', 'withvol:1']);
    await ok(['rm', 'base']);
    const id = (await ok(['create', '--name', 'anon', '-u', '0', 'withvol:1', 'sh', '-c', 'ls -ln /data/c.txt; cat /data/c.txt'])).trim();
    const [mount] = JSON.parse(await ok(['inspect', '-f', '{{json .Mounts}}', id]));
    expect(mount).toMatchObject({ Type: 'volume', Destination: '/data', Driver: 'local', RW: true });
    expect(mount.Name).toMatch(/^[0-9a-f]{64}$/);
    await ok(['start', '-a', 'anon']);
    // the copy-up: the image's /data content, its owner kept
    expect(await ok(['run', '--rm', '-v', `${mount.Name}:/v`, 'busybox', 'cat', '/v/c.txt'])).toBe('three\n');
    await ok(['rm', '-v', 'anon']);
    expect((await engine.http('GET', `/volumes/${mount.Name}`)).status).toBe(404);
    // -v /path alone is anonymous too; --rm takes it away
    const before = await ok(['volume', 'ls', '-q']);
    await ok(['run', '--rm', '-v', '/scratch', 'busybox', 'sh', '-c', 'echo x > /scratch/y']);
    expect(await ok(['volume', 'ls', '-q'])).toBe(before);
    await ok(['rmi', 'withvol:1']);
  });

  it('takes --mount volume, bind and tmpfs, and --volumes-from', async () => {
    const dir = join(engine.dir, 'hostdir');
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(dir);
    await writeFile(join(dir, 'h.txt'), 'host\n');
    const out = await ok([
      'run',
      '--name',
      'mounter',
      '--mount',
      'type=volume,src=mv,dst=/mv',
      '--mount',
      `type=bind,src=${dir},dst=/h,readonly`,
      '--mount',
      'type=tmpfs,dst=/t,tmpfs-size=1048576',
      'busybox',
      'sh',
      '-c',
      'echo vol > /mv/f; cat /h/h.txt; touch /h/x 2>/dev/null || echo ro; grep " /t " /proc/mounts | grep -c size=1024k',
    ]);
    expect(out).toBe('host\nro\n1\n');
    expect(
      await ok(['run', '--rm', '--volumes-from', 'mounter:ro', 'busybox', 'sh', '-c', 'cat /mv/f; cat /h/h.txt; touch /mv/z 2>/dev/null || echo ro']),
    ).toBe('vol\nhost\nro\n');
    const mounts = JSON.parse(await ok(['inspect', '-f', '{{json .Mounts}}', 'mounter']));
    expect(mounts.map((m: { Type: string; Destination: string }) => `${m.Type} ${m.Destination}`)).toEqual(['volume /mv', 'bind /h', 'tmpfs /t']);
    await ok(['rm', 'mounter']);
    await ok(['volume', 'rm', 'mv']);
    const bad = await engine.http('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { Mounts: [{ Type: 'nope', Target: '/x' }] } });
    expect(bad.status).toBe(400);
  });
});

describe('local driver options (type, device, o)', () => {
  it('mounts a tmpfs volume while containers use it, across an engine restart, and unmounts it after', async () => {
    expect(
      (await ok(['volume', 'create', '--driver', 'local', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=100m,uid=1000', 'tv'])).trim(),
    ).toBe('tv');
    const [v] = JSON.parse(await ok(['volume', 'inspect', 'tv']));
    expect(v.Options).toEqual({ type: 'tmpfs', device: 'tmpfs', o: 'size=100m,uid=1000' });
    expect(mountedAt('tv')).toBe(''); // mounted on first use, not at create
    await ok(['run', '-d', '--name', 'holder', '-v', 'tv:/t', 'busybox', 'sh', '-c', 'echo kept > /t/f; sleep 100']);
    expect(mountedAt('tv')).toMatch(/^tmpfs rw,size=102400k,.*uid=1000/);
    await waitFor(() => existsSync(join(engine.root, 'volumes', 'tv', '_data', 'f')));
    // a second user shares the mount; its exit leaves it for the first
    expect(await ok(['run', '--rm', '-v', 'tv:/t', 'busybox', 'sh', '-c', 'cat /t/f; stat -c %u /t'])).toBe('kept\n1000\n');
    expect(mountedAt('tv')).toMatch(/^tmpfs /);
    expect((await engine.http('DELETE', '/volumes/tv')).status).toBe(409);
    // the engine dies and comes back: the running container keeps its volume
    await engine.stop('SIGKILL');
    await engine.start();
    expect(mountedAt('tv')).toMatch(/^tmpfs /);
    expect(await ok(['run', '--rm', '-v', 'tv:/t', 'busybox', 'cat', '/t/f'])).toBe('kept\n');
    await ok(['rm', '-f', 'holder']);
    expect(mountedAt('tv')).toBe('');
    await ok(['volume', 'rm', 'tv']);
    expect(existsSync(join(engine.root, 'volumes', 'tv'))).toBe(false);
  });

  it('binds a host directory (type=none, o=bind), unmounted when the container exits, even with no engine running', async () => {
    const dir = join(engine.dir, 'bound');
    await mkdir(dir);
    await writeFile(join(dir, 'h.txt'), 'host\n');
    await ok(['volume', 'create', '--opt', 'type=none', '--opt', 'o=bind', '--opt', `device=${dir}`, 'bv']);
    expect(await ok(['run', '--rm', '-v', 'bv:/b', 'busybox', 'sh', '-c', 'cat /b/h.txt; echo new > /b/n.txt'])).toBe('host\n');
    expect(await readFile(join(dir, 'n.txt'), 'utf8')).toBe('new\n');
    expect(mountedAt('bv')).toBe('');
    // an exit while no engine runs: `berth cleanup` (conmon's exit command) releases the volume
    await ok(['run', '-d', '--name', 'brief', '-v', 'bv:/b', 'busybox', 'sleep', '1']);
    expect(mountedAt('bv')).not.toBe('');
    await engine.stop('SIGKILL');
    const released = await waitFor(() => mountedAt('bv') === '');
    await engine.start();
    expect(released).toBe(true);
    await ok(['rm', 'brief']);
    // removal never reaches through to the host directory
    await ok(['volume', 'rm', 'bv']);
    expect(await readFile(join(dir, 'h.txt'), 'utf8')).toBe('host\n');
  });

  it("refuses options as dockerd's local driver does, and fails a start on a bad mount as dockerd words it", async () => {
    const create = async (name: string, opts: Record<string, string>) => {
      const res = await engine.http('POST', '/volumes/create', { Name: name, DriverOpts: opts });
      return { status: res.status, message: res.json().message as string | undefined };
    };
    expect(await create('v1', { foo: 'bar' })).toEqual({ status: 400, message: 'create v1: invalid option: "foo"' });
    expect(await create('v2', { type: 'tmpfs' })).toEqual({ status: 400, message: 'create v2: missing required option: "device"' });
    expect(await create('v3', { device: 'tmpfs' })).toEqual({ status: 400, message: 'create v3: missing required option: "type"' });
    expect(await create('v4', { o: 'size=1m' })).toEqual({ status: 400, message: 'create v4: missing required option: "device"' });
    expect(await create('v5', { size: '10m' })).toEqual({ status: 400, message: 'create v5: quota size requested but no quota support' });
    expect(await create('v6', { size: 'lots' })).toEqual({ status: 400, message: "create v6: invalid size: 'lots'" });
    expect(await create('v', {})).toEqual({ status: 400, message: 'create v: volume name is too short, names should be at least two alphanumeric characters' });
    const cli = await docker(['volume', 'create', '--opt', 'foo=bar', 'v7']);
    expect(cli.stderr).toContain('create v7: invalid option: "foo"');
    // `o` is the filesystem's business: dockerd takes it, and the mount fails at the first start
    await ok(['volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=abc', 'badv']);
    await ok(['volume', 'create', '--opt', 'type=none', '--opt', 'o=bind', '--opt', `device=${join(engine.dir, 'missing')}`, 'gone']);
    const bad = await docker(['run', '--rm', '-v', 'badv:/b', 'busybox', 'true']);
    expect(bad.code).toBe(125);
    const data = join(engine.root, 'volumes', 'badv', '_data');
    expect(bad.stderr).toContain(`error while mounting volume '${data}': failed to mount local volume: mount tmpfs:${data}, data: size=abc: invalid argument`);
    const missing = await docker(['run', '--rm', '-v', 'gone:/b', 'busybox', 'true']);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain(
      `failed to mount local volume: mount ${join(engine.dir, 'missing')}:${join(engine.root, 'volumes', 'gone', '_data')}, flags: 0x1000: no such file or directory`,
    );
    expect(await ok(['ps', '-aq'])).toBe('');
    // --mount volume-opt makes the volume with those options
    expect(
      await ok([
        'run',
        '--rm',
        '--mount',
        'type=volume,src=viaopt,dst=/v,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-opt=o=size=2m',
        'busybox',
        'sh',
        '-c',
        'grep " /v " /proc/mounts | grep -c size=2048k',
      ]),
    ).toBe('1\n');
    expect(JSON.parse(await ok(['volume', 'inspect', 'viaopt']))[0].Options).toEqual({ type: 'tmpfs', device: 'tmpfs', o: 'size=2m' });
    await ok(['volume', 'rm', 'badv', 'gone', 'viaopt']);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(join(engine.root, 'volumes'));
  });
});
