// Race-free paths inside a root a container controls (its rootfs, a volume). A container's processes
// can swap any directory for a symlink at any moment, so a path checked and then used by name can lead
// out of the root. Here every step is an O_PATH file descriptor: each component is opened relative to
// the descriptor of its parent (through /proc/self/fd, Node having no openat) without following it,
// symlinks are read and resolved by us (absolute ones from the root, `..` never above it), and what
// the caller gets is a descriptor of the object itself, which no later rename can redirect.
import { closeSync, lstatSync, constants, fchmodSync, fchownSync, fstatSync, mkdirSync, openSync, readlinkSync, type Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { posix } from 'node:path';
import { EngineError } from '../errors.js';

// Not in fs.constants: open the object for path operations only (never blocks, opens a symlink itself
// with O_NOFOLLOW, needs no read permission).
export const O_PATH = 0o10000000;
const MAX_HOPS = 40;

/** An O_PATH descriptor of a file or directory inside a root. Close it when done. */
export class RootedFd {
  private closed = false;
  constructor(
    readonly fd: number,
    /** its path inside the root, for messages */ readonly path: string,
  ) {}

  /** A path naming this object itself, for this process (fs calls): the kernel follows the fd, not a name. */
  get self(): string {
    return `/proc/self/fd/${this.fd}`;
  }

  /** The same for another process (a child's cwd, mount(8) --no-canonicalize, tar -C). */
  get forChild(): string {
    return `/proc/${process.pid}/fd/${this.fd}`;
  }

  /**
   * A path to `name` directly in this directory: the lookup of `name` is the only one by name. Use it
   * with calls that do not follow a final symlink (lstat, mkdir, symlink, unlink, rename, mknod) or with
   * open(O_NOFOLLOW).
   */
  child(name: string): string {
    if (!name || name === '.' || name === '..' || name.includes('/')) throw new Error(`not a single path component: ${name}`);
    return `${this.self}/${name}`;
  }

  stat(): Stats {
    return fstatSync(this.fd);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

export interface ResolveOptions {
  /** Follow a symlink in the last component (default true); false gives the symlink itself. */
  followLast?: boolean;
  /**
   * What is mounted over paths of the root (the container's volumes, binds, /etc files): an O_PATH
   * descriptor of the source mounted at an in-root path, or undefined. The walk continues inside the
   * source there; symlinks met inside still resolve from the root, as the container sees them.
   */
  mounts?: MountLookup;
}

/** An O_PATH descriptor of what is mounted at `path` (normalized, absolute, in-root), if anything. */
export type MountLookup = (path: string) => number | undefined;

/** Opens a host directory that is a root (the container can not change the path *to* it). */
export function openRoot(root: string): RootedFd {
  return new RootedFd(openSync(root, O_PATH | constants.O_DIRECTORY), '/');
}

/**
 * Opens `path` inside `root` as a chroot would resolve it. Throws ENOENT/ENOTDIR (errno errors, as fs
 * does) when a component is missing, EngineError for a symlink loop. `root` may be a path or an open
 * root (which stays open).
 */
export function openInRoot(root: string | RootedFd, path: string, options: ResolveOptions = {}): RootedFd {
  const base = typeof root === 'string' ? openRoot(root) : root;
  try {
    return walk(base, path, options.followLast ?? true, options.mounts);
  } finally {
    if (base !== root) base.close();
  }
}

/**
 * The directory that would hold `path` (resolved, symlinks followed) and the last component's name,
 * unresolved: what creating, replacing or removing `path` needs. The name is '' for the root itself.
 */
export function openParentInRoot(root: string | RootedFd, path: string, mounts?: MountLookup): { dir: RootedFd; name: string } {
  const clean = posix.normalize('/' + path);
  const name = clean === '/' ? '' : posix.basename(clean);
  return { dir: openInRoot(root, name ? posix.dirname(clean) : '/', { mounts }), name };
}

export interface MkdirOptions {
  /** Of each directory made, whatever the umask (default 0755). */
  mode?: number;
  /** Owner of each directory made (default: the engine's, root). */
  owner?: { uid: number; gid: number };
  /** What is mounted over paths of the root (as openInRoot's): symlinks followed land in the mounts too. */
  mounts?: MountLookup;
}

/**
 * `mkdir -p` inside `root`: opens the directory `path`, creating what is missing (options: mode, owner),
 * each missing component made in its pinned parent by its single name. Symlinks on the way
 * are followed as openInRoot follows them, and one that dangles has its target made, as dockerd makes a
 * WORKDIR (its path resolved in the root's scope first); a non-directory fails (ENOTDIR).
 */
export function mkdirInRoot(root: string | RootedFd, path: string, options: MkdirOptions = {}): RootedFd {
  const base = typeof root === 'string' ? openRoot(root) : root;
  try {
    return mkdirAll(base, posix.normalize('/' + path), options, { hops: 0 });
  } finally {
    if (base !== root) base.close();
  }
}

function mkdirAll(root: RootedFd, path: string, options: MkdirOptions, seen: { hops: number }): RootedFd {
  try {
    return openDirectory(root, path, options.mounts);
  } catch (err) {
    if (!isErrno(err, 'ENOENT') || path === '/') throw err;
  }
  const parent = mkdirAll(root, posix.dirname(path), options, seen);
  const name = posix.basename(path);
  let redirect: string | undefined;
  try {
    const mode = options.mode ?? 0o755;
    mkdirSync(parent.child(name), mode);
    // Set through a descriptor of what was made (a name could be swapped meanwhile; chmod follows).
    const made = openChildDir(parent, name);
    try {
      if (options.owner) fchownSync(made.fd, options.owner.uid, options.owner.gid);
      fchmodSync(made.fd, mode);
    } finally {
      made.close();
    }
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err;
    // Made meanwhile, or a symlink that dangles: then its target is what to make.
    let target: string | undefined;
    try {
      target = readlinkSync(parent.child(name));
    } catch {
      // not a symlink: the open below decides
    }
    if (target !== undefined) {
      if (++seen.hops > MAX_HOPS) throw new EngineError('invalid', `too many levels of symbolic links: ${path}`);
      redirect = posix.normalize('/' + (target.startsWith('/') ? target : posix.join(parent.path, target)));
    }
  } finally {
    parent.close();
  }
  return redirect ? mkdirAll(root, redirect, options, seen) : openDirectory(root, path, options.mounts);
}

/** openInRoot for a path that must be a directory. */
function openDirectory(root: RootedFd, path: string, mounts?: MountLookup): RootedFd {
  const fd = openInRoot(root, path, { mounts });
  if (!fd.stat().isDirectory()) {
    fd.close();
    throw Object.assign(new Error(`ENOTDIR: not a directory, ${path}`), { code: 'ENOTDIR' });
  }
  return fd;
}

/** Runs `fn` with `path` opened inside `root`, closing it after. */
export async function withInRoot<T>(root: string | RootedFd, path: string, fn: (fd: RootedFd) => T | Promise<T>, options: ResolveOptions = {}): Promise<T> {
  const fd = openInRoot(root, path, options);
  try {
    return await fn(fd);
  } finally {
    fd.close();
  }
}

function walk(root: RootedFd, path: string, followLast: boolean, mounts?: MountLookup): RootedFd {
  // The chain of open directories from the root down: `..` pops it, an absolute symlink cuts it back.
  const stack: RootedFd[] = [];
  const top = () => stack[stack.length - 1] ?? root;
  const names: string[] = [];
  const pending = posix
    .normalize('/' + path)
    .split('/')
    .filter(Boolean);
  let hops = 0;
  try {
    while (pending.length > 0) {
      const part = pending.shift()!;
      if (part === '.') continue;
      if (part === '..') {
        stack.pop()?.close();
        names.pop();
        continue;
      }
      const at = `${top().self}/${part}`;
      const inRoot = '/' + [...names, part].join('/');
      // A mount point is the source mounted there, whatever the root holds underneath (if anything).
      const fd = new RootedFd(mounts?.(inRoot) ?? openSync(at, O_PATH | constants.O_NOFOLLOW), inRoot);
      const st = fd.stat();
      if (st.isSymbolicLink() && (pending.length > 0 || followLast)) {
        fd.close();
        if (++hops > MAX_HOPS) throw new EngineError('invalid', `too many levels of symbolic links: ${path}`);
        // Read by name in the (pinned) parent: if it was swapped meanwhile, what we read is still only a
        // string, resolved again step by step from here.
        let target: string;
        try {
          target = readlinkSync(at);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
          pending.unshift(part); // no longer a symlink: look again
          continue;
        }
        if (target.startsWith('/')) {
          for (const d of stack.splice(0)) d.close();
          names.length = 0;
        }
        pending.unshift(...target.split('/').filter(Boolean));
        continue;
      }
      if (pending.length > 0 && !st.isDirectory()) {
        fd.close();
        throw Object.assign(new Error(`ENOTDIR: not a directory, ${fd.path}`), { code: 'ENOTDIR' });
      }
      stack.push(fd);
      names.push(part);
    }
    const result = stack.pop();
    if (result) return result;
    // The root itself: a fresh descriptor, so the caller may close what it got.
    return new RootedFd(openSync(root.self, O_PATH | constants.O_DIRECTORY), '/');
  } finally {
    for (const d of stack) d.close();
  }
}

/**
 * Opens directory `name` in `dir` to list and descend into, never through a symlink (ELOOP or ENOTDIR
 * when `name` is not a directory now). For walking a tree the container may be changing.
 */
export function openChildDir(dir: RootedFd, name: string): RootedFd {
  return new RootedFd(openSync(dir.child(name), constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW), posix.join(dir.path, name));
}

/** openChildDir, or undefined when `name` is gone or no longer a directory (a tree being changed). */
export function openChildDirIfThere(dir: RootedFd, name: string): RootedFd | undefined {
  try {
    return openChildDir(dir, name);
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR', 'ELOOP')) return undefined;
    throw err;
  }
}

/** lstat of a name that may vanish while we look: undefined then. */
export function lstatIfThereSync(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return undefined;
    throw err;
  }
}

/** The same, asynchronous (for long walks). */
export async function lstatIfThere(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return undefined;
    throw err;
  }
}

/**
 * Opens a pinned regular file for reading: through /proc/self/fd the kernel reopens that very inode (no
 * name is looked up again). Anything but a regular file is refused: a FIFO or device could block or lie.
 */
export function openForRead(fd: RootedFd): number {
  if (!fd.stat().isFile()) throw Object.assign(new Error(`not a regular file: ${fd.path}`), { code: 'EINVAL' });
  return openSync(fd.self, constants.O_RDONLY | constants.O_NONBLOCK);
}

export const isErrno = (err: unknown, ...codes: string[]): boolean => codes.includes((err as NodeJS.ErrnoException)?.code ?? '');
