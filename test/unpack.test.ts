// Layer unpacking against tars built in memory: metadata, links, whiteouts, xattrs, and the escapes it must refuse.
// Runs as root on Linux (chown, mknod, trusted.* xattrs).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { promisify } from 'node:util';
import tar from 'tar-stream';
import { unpackLayer, UnsafeArchiveError } from '../runtime/storage/unpack.js';

const exec = promisify(execFile);

type Entry = Parameters<tar.Pack['entry']>[0] & { data?: string };

async function makeTar(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const { data, ...header } of entries) {
    if (data === undefined) pack.entry(header);
    else pack.entry(header, data);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const getfattr = async (name: string, path: string) => (await exec('getfattr', ['-h', '-n', name, '--only-values', path])).stdout;

let base: string; // tmpdir, or /var/tmp where tmpfs lacks user xattrs
const dirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(base, 'berth-unpack-'));
  dirs.push(dir);
  return dir;
};
/** A target inside its own temp dir, so escapes land somewhere the test can see (and clean up). */
const nestedTarget = async () => {
  const parent = await tempDir();
  await mkdir(join(parent, 'diff'));
  return { parent, target: join(parent, 'diff') };
};
const unpack = async (entries: Entry[], target?: string) => {
  const dir = target ?? (await tempDir());
  const result = await unpackLayer(Readable.from([await makeTar(entries)]), dir);
  return { dir, result };
};

beforeAll(async () => {
  base = tmpdir();
  const probe = await mkdtemp(join(base, 'berth-xattr-'));
  try {
    await exec('setfattr', ['-n', 'user.probe', '-v', '1', probe]);
  } catch {
    base = '/var/tmp';
  } finally {
    await rm(probe, { recursive: true, force: true });
  }
});
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
afterAll(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const T1 = new Date('2020-01-02T03:04:05Z');
const T2 = new Date('2021-06-07T08:09:10Z');

describe('unpackLayer', () => {
  it('writes files and directories with content, owner, mode and mtime', async () => {
    const { dir, result } = await unpack([
      { name: './', type: 'directory', mode: 0o755, mtime: T2 },
      { name: './data/', type: 'directory', mode: 0o750, uid: 1000, gid: 1000, mtime: T1 },
      { name: './data/a.txt', data: 'hello', mode: 0o644, uid: 1000, gid: 1000, mtime: T1 },
      { name: 'bin/su', data: 'binary!', mode: 0o4755, mtime: T2 },
      { name: '/abs/sticky/', type: 'directory', mode: 0o1777 },
    ]);
    expect(result.size).toBe(5 + 7);
    expect(await readFile(join(dir, 'data/a.txt'), 'utf8')).toBe('hello');

    const a = await lstat(join(dir, 'data/a.txt'));
    expect([a.uid, a.gid, a.mode & 0o7777, a.mtime.getTime()]).toEqual([1000, 1000, 0o644, T1.getTime()]);
    const su = await lstat(join(dir, 'bin/su'));
    expect([su.uid, su.gid, su.mode & 0o7777]).toEqual([0, 0, 0o4755]);

    // Directory mtimes survive the children created after them.
    const data = await lstat(join(dir, 'data'));
    expect(data.isDirectory()).toBe(true);
    expect([data.uid, data.gid, data.mode & 0o7777, data.mtime.getTime()]).toEqual([1000, 1000, 0o750, T1.getTime()]);
    expect((await lstat(dir)).mtime.getTime()).toBe(T2.getTime());

    // Parents missing from the tar are created root-owned 0755; a leading / stays inside the target.
    const bin = await lstat(join(dir, 'bin'));
    expect([bin.isDirectory(), bin.uid, bin.mode & 0o7777]).toEqual([true, 0, 0o755]);
    expect((await lstat(join(dir, 'abs/sticky'))).mode & 0o7777).toBe(0o1777);
    expect((await readdir(dir)).sort()).toEqual(['abs', 'bin', 'data']);
  });

  it('applies the root entry to the target itself', async () => {
    const target = await tempDir();
    await unpack([{ name: '.', type: 'directory', mode: 0o711, uid: 7, gid: 8, mtime: T1 }], target);
    const st = await lstat(target);
    expect([st.mode & 0o7777, st.uid, st.gid, st.mtime.getTime()]).toEqual([0o711, 7, 8, T1.getTime()]);
  });

  it('keeps symlinks as they are, dangling ones too, with their owner', async () => {
    const { dir, result } = await unpack([
      { name: 'data/a.txt', data: 'x' },
      { name: 'data/link', type: 'symlink', linkname: '/data/a.txt', uid: 1000, gid: 1000, mtime: T1 },
      { name: 'data/rel', type: 'symlink', linkname: 'a.txt' },
    ]);
    const link = await lstat(join(dir, 'data/link'));
    expect(link.isSymbolicLink()).toBe(true);
    expect([link.uid, link.gid, link.mtime.getTime()]).toEqual([1000, 1000, T1.getTime()]);
    expect(await readlink(join(dir, 'data/link'))).toBe('/data/a.txt');
    expect(await readFile(join(dir, 'data/rel'), 'utf8')).toBe('x');
    // Docker's layer size counts symlinks by their lstat size, the length of the target.
    expect(result.size).toBe(1 + '/data/a.txt'.length + 'a.txt'.length);
  });

  it('makes hard links to the same inode', async () => {
    const { dir, result } = await unpack([
      { name: 'data/a.txt', data: 'shared', mode: 0o600 },
      { name: 'other/b.txt', type: 'link', linkname: './data/a.txt' },
    ]);
    const [a, b] = await Promise.all([lstat(join(dir, 'data/a.txt')), lstat(join(dir, 'other/b.txt'))]);
    expect(b.ino).toBe(a.ino);
    expect(a.nlink).toBe(2);
    expect(result.size).toBe(6);
  });

  it('creates fifos and device nodes', async () => {
    const { dir } = await unpack([
      { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
      { name: 'run/pipe', type: 'fifo', mode: 0o620 },
    ]);
    const dev = await lstat(join(dir, 'dev/null'));
    expect([dev.isCharacterDevice(), dev.rdev, dev.mode & 0o7777]).toEqual([true, (1 << 8) | 3, 0o666]);
    const fifo = await lstat(join(dir, 'run/pipe'));
    expect([fifo.isFIFO(), fifo.mode & 0o7777]).toEqual([true, 0o620]);
  });

  it('turns OCI whiteouts into overlayfs whiteouts', async () => {
    const { dir } = await unpack([
      { name: 'data/', type: 'directory' },
      { name: 'data/.wh.a.txt', data: '' },
      { name: 'gone/.wh..wh..opq', data: '' },
      { name: 'data/.wh..wh.plnk', data: '' },
    ]);
    const wh = await lstat(join(dir, 'data/a.txt'));
    expect([wh.isCharacterDevice(), wh.rdev]).toEqual([true, 0]);
    expect(await readdir(join(dir, 'data'))).toEqual(['a.txt']);
    expect(await getfattr('trusted.overlay.opaque', join(dir, 'gone'))).toBe('y');
    expect(await readdir(join(dir, 'gone'))).toEqual([]);
  });

  it('sets xattrs from PAX headers', async () => {
    const { dir } = await unpack([
      { name: 'f', data: 'x', pax: { 'SCHILY.xattr.user.foo': 'bar' } },
      { name: 'd/', type: 'directory', pax: { 'SCHILY.xattr.user.dir': 'yes' } },
    ]);
    expect(await getfattr('user.foo', join(dir, 'f'))).toBe('bar');
    expect(await getfattr('user.dir', join(dir, 'd'))).toBe('yes');
  });

  it('replaces what a later entry overwrites without following symlinks', async () => {
    const outside = await tempDir();
    await writeFile(join(outside, 'victim'), 'original');
    const { dir } = await unpack([
      { name: 'f', type: 'symlink', linkname: join(outside, 'victim') },
      { name: 'f', data: 'new' },
      { name: 'd/old', data: 'old' },
      { name: 'd', type: 'symlink', linkname: '/nowhere' },
      { name: 'e/', type: 'directory', mode: 0o700 },
      { name: 'e/keep', data: 'k' },
      { name: 'e/', type: 'directory', mode: 0o755 },
    ]);
    expect(await readFile(join(outside, 'victim'), 'utf8')).toBe('original');
    expect((await lstat(join(dir, 'f'))).isFile()).toBe(true);
    expect(await readFile(join(dir, 'f'), 'utf8')).toBe('new');
    expect(await readlink(join(dir, 'd'))).toBe('/nowhere');
    expect(await readdir(join(dir, 'e'))).toEqual(['keep']); // directories merge
    expect((await stat(join(dir, 'e'))).mode & 0o7777).toBe(0o755);
  });

  describe('rejects', () => {
    const rejects = async (entries: Entry[], message: string, target?: string) => {
      const err = await unpack(entries, target).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnsafeArchiveError);
      expect((err as Error).message).toBe(message);
    };

    it('paths with ..', async () => {
      const { parent, target } = await nestedTarget();
      await rejects([{ name: '../evil', data: 'x' }], 'unsafe path in layer: "../evil"', target);
      await rejects([{ name: 'a/../../evil', data: 'x' }], 'unsafe path in layer: "a/../../evil"', target);
      expect(await readdir(parent)).toEqual(['diff']);
    });

    it('writing through a symlink', async () => {
      const outside = await tempDir();
      await rejects(
        [
          { name: 'lnk', type: 'symlink', linkname: outside },
          { name: 'lnk/x', data: 'pwned' },
        ],
        'path through symlink "lnk" in layer: "lnk/x"',
      );
      await expect(lstat(join(outside, 'x'))).rejects.toMatchObject({ code: 'ENOENT' });
      // Whiteouts and hard links take the same check.
      await rejects(
        [
          { name: 'lnk', type: 'symlink', linkname: outside },
          { name: 'lnk/.wh.x', data: '' },
        ],
        'path through symlink "lnk" in layer: "lnk/.wh.x"',
      );
      await expect(lstat(join(outside, 'x'))).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('hard links out of the layer or to missing files', async () => {
      await rejects([{ name: 'passwd', type: 'link', linkname: '../../etc/passwd' }], 'unsafe hard link to "../../etc/passwd" in layer: "passwd"');
      await rejects([{ name: 'passwd', type: 'link', linkname: '/etc/passwd' }], 'hard link to missing file "/etc/passwd" in layer: "passwd"');
      await rejects(
        [
          { name: 'etc', type: 'symlink', linkname: '/etc' },
          { name: 'passwd', type: 'link', linkname: 'etc/passwd' },
        ],
        'path through symlink "etc" in layer: "passwd"',
      );
    });

    it('a truncated tar', async () => {
      const whole = await makeTar([{ name: 'big', data: 'z'.repeat(10_000) }]);
      const target = await tempDir();
      await expect(unpackLayer(Readable.from([whole.subarray(0, 512 + 4096)]), target)).rejects.toThrow('Unexpected end of data');
    });

    it('without leaving the input stream open', async () => {
      // The input never ends: the unpack must still settle, and release the input.
      const input = new PassThrough();
      input.write(await makeTar([{ name: '../evil', data: 'x' }]));
      await expect(unpackLayer(input, (await nestedTarget()).target)).rejects.toBeInstanceOf(UnsafeArchiveError);
      expect(input.destroyed).toBe(true);
    });

    it('when the input stream fails', async () => {
      const input = new PassThrough();
      const tarball = await makeTar([{ name: 'big', data: 'z'.repeat(10_000) }]);
      input.write(tarball.subarray(0, 2048));
      setTimeout(() => input.destroy(new Error('disk on fire')), 10);
      await expect(unpackLayer(input, await tempDir())).rejects.toThrow('disk on fire');
    });
  });
});

it('leaves a failed target for the caller to delete, with nothing outside it', async () => {
  const { parent, target } = await nestedTarget();
  await expect(
    unpack(
      [
        { name: 'ok', data: 'fine' },
        { name: '../sibling', data: 'x' },
      ],
      target,
    ),
  ).rejects.toBeInstanceOf(UnsafeArchiveError);
  expect(await readdir(parent)).toEqual(['diff']);
});
