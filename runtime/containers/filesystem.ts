// What a container did to its filesystem (docker diff) and its whole filesystem as a tar (docker export).
// The container may be running: its upper dir is walked through descriptors (util/in-root.ts), so a
// directory swapped for a symlink is never followed out of it.
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { OwnerMap } from '../storage/upper-layer.js';
import { isErrno, lstatIfThere, openChildDirIfThere, openRoot, type RootedFd } from '../util/in-root.js';
import { tarOwnerMaps } from './tar-owner-map.js';

export type ChangeKind = 0 | 1 | 2; // modified, added, deleted (Docker's numbering)

/** Mount points the runtime creates in the upper dir: not changes the container made. */
const RUNTIME_PATHS = new Set(['/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/dev', '/proc', '/sys', '/etc', '/sbin/docker-init', '/sbin']);

/** berth's own mount points for --init: its runtime's in either view. */
const INIT_PATHS = new Set(['/sbin/docker-init', '/sbin']);

/**
 * What podman leaves out of every diff (libpod's init inodes), whatever the change: the paths its
 * runtime makes or mounts over.
 */
const PODMAN_HIDDEN = new Set([
  '/dev',
  '/etc/hostname',
  '/etc/hosts',
  '/etc/resolv.conf',
  '/etc/mtab',
  '/proc',
  '/run',
  '/run/notify',
  '/run/.containerenv',
  '/run/secrets',
  '/sys',
]);

export interface ChangesOptions {
  /**
   * Whose view: Docker's (the default: the runtime's mount points hidden when they are only that, /etc
   * with them), or podman's (its fixed list hidden whatever happened to them; /etc shows).
   */
  view?: 'docker' | 'podman';
  /** An image layer's changes: no mount point of a container's runtime in it. */
  layer?: boolean;
}

/**
 * Walks the upper dir: whiteouts are deletions, paths a lower layer has are modifications, the rest
 * additions. Each lower is followed down the same directories by descriptor (undefined where it has no
 * such directory), so a lookup there never follows a symlink either. `skip`: paths not reported when
 * empty (a container's runtime mount points; an image layer's diff skips none).
 */
export async function changes(upper: string, lowers: string[], o: ChangesOptions = {}): Promise<{ Path: string; Kind: ChangeKind }[]> {
  const out: { Path: string; Kind: ChangeKind }[] = [];
  /** Whether a change (a directory, or a file of `size`) is left out. */
  const hidden = (path: string, mountPoint: boolean) => {
    if (o.view === 'podman' && PODMAN_HIDDEN.has(path)) return true;
    if (o.layer) return false;
    return mountPoint && (o.view === 'podman' ? INIT_PATHS : RUNTIME_PATHS).has(path);
  };
  const walk = async (dir: RootedFd, rel: string, below: (RootedFd | undefined)[]): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(dir.self);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return;
      throw err;
    }
    for (const name of names) {
      const path = `${rel}/${name}`;
      const st = await lstatIfThere(dir.child(name));
      if (!st) continue;
      if (st.isCharacterDevice() && st.rdev === 0) {
        out.push({ Path: path, Kind: 2 });
        continue;
      }
      let existsBelow = false;
      for (const lower of below) if (!existsBelow && lower) existsBelow = !!(await lstatIfThere(lower.child(name)));
      if (!hidden(path, st.isDirectory() || st.size === 0)) out.push({ Path: path, Kind: existsBelow ? 0 : 1 });
      if (!st.isDirectory()) continue;
      const sub = openChildDirIfThere(dir, name);
      if (!sub) continue;
      const subBelow = below.map((lower) => lower && openChildDirIfThere(lower, name));
      try {
        await walk(sub, path, subBelow);
      } finally {
        sub.close();
        for (const lower of subBelow) lower?.close();
      }
    }
  };
  const top = openRoot(upper);
  const lowerFds = lowers.map((l) => openRoot(l));
  try {
    await walk(top, '', lowerFds);
  } finally {
    top.close();
    for (const l of lowerFds) l.close();
  }
  return out.sort((a, b) => a.Path.localeCompare(b.Path));
}

/**
 * The container's merged filesystem (mounted by the caller) as a tar stream. GNU tar walks it with
 * openat(O_NOFOLLOW) from the directory it was started in, so a swapped symlink is archived as one.
 * `owners`: how owners are written (as stored without), through tar's --owner-map and --group-map.
 */
export function exportRootfs(merged: string, owners?: OwnerMap): Readable {
  const maps = tarOwnerMaps(owners);
  const args = ['--numeric-owner', '--xattrs', ...maps.args, '-cf', '-', '.'];
  try {
    const child = spawn('tar', args, { cwd: merged, stdio: ['ignore', 'pipe', 'ignore', ...maps.fds] });
    if (!child.stdout) throw new Error('tar: spawned without its output pipe');
    return child.stdout;
  } finally {
    maps.close();
  }
}
