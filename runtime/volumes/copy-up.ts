// Copy-up: an empty volume first mounted over a directory of the image gets that directory's content
// (owners, modes, times, links), as dockerd does. Both sides are containers': the source is in the
// rootfs, and another container that shares the volume may be changing it while we copy (a name made a
// symlink to /etc just before we write to it). So nothing here is used by name but one component in a
// pinned directory, nothing existing is written through or over, and every new object is checked to be
// what we made before its owner, mode or times are set through its descriptor.
import { constants, fstatSync, openSync, type Stats } from 'node:fs';
import { chmod, chown, copyFile, lchown, link, lutimes, mkdir, readdir, readlink, symlink, utimes } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { isErrno, openInRoot, openParentInRoot, openRoot, RootedFd } from '../util/in-root.js';

const O_PATH = 0o10000000;
const run = promisify(execFile);

/**
 * Copies `dir` of `rootfs` into `volume` if the volume is empty; true if it did. An empty directory
 * copies too: the volume's root takes its owner, mode and times, as dockerd's copyOwnership does. Opening a descriptor is a syscall that does not wait; what may (reading, copying) is async.
 */
export async function copyUp(rootfs: string, dir: string, volume: string): Promise<boolean> {
  let src: RootedFd;
  try {
    src = openInRoot(rootfs, dir);
  } catch {
    return false; // not in the image: nothing to copy
  }
  const dst = openRoot(volume);
  try {
    if (!src.stat().isDirectory()) return false;
    if ((await readdir(dst.self)).length > 0) return false;
    const walk: Walk = { root: dst, links: new Map(), xattrs: await xattrsUnder(src) };
    await copyDir(src, dst, walk, '');
    await setAttributes(dst, src.stat(), walk.xattrs.get('')); // the volume takes the directory's owner, mode and times too
    return true;
  } finally {
    src.close();
    dst.close();
  }
}

interface Walk {
  root: RootedFd;
  /** Hard links: the first copy of each inode (device:inode), by its path in the volume. */
  links: Map<string, string>;
  /** Extended attributes of the source's entries (getfattr's `name=0s<base64>`), by path ('' the top). */
  xattrs: Map<string, string[]>;
}

/**
 * The xattrs under a directory of the rootfs (file capabilities, say): Node has no xattr calls. One
 * getfattr for the whole tree; the rootfs is not raced (its container is not running yet).
 */
async function xattrsUnder(src: RootedFd): Promise<Map<string, string[]>> {
  const base = `${src.forChild}/.`;
  const out = new Map<string, string[]>();
  const { stdout } = await run('getfattr', ['-R', '-P', '-d', '-m', '-', '-e', 'base64', '--absolute-names', base], { maxBuffer: 64 << 20 }).catch(
    (err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }),
  ); // exit 1 for an entry it could not read: keep the rest
  let current: string[] | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('# file: ')) {
      const name = line.slice('# file: '.length);
      const rel = name === base ? '' : name.startsWith(`${base}/`) ? name.slice(base.length + 1) : undefined;
      current = rel === undefined ? undefined : [];
      if (current) out.set(rel!, current);
    } else if (current && line.includes('=') && !line.startsWith('trusted.overlay.')) {
      current.push(line);
    }
  }
  return out;
}

async function copyDir(src: RootedFd, dst: RootedFd, walk: Walk, at: string): Promise<void> {
  for (const name of await readdir(src.self)) {
    const from = open(src.child(name));
    try {
      await copyEntry(src, from, dst, name, walk, at ? `${at}/${name}` : name);
    } finally {
      from.close();
    }
  }
}

async function copyEntry(srcDir: RootedFd, from: RootedFd, dst: RootedFd, name: string, walk: Walk, path: string): Promise<void> {
  const st = from.stat();
  const target = dst.child(name);
  if (!st.isDirectory() && st.nlink > 1) {
    const ids = fstatSync(from.fd, { bigint: true });
    const key = `${ids.dev}:${ids.ino}`;
    const first = walk.links.get(key);
    if (first !== undefined) {
      const { dir, name: firstName } = openParentInRoot(walk.root, first);
      try {
        // link(2) never follows the old name: at worst it links what is there now, inside the volume.
        return void (await ignoreExisting(() => link(dir.child(firstName), target)));
      } finally {
        dir.close();
      }
    }
    walk.links.set(key, path);
  }
  if (st.isSymbolicLink()) {
    const linked = await readlink(srcDir.child(name));
    if (!(await ignoreExisting(() => symlink(linked, target)))) return;
    // By name in the pinned directory, never following: at worst it changes a symlink of the volume's.
    await lchown(target, st.uid, st.gid);
    await lutimes(target, st.atime, st.mtime);
    return;
  }
  if (st.isDirectory()) {
    if (!(await ignoreExisting(() => mkdir(target, { mode: 0o700 })))) return;
    const made = madeAs(target, st);
    if (!made) return;
    try {
      await copyDir(from, made, walk, path);
      await setAttributes(made, st, walk.xattrs.get(path)); // after the content: its times stay
    } finally {
      made.close();
    }
    return;
  }
  if (st.isFile()) {
    // COPYFILE_EXCL: O_CREAT|O_EXCL, which fails on anything there, a symlink too.
    if (!(await ignoreExisting(() => copyFile(from.self, target, constants.COPYFILE_EXCL)))) return;
  } else {
    const kind = st.isFIFO() ? ['p'] : st.isCharacterDevice() ? ['c'] : st.isBlockDevice() ? ['b'] : undefined;
    if (!kind) return; // a socket: nothing to copy
    if (kind[0] !== 'p') kind.push(String(major(st.rdev)), String(minor(st.rdev)));
    // mknod(2) does not follow the last name either; the child process reaches our pinned directory.
    try {
      await run('mknod', ['-m', '600', `${dst.forChild}/${name}`, ...kind]);
    } catch {
      return; // existing, or refused: skipped, as an existing file is
    }
  }
  const made = madeAs(target, st);
  if (!made) return;
  try {
    await setAttributes(made, st, walk.xattrs.get(path));
  } finally {
    made.close();
  }
}

/** What we just made at `target`, pinned, if it is still of the kind we made (not swapped meanwhile). */
function madeAs(target: string, st: Stats): RootedFd | undefined {
  let fd: RootedFd;
  try {
    fd = open(target);
  } catch {
    return undefined;
  }
  if ((fd.stat().mode & constants.S_IFMT) === (st.mode & constants.S_IFMT)) return fd;
  fd.close();
  return undefined;
}

/**
 * Owner, mode and xattrs (after the owner: chown clears set-id bits and file capabilities), then times,
 * through the descriptor (setfattr follows /proc/<pid>/fd/N to the object itself).
 */
async function setAttributes(fd: RootedFd, st: Stats, xattrs: string[] = []): Promise<void> {
  await chown(fd.self, st.uid, st.gid);
  await chmod(fd.self, st.mode & 0o7777);
  for (const attr of xattrs) {
    const at = attr.indexOf('=');
    await run('setfattr', ['-n', attr.slice(0, at), '-v', attr.slice(at + 1), fd.forChild]).catch(() => undefined); // as cp -a: best effort
  }
  await utimes(fd.self, st.atime, st.mtime);
}

const open = (path: string) => new RootedFd(openSync(path, O_PATH | constants.O_NOFOLLOW), path);

/** Runs a create; false when something is there already (left alone, never replaced). */
async function ignoreExisting(create: () => Promise<unknown>): Promise<boolean> {
  try {
    await create();
    return true;
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return false;
    throw err;
  }
}

const major = (dev: number) => Number(((BigInt(dev) >> 8n) & 0xfffn) | ((BigInt(dev) >> 32n) & ~0xfffn));
const minor = (dev: number) => Number((BigInt(dev) & 0xffn) | ((BigInt(dev) >> 12n) & ~0xffn));
