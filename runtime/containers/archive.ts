// docker cp: paths inside a container's root filesystem, resolved the way the container sees them
// (symlinks followed inside the root, never out of it), copied out as tar and in from tar.
import { spawn } from 'node:child_process';
import { lstat, readlink } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { invalid, notFound } from '../errors.js';
import { OverwriteError, unpackLayer, UnsafeArchiveError } from '../storage/unpack.js';

export interface PathStat {
  name: string;
  size: number;
  mode: number; // Go's os.FileMode bits, as Docker sends them
  mtime: string;
  linkTarget: string;
}

/**
 * Resolves `path` under `root` like a chroot would: `..` stops at the root, absolute symlinks restart
 * from it. With `followLast` false the final component is not followed (a symlink is itself).
 */
export async function resolveInRoot(root: string, path: string, followLast = true): Promise<string> {
  const parts = posix.normalize('/' + path).split('/').filter(Boolean);
  let resolved: string[] = [];
  let hops = 0;
  while (parts.length > 0) {
    const part = parts.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = [...resolved, part];
    const st = await lstat(posix.join(root, ...candidate)).catch(() => undefined);
    if (st?.isSymbolicLink() && (parts.length > 0 || followLast)) {
      if (++hops > 40) throw invalid(`too many levels of symbolic links: ${path}`);
      const target = await readlink(posix.join(root, ...candidate));
      if (target.startsWith('/')) resolved = [];
      parts.unshift(...target.split('/').filter(Boolean));
      continue;
    }
    resolved = candidate;
  }
  return posix.join(root, ...resolved);
}

// Go's FileMode type bits, which Docker puts in X-Docker-Container-Path-Stat.
const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;

export async function statPath(root: string, path: string, container: string): Promise<{ full: string; stat: PathStat }> {
  const full = await resolveInRoot(root, path, false);
  const st = await lstat(full).catch(() => undefined);
  if (!st) throw notFound(`Could not find the file ${path} in container ${container}`);
  let mode = st.mode & 0o777;
  if (st.isDirectory()) mode += MODE_DIR;
  if (st.isSymbolicLink()) mode += MODE_SYMLINK;
  const linkTarget = st.isSymbolicLink() ? await readlink(full) : '';
  return { full, stat: { name: posix.basename(path) || '/', size: st.size, mode, mtime: st.mtime.toISOString(), linkTarget } };
}

/** A tar of one path in the container, named as the client asked for it. */
export function tarOf(full: string, requestedName: string): Readable {
  const dir = posix.dirname(full);
  const base = posix.basename(full);
  const name = posix.basename(requestedName) || base;
  const args = ['--numeric-owner', '-C', dir, '-cf', '-'];
  if (name !== base) args.push(`--transform=s,^${base.replace(/[^\w.-]/g, '\\$&')},${name.replace(/[^\w.-]/g, '\\$&')},`);
  args.push(base);
  return spawn('tar', args, { stdio: ['ignore', 'pipe', 'ignore'] }).stdout;
}

/** Extracts a client's tar into a directory of the container; entries that would escape are refused. */
export async function extractInto(root: string, path: string, container: string, tar: Readable, copyUidGid: boolean, noOverwriteDirNonDir: boolean): Promise<void> {
  const full = await resolveInRoot(root, path);
  const st = await lstat(full).catch(() => undefined);
  if (!st) throw notFound(`Could not find the file ${path} in container ${container}`);
  if (!st.isDirectory()) throw invalid(`extraction point is not a directory`);
  try {
    await unpackLayer(tar, full, { owner: copyUidGid ? undefined : { uid: 0, gid: 0 }, noOverwriteDirNonDir });
  } catch (err) {
    if (err instanceof UnsafeArchiveError || err instanceof OverwriteError) throw invalid(err.message);
    throw invalid(`cannot extract the archive: ${(err as Error).message}`);
  }
}
