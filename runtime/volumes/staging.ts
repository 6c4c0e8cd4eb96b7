// Mount sources a container controls (a volume subpath; a bind source inside a volume or a rootfs),
// pinned before runc sees them. runc resolves a source by name, so a container swapping a directory on
// the way for a symlink to / while another one starts would get the host mounted. As moby does for
// subpaths: open the path with descriptors (runtime/util/in-root.ts), bind-mount the opened object onto
// a staging mount point under the run root, and hand runc that path, which no container can change.
// The staging mounts are needed only until `runc create` has made the container's own (the engine
// drops them then); release() and reconcile at engine start take whatever a failure or crash left.
import { constants, mkdirSync, openSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import { readdir, rm, rmdir } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join, posix } from 'node:path';
import { EngineError } from '../errors.js';
import { isErrno, lstatIfThereSync, openRoot, RootedFd } from '../util/in-root.js';
import { isMounted, unmount } from '../storage/rootfs.js';

const run = promisify(execFile);
const O_PATH = 0o10000000;
const MAX_HOPS = 40;

/**
 * Opens `subpath` inside a volume, with dockerd's semantics and refusals: symlinks are followed as the
 * host would follow them, and the result must exist and stay inside the volume. Unlike a path check, a
 * symlink swapped in between can not lead the open elsewhere: every step is a descriptor, an absolute
 * target counts only as far as it names the volume itself, and `..` never climbs above the volume.
 */
export function openSubpath(volume: string, subpath: string): RootedFd {
  const real = realpathSync(volume);
  const full = join(volume, subpath);
  const missing = () => new EngineError('internal', `cannot access path ${full}: no such file or directory`);
  const escapes = () => new EngineError('internal', `subpath ${subpath} points outside of the volume`);
  const stack: RootedFd[] = [];
  const root = openRoot(volume);
  const top = () => stack[stack.length - 1] ?? root;
  const pending = posix
    .normalize(subpath)
    .split('/')
    .filter((p) => p && p !== '.');
  let hops = 0;
  try {
    while (pending.length > 0) {
      const part = pending.shift()!;
      if (part === '..') {
        if (stack.length) {
          stack.pop()!.close();
          continue;
        }
        // Above the volume: the host's (the engine's) directories, where only a way straight back in,
        // by name, is inside (`../_data/a` as dockerd's EvalSymlinks would allow it).
        const back = posix.relative(real, posix.join(posix.dirname(real), ...pending));
        if (back === '..' || back.startsWith('../') || posix.isAbsolute(back)) throw escapes();
        pending.splice(0, pending.length, ...back.split('/').filter(Boolean));
        continue;
      }
      const at = `${top().self}/${part}`;
      let fd: RootedFd;
      try {
        fd = new RootedFd(openSync(at, O_PATH | constants.O_NOFOLLOW), part);
      } catch (err) {
        if (isErrno(err, 'ENOENT', 'ENOTDIR')) throw missing();
        throw err;
      }
      const st = fd.stat();
      if (st.isSymbolicLink()) {
        fd.close();
        if (++hops > MAX_HOPS) throw new EngineError('internal', `cannot access path ${full}: too many levels of symbolic links`);
        let target: string;
        try {
          target = readlinkSync(at);
        } catch (err) {
          if (!isErrno(err, 'EINVAL')) throw err;
          pending.unshift(part); // swapped back meanwhile: look again
          continue;
        }
        if (target.startsWith('/')) {
          // A host path: fine only if it names the volume (or something in it) by its real path.
          const rel = posix.relative(real, posix.normalize(target));
          if (rel === '..' || rel.startsWith('../') || posix.isAbsolute(rel)) throw escapes();
          for (const d of stack.splice(0)) d.close();
          pending.unshift(...rel.split('/').filter(Boolean));
        } else {
          pending.unshift(...target.split('/').filter((p) => p && p !== '.'));
        }
        continue;
      }
      if (pending.length > 0 && !st.isDirectory()) {
        fd.close();
        throw missing();
      }
      stack.push(fd);
    }
    return stack.pop() ?? new RootedFd(openSync(root.self, O_PATH | constants.O_DIRECTORY), '/');
  } finally {
    for (const d of stack) d.close();
    root.close();
  }
}

/**
 * Where a host path lies in a root a container controls, if it does: `roots` says which directory (if
 * any) holding a path is such a root. The path's own symlinks are followed as the host would, but only
 * up to the root: from there on the rest is the container's, for openInRoot to resolve.
 */
export function locateInRoot(path: string, rootOf: (dir: string) => string | undefined): { root: string; rest: string } | undefined {
  const pending = posix.normalize(path).split('/').filter(Boolean);
  let resolved = '/';
  let hops = 0;
  for (;;) {
    const root = rootOf(resolved);
    if (root) return { root, rest: posix.join(posix.relative(root, resolved), ...pending) || '.' };
    const part = pending.shift();
    if (part === undefined) return undefined;
    if (part === '.') continue;
    if (part === '..') {
      resolved = posix.dirname(resolved);
      continue;
    }
    const next = posix.join(resolved, part);
    // Not in a container's root so far: these names are the host's (the user's) own.
    const st = lstatIfThereSync(next);
    if (st?.isSymbolicLink() && ++hops <= MAX_HOPS) {
      const target = readlinkSync(next);
      if (target.startsWith('/')) resolved = '/';
      pending.unshift(...target.split('/').filter(Boolean));
      continue;
    }
    if (!st) {
      // Missing here: only a root named literally below (a volume made meanwhile) can hold the rest.
      const full = posix.join(next, ...pending);
      const inside = rootOf(full);
      return inside ? { root: inside, rest: posix.relative(inside, full) || '.' } : undefined;
    }
    resolved = next;
  }
}

/** Staging mount points: `<dir>/<container>/<n>`, n the mount's index among the container's mount points. */
export class SubpathStaging {
  constructor(readonly dir: string) {}

  path = (container: string, index: number) => join(this.dir, container, String(index));

  /** Bind-mounts the opened object at the staging point for mount `index` of `container`; returns that path. */
  async stage(container: string, index: number, fd: RootedFd): Promise<string> {
    const point = this.path(container, index);
    await unmount(point); // a leftover of a run cut short
    if (await isMounted(point)) throw new EngineError('internal', `${point} is still mounted`);
    await rm(point, { force: true }).catch(() => rmdir(point).catch(() => undefined));
    mkdirSync(join(this.dir, container), { recursive: true, mode: 0o700 });
    if (fd.stat().isDirectory()) mkdirSync(point, { mode: 0o700 });
    else writeFileSync(point, '', { mode: 0o600 });
    // --no-canonicalize: mount(8) hands the kernel /proc/<pid>/fd/N as it is, and the kernel binds the
    // object the descriptor holds. Private: nothing mounted later under the source shows up here.
    await run('mount', ['-n', '-i', '--no-canonicalize', '--bind', '--make-private', fd.forChild, point]);
    return point;
  }

  /** Unmounts and removes a container's staging mount points. */
  async release(container: string): Promise<void> {
    const dir = join(this.dir, container);
    const points = await readdir(dir).catch(() => [] as string[]);
    for (const name of points) {
      const point = join(dir, name);
      await unmount(point);
      // Never recursive: a point still mounted is the volume (or worse), not ours to empty.
      if (await isMounted(point)) continue;
      await rm(point, { force: true }).catch(() => rmdir(point).catch(() => undefined));
    }
    await rmdir(dir).catch(() => undefined);
  }

  /** At engine start: every staging mount left (they outlive no `runc create`). */
  async releaseAll(): Promise<void> {
    for (const container of await readdir(this.dir).catch(() => [] as string[])) await this.release(container);
  }
}
