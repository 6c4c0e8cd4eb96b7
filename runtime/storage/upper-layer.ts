// An overlay upper dir as an OCI layer tar: what a container (or a build step) changed, overlay's
// whiteouts and opaque dirs turned back into `.wh.` entries. docker commit and the builder write it.
import { createHash } from 'node:crypto';
import { constants, createWriteStream, type Stats } from 'node:fs';
import { open, readdir, readlink, type FileHandle } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { pipeline } from 'node:stream/promises';
import { Readable, Transform } from 'node:stream';
import tar from 'tar-stream';
import { opaqueXattr } from './rootless-overlay.js';
import { lstatIfThere, openChildDirIfThere, openRoot, type RootedFd } from '../util/in-root.js';

const run = promisify(execFile);

/** Runtime-made mount points in the upper dir: not part of what the container changed. */
export const MOUNT_POINTS = new Set(['etc/hosts', 'etc/hostname', 'etc/resolv.conf']);

/**
 * Owners as a layer (or an export) records them, from the engine's namespace ids: a rootless container
 * in a user namespace of its own writes what it sees (rootless/mapped-layer.ts).
 */
export interface OwnerMap {
  uid(id: number): number;
  gid(id: number): number;
  /** How many ids (0..n-1) the engine's namespace has: those the map may change. */
  ids: { uid: number; gid: number };
}

/** Whether an upper-dir directory hides what is below it; `dir` may be a descriptor's /proc path (followed). */
export async function isOpaque(dir: string): Promise<boolean> {
  const { stdout } = await run('getfattr', ['--absolute-names', '--only-values', '-n', opaqueXattr(), dir]).catch(() => ({ stdout: '' }));
  return stdout.trim() === 'y';
}

/**
 * Writes the upper dir as an OCI layer tar (overlay whiteouts back to `.wh.` entries); returns its diff ID.
 * The container may be running (commit without pause, a build step): the walk goes through descriptors,
 * and each file is opened O_NOFOLLOW and described by what was opened, so a name swapped for a symlink
 * is never followed out of the upper dir (util/in-root.ts). `owners`: how each file's owner is recorded
 * (as stored without).
 */
export async function writeUpperAsLayer(upper: string, out: string, owners?: OwnerMap): Promise<{ diffId: string }> {
  const pack = tar.pack();
  const hash = createHash('sha256');
  const measure = new Transform({
    transform(chunk: Buffer, _e, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const written = pipeline(pack, measure, createWriteStream(out));
  const inodes = new Map<number, string>();
  const entry = (header: Parameters<tar.Pack['entry']>[0], body?: Buffer) =>
    new Promise<void>((resolve, reject) => pack.entry(header, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve())));
  const walk = async (dir: RootedFd, rel: string): Promise<void> => {
    for (const name of (await readdir(dir.self)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const st = await lstatIfThere(dir.child(name));
      if (!st) continue; // gone meanwhile
      const header = (s: Stats) => ({
        uid: owners ? owners.uid(s.uid) : s.uid,
        gid: owners ? owners.gid(s.gid) : s.gid,
        mode: s.mode & 0o7777,
        mtime: s.mtime,
      });
      if (st.isCharacterDevice() && st.rdev === 0) {
        await entry({ name: rel ? `${rel}/.wh.${name}` : `.wh.${name}`, ...header(st), mode: 0o644 });
      } else if (st.isDirectory()) {
        const sub = openChildDirIfThere(dir, name);
        if (!sub) continue; // no longer a directory
        try {
          const dst = sub.stat();
          await entry({ name: `${path}/`, type: 'directory', ...header(dst) });
          if (await isOpaque(sub.forChild)) await entry({ name: `${path}/.wh..wh..opq`, ...header(dst), mode: 0o644 });
          await walk(sub, path);
        } finally {
          sub.close();
        }
      } else if (st.isSymbolicLink()) {
        const target = await readlink(dir.child(name)).catch(() => undefined);
        if (target !== undefined) await entry({ name: path, type: 'symlink', linkname: target, ...header(st) });
      } else if (st.isFile()) {
        const file = await open(dir.child(name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => undefined);
        if (!file) continue; // gone, or a symlink now
        try {
          const fst = await file.stat();
          if (!fst.isFile()) continue;
          if (MOUNT_POINTS.has(path) && fst.size === 0) continue;
          const first = inodes.get(fst.ino);
          if (first && fst.nlink > 1) {
            await entry({ name: path, type: 'link', linkname: first, ...header(fst) });
            continue;
          }
          inodes.set(fst.ino, path);
          await new Promise<void>((resolve, reject) => {
            const sink = pack.entry({ name: path, size: fst.size, ...header(fst) }, (err) => (err ? reject(err) : resolve()));
            Readable.from(readExactly(file, fst.size)).on('error', reject).pipe(sink);
          });
        } finally {
          await file.close();
        }
      } else if (st.isFIFO()) {
        await entry({ name: path, type: 'fifo', ...header(st) });
      }
    }
  };
  const top = openRoot(upper);
  try {
    await walk(top, '');
  } finally {
    top.close();
  }
  pack.finalize();
  await written;
  return { diffId: 'sha256:' + hash.digest('hex') };
}

/** `size` bytes of a file the container may be writing to: cut at size, zero-padded if it shrank. */
async function* readExactly(file: FileHandle, size: number): AsyncGenerator<Buffer> {
  let position = 0;
  while (position < size) {
    const buffer = Buffer.alloc(Math.min(size - position, 1 << 16));
    const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) {
      yield Buffer.alloc(size - position);
      return;
    }
    position += bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
}
