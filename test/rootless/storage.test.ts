// A rootless engine's storage: layers unpacked in the user namespace (owners shifted into the subuid
// range, devices skipped, an owner outside the range a clear error), overlay mounted with userxattr so a
// lower directory deleted and made again works and commits as opaque, and removal of it all.
import { lstat, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { chunkOf } from '../helpers/archive.js';
import { run } from '../helpers/engine.js';
import { RootlessEngine, RootlessUser } from '../helpers/rootless.js';

let user: RootlessUser;
let engine: RootlessEngine;

beforeAll(async () => {
  user = await RootlessUser.create('rlstore');
  engine = await RootlessEngine.start(user);
  await engine.load(inject('images').busybox.archive);
});

afterAll(async () => {
  await engine?.destroy();
  await user?.destroy();
});

/** A layer tar made here (tar-stream: no root needed to describe devices or foreign owners). */
async function layerTar(entries: (Partial<tar.Header> & { name: string })[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c) => chunks.push(chunkOf(c)));
  const done = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const e of entries) {
    const body = (e.type ?? 'file') === 'file' ? 'data\n' : '';
    await new Promise<void>((resolve, reject) =>
      pack.entry({ mode: 0o644, uid: 0, gid: 0, mtime: new Date(0), ...e }, body, (err) => (err ? reject(err) : resolve())),
    );
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** The layer dirs of the user's root. */
const layerDirs = async () => (await readdir(join(engine.root, 'layers')).catch(() => [] as string[])).map((l) => join(engine.root, 'layers', l, 'diff'));

describe('rootless storage', () => {
  it('runs busybox as root of the user namespace', async () => {
    expect((await engine.ok(['run', '--rm', '--network', 'none', 'busybox', 'id'])).trim()).toBe('uid=0(root) gid=0(root) groups=0(root)');
  });

  it('gives files made by container root to the user on the host, and uid 1000 to subuid start + 999', async () => {
    const dir = join(user.home, 'shared');
    await user.run('mkdir', [dir]);
    await engine.ok([
      'run',
      '--rm',
      '--network',
      'none',
      '-v',
      `${dir}:/b`,
      'busybox',
      'sh',
      '-c',
      'touch /b/by-root && touch /b/by-1000 && chown 1000:1000 /b/by-1000',
    ]);
    await engine.ok(['run', '--rm', '--network', 'none', '-u', '1000', '-v', `${dir}:/b`, 'busybox', 'sh', '-c', 'mkdir /tmp/x && echo $(id -u) > /tmp/x/f']);
    const root = await stat(join(dir, 'by-root'));
    expect({ uid: root.uid, gid: root.gid }).toEqual({ uid: user.uid, gid: user.gid });
    const other = await stat(join(dir, 'by-1000'));
    expect({ uid: other.uid, gid: other.gid }).toEqual({ uid: user.subuid.start + 999, gid: user.subuid.start + 999 });
    // A container user other than root cannot write into the user's own directory (owned by ns uid 0).
    const r = await engine.docker(['run', '--rm', '--network', 'none', '-u', '1000', '-v', `${dir}:/b`, 'busybox', 'touch', '/b/denied']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Permission denied');
  });

  it('deletes a lower directory and makes it again (overlay with userxattr), and commits that as an opaque directory', async () => {
    await engine.ok([
      'run',
      '--name',
      'base',
      '--network',
      'none',
      'busybox',
      'sh',
      '-c',
      'mkdir -p /data/a/b && echo x > /data/a/b/f && echo y > /data/top && mkfifo /data/fifo',
    ]);
    await engine.ok(['commit', 'base', 'rl-base']);
    const out = await engine.ok([
      'run',
      '--name',
      'redo',
      '--network',
      'none',
      'rl-base',
      'sh',
      '-c',
      'test -p /data/fifo && rm -rf /data && mkdir /data && echo new > /data/n && ls -A /data',
    ]);
    expect(out.trim()).toBe('n');
    // The upper dir marks it opaque in the user xattr namespace (trusted.* is the host root's).
    const id = (await engine.ok(['inspect', '-f', '{{.Id}}', 'redo'])).trim();
    const xattr = await run('getfattr', ['--only-values', '-n', 'user.overlay.opaque', join(engine.root, 'containers', id, 'diff', 'data')]);
    expect(xattr.stdout).toBe('y');
    await engine.ok(['commit', 'redo', 'rl-redone']);
    expect((await engine.ok(['run', '--rm', '--network', 'none', 'rl-redone', 'sh', '-c', 'ls -A /data; cat /data/n'])).trim()).toBe('n\nnew');
    expect((await engine.ok(['run', '--rm', '--network', 'none', 'rl-base', 'cat', '/data/a/b/f'])).trim()).toBe('x');
  });

  it('unpacks a layer in the namespace: owners shifted, FIFOs kept, device nodes skipped (mknod is refused there)', async () => {
    const layer = await layerTar([
      { name: 'dev/', type: 'directory', mode: 0o755 },
      { name: 'dev/null2', type: 'character-device', devmajor: 1, devminor: 3 },
      { name: 'dev/loop9', type: 'block-device', devmajor: 7, devminor: 9 },
      { name: 'pipe', type: 'fifo' },
      { name: 'owned', uid: 33, gid: 33 },
    ]);
    const id = (await engine.ok(['import', '-', 'rl-devices'], { input: layer })).trim();
    expect(id).toMatch(/^sha256:/);
    const dirs = await layerDirs();
    const diff = (
      await Promise.all(
        dirs.map(async (d) =>
          (await lstat(join(d, 'pipe')).then(
            () => true,
            () => false,
          ))
            ? d
            : undefined,
        ),
      )
    ).find(Boolean)!;
    expect(diff).toBeDefined();
    expect((await lstat(join(diff, 'pipe'))).isFIFO()).toBe(true);
    expect(await readdir(join(diff, 'dev'))).toEqual([]);
    const owned = await lstat(join(diff, 'owned'));
    expect({ uid: owned.uid, gid: owned.gid }).toEqual({ uid: user.subuid.start + 32, gid: user.subuid.start + 32 });
    await engine.ok(['rmi', 'rl-devices']);
  });

  it('says which owner of which file is outside the user’s subuid range', async () => {
    const layer = await layerTar([{ name: 'far', uid: 70000, gid: 70001 }]);
    const r = await engine.docker(['import', '-', 'rl-far'], { input: layer });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'potentially insufficient UIDs or GIDs available in user namespace (requested 70000:70001 for /far): Check /etc/subuid and /etc/subgid',
    );
    expect(r.stderr).toContain('uids 0-65536');
  });

  it('mounts podman’s overlay volumes (-v src:dst:O) in the namespace and keeps the host directory as it was', async () => {
    const dir = join(user.home, 'lower');
    await user.run('sh', ['-c', `mkdir -p ${dir}/sub && echo host > ${dir}/sub/f`]);
    const r = await engine.podman([
      'run',
      '--rm',
      '--network',
      'none',
      '-v',
      `${dir}:/o:O`,
      'busybox',
      'sh',
      '-c',
      'rm -rf /o/sub && mkdir /o/sub && ls -A /o/sub && echo done',
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('done');
    expect((await run('cat', [join(dir, 'sub', 'f')])).stdout).toBe('host\n');
  });

  it('does the same through podman --remote: run, delete and remake a lower dir, commit, rm, rmi', async () => {
    const pod = async (args: string[]) => {
      const r = await engine.podman(args);
      if (r.code !== 0) throw new Error(`podman ${args.join(' ')}: ${r.stderr}`);
      return r.stdout.trim();
    };
    await pod(['run', '--name', 'pc1', '--network', 'none', 'busybox', 'sh', '-c', 'mkdir -p /srv/a && echo 1 > /srv/a/f']);
    await pod(['commit', 'pc1', 'pimg1']);
    expect(await pod(['run', '--name', 'pc2', '--network', 'none', 'pimg1', 'sh', '-c', 'rm -rf /srv && mkdir /srv && ls -A /srv && echo ok'])).toBe('ok');
    await pod(['commit', 'pc2', 'pimg2']);
    expect(await pod(['run', '--rm', '--network', 'none', 'pimg2', 'ls', '-A', '/srv'])).toBe('');
    expect(await pod(['run', '--rm', '--network', 'none', 'pimg1', 'cat', '/srv/a/f'])).toBe('1');
    await pod(['rm', 'pc1', 'pc2']);
    await pod(['rmi', 'pimg2', 'pimg1']);
  });

  it('removes containers, images and their layers (rm, rmi, system prune)', async () => {
    await engine.ok(['rm', 'base', 'redo']);
    await engine.ok(['rmi', 'rl-redone', 'rl-base']);
    await engine.ok(['run', '--name', 'left', '--network', 'none', 'busybox', 'sh', '-c', 'echo x > /x']);
    await engine.ok(['system', 'prune', '-af']);
    expect((await engine.ok(['ps', '-aq'])).trim()).toBe('');
    expect((await engine.ok(['images', '-q'])).trim()).toBe('');
    expect(await readdir(join(engine.root, 'containers'))).toEqual([]);
    expect(await layerDirs()).toEqual([]);
    // Loads again after that.
    await engine.load(inject('images').busybox.archive);
    expect((await engine.ok(['run', '--rm', '--network', 'none', 'busybox', 'echo', 'again'])).trim()).toBe('again');
  });
});
