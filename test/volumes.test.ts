// Named local volumes through the docker CLI: create, list, inspect, use from containers, in-use
// refusals, removal and prune.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { suiteEngine } from './helpers/suite.js';
import { cliOf } from './helpers/cli.js';

const images = inject('images');
const engine = suiteEngine({ load: [images.busybox.archive, images.layered.archive] });

const { docker, ok } = cliOf(() => engine);

describe('docker volume', () => {
  it('creates, lists, inspects, and keeps data across containers', async () => {
    expect((await ok(['volume', 'create', '--label', 'team=a', 'data'])).trim()).toBe('data');
    const v = JSON.parse(await ok(['volume', 'inspect', 'data']))[0];
    expect(v).toMatchObject({ Name: 'data', Driver: 'local', Labels: { team: 'a' }, Scope: 'local', Mountpoint: join(engine.root, 'volumes', 'data', '_data') });
    expect(await ok(['volume', 'ls', '-q'])).toBe('data\n');
    await ok(['run', '--rm', '-v', 'data:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f']);
    expect(await ok(['run', '--rm', '-v', 'data:/data:ro', 'busybox', 'cat', '/data/f'])).toBe('kept\n');
    const ro = await docker(['run', '--rm', '-v', 'data:/data:ro', 'busybox', 'touch', '/data/g']);
    expect(ro.code).not.toBe(0);
    // a volume a container names is made at create, as dockerd does
    await ok(['create', '--name', 'user', '-v', 'auto:/x', 'busybox', 'true']);
    expect((await ok(['volume', 'ls', '-q'])).split('\n').filter(Boolean).sort()).toEqual(['auto', 'data']);
    const mounts = JSON.parse(await ok(['inspect', '-f', '{{json .Mounts}}', 'user']));
    expect(mounts).toEqual([{ Type: 'volume', Name: 'auto', Source: join(engine.root, 'volumes', 'auto', '_data'), Destination: '/x', Driver: 'local', Mode: 'z', RW: true, Propagation: '' }]);
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
    await ok(['volume', 'prune', '-a', '-f']);
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
    const out = await ok(['run', '--name', 'mounter', '--mount', 'type=volume,src=mv,dst=/mv', '--mount', `type=bind,src=${dir},dst=/h,readonly`,
      '--mount', 'type=tmpfs,dst=/t,tmpfs-size=1048576', 'busybox', 'sh', '-c', 'echo vol > /mv/f; cat /h/h.txt; touch /h/x 2>/dev/null || echo ro; grep " /t " /proc/mounts | grep -c size=1024k']);
    expect(out).toBe('host\nro\n1\n');
    expect(await ok(['run', '--rm', '--volumes-from', 'mounter:ro', 'busybox', 'sh', '-c', 'cat /mv/f; cat /h/h.txt; touch /mv/z 2>/dev/null || echo ro'])).toBe('vol\nhost\nro\n');
    const mounts = JSON.parse(await ok(['inspect', '-f', '{{json .Mounts}}', 'mounter']));
    expect(mounts.map((m: { Type: string; Destination: string }) => `${m.Type} ${m.Destination}`)).toEqual(['volume /mv', 'bind /h', 'tmpfs /t']);
    await ok(['rm', 'mounter']);
    await ok(['volume', 'rm', 'mv']);
    const bad = await engine.http('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { Mounts: [{ Type: 'nope', Target: '/x' }] } });
    expect(bad.status).toBe(400);
  });
});
