// docker cp: paths inside a container's root filesystem, resolved the way the container sees them
// (symlinks followed inside the root, never out of it), copied out as tar and in from tar. The container
// may be running and swapping any directory for a symlink meanwhile, so nothing here uses a host path
// into the rootfs: paths are resolved to pinned descriptors (util/in-root.ts), and tar works from one.
import { spawn } from 'node:child_process';
import { closeSync, constants, lstatSync, openSync, readlinkSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import tar from 'tar-stream';
import { EngineError, invalid, notFound } from '../errors.js';
import { OverwriteError, UnsafeArchiveError } from '../storage/unpack.js';
import { isErrno, openInRoot, openParentInRoot, openRoot, RootedFd } from '../util/in-root.js';
import { CpMounts } from './cp-mounts.js';
import type { OwnersToNs } from '../rootless/mapped-layer.js';
import type { OwnerMap } from '../storage/upper-layer.js';
import { extractInRoot, UnmappedOwnerError } from './extract.js';
import { toTarEnd } from './tar-end.js';
import { tarOwnerMaps } from './tar-owner-map.js';

export interface PathStat {
  name: string;
  size: number;
  mode: number; // Go's os.FileMode bits, as Docker sends them
  mtime: string;
  linkTarget: string;
}

// Go's FileMode type bits, which Docker puts in X-Docker-Container-Path-Stat.
const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;

/**
 * What a cp path names: a member `name` of the open directory `dir` ('.' for dir itself, which tar
 * then names `rename`). As dockerd: the last component is a symlink itself unless the path ends in
 * `/` or `/.`, which follow it.
 */
interface Located {
  dir: RootedFd;
  name: string;
  rename?: string;
  stat: PathStat;
  /** `dir` is a file mounted at the path itself (/etc/hosts, a file bind): tar reads it through its descriptor. */
  file?: boolean;
}

const NO_MOUNTS = new CpMounts([]);

function locate(root: string, path: string, container: string, mounts: CpMounts): Located {
  const missing = () => notFound(`Could not find the file ${path} in container ${container}`);
  const follow = /\/\.?$/.test(path);
  let dir: RootedFd;
  let name: string;
  try {
    if (follow) ({ dir, name } = { dir: openInRoot(root, path, { mounts: mounts.lookup }), name: '' });
    else ({ dir, name } = openParentInRoot(root, path, mounts.lookup));
    // The path itself a mount point: its source, whatever the rootfs holds there.
    const mounted = name ? mounts.lookup(posix.join(dir.path, name)) : undefined;
    if (mounted !== undefined) {
      const at = new RootedFd(mounted, posix.join(dir.path, name));
      dir.close();
      dir = at;
      name = '';
    }
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) throw missing();
    throw err;
  }
  try {
    let st: Stats;
    try {
      st = name ? lstatSync(dir.child(name)) : dir.stat();
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) throw missing();
      throw err;
    }
    if (follow && !st.isDirectory()) throw missing(); // `file/`: not a directory, as lstat says in dockerd
    let mode = st.mode & 0o777;
    if (st.isDirectory()) mode += MODE_DIR;
    if (st.isSymbolicLink()) mode += MODE_SYMLINK;
    const linkTarget = st.isSymbolicLink() ? readlinkSync(dir.child(name)) : '';
    const stat = { name: posix.basename(path) || '/', size: st.size, mode, mtime: st.mtime.toISOString(), linkTarget };
    // `/dir/`: the directory under its own name; `/dir/.` and `/`: its content as `./...`.
    const rename = !path.endsWith('/.') ? posix.basename(posix.normalize('/' + path)) || undefined : undefined;
    return { dir, name: name || '.', rename: name ? undefined : rename, stat, file: !name && !st.isDirectory() };
  } catch (err) {
    dir.close();
    throw err;
  }
}

export function statPath(root: string, path: string, container: string, mounts = NO_MOUNTS): PathStat {
  const { dir, stat } = locate(root, path, container, mounts);
  dir.close();
  return stat;
}

/**
 * The stat of a path in the container and a tar of it, named as the client asked for it. `owners`: a
 * container in a user namespace of its own, whose owners tar writes as it sees them (as export does).
 */
export function archivePath(root: string, path: string, container: string, mounts = NO_MOUNTS, owners?: OwnerMap): { stat: PathStat; tar: Readable } {
  const { dir, name, rename, stat, file } = locate(root, path, container, mounts);
  try {
    checkReadable(dir, name, path);
  } catch (err) {
    dir.close();
    throw err;
  }
  if (file) return { stat, tar: toTarEnd(archiveFile(dir, rename ?? name, owners)) };
  const jobs: TarJob[] = [{ dir, name, outName: rename ?? name, base: name === '.' ? dir.path : posix.join(dir.path, name), excludes: [] }];
  let started = false;
  try {
    // Mounts below a directory: its tar leaves out what the rootfs holds at the mount point, and each
    // source is tarred under the mount point's member name (dockerd tars the tree with them mounted).
    if (stat.mode >= MODE_DIR) {
      for (const destination of mounts.below(jobs[0]!.base)) {
        if (!reachedByName(root, destination, mounts)) continue;
        const parent = jobs.filter((j) => destination.startsWith(j.base === '/' ? '/' : j.base + '/')).pop()!;
        const rel = posix.relative(parent.base, destination);
        parent.excludes.push(`${parent.name}/${rel}`);
        const source = new RootedFd(mounts.lookup(destination)!, destination);
        jobs.push({ dir: source, name: '.', outName: `${parent.outName}/${rel}`, base: destination, excludes: [], file: !source.stat().isDirectory() });
      }
    }
    started = true;
    const tars = jobs.map((job) => (job.file ? archiveFile(job.dir, job.outName, owners) : archiveDir(job, owners)));
    // Each buffered from now on: node drains (drops) a child's stdout nobody listens to once it exits.
    return { stat, tar: tars.length === 1 ? toTarEnd(tars[0]!) : concatTars(tars.map((t) => t.pipe(new PassThrough()))) };
  } finally {
    // The children have changed into them: spawn returns after its exec (files stay open for their tar).
    for (const job of jobs) if (!started || !job.file) job.dir.close();
  }
}

/**
 * Whether a mount point's directory is where its name says (no symlink on the way in the rootfs, which
 * would put the mount elsewhere in the tree; missing is fine: the mount makes it), for tarring it there.
 */
function reachedByName(root: string, destination: string, mounts: CpMounts): boolean {
  try {
    const parent = openInRoot(root, posix.dirname(destination), { mounts: mounts.lookup });
    parent.close();
    return parent.path === posix.dirname(destination);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return true;
    return false;
  }
}

/**
 * The path must be readable (a directory: listable) by the engine: tar would otherwise leave an unreadable
 * member out and send an empty archive, a copy that "works" and brings nothing. Rootless, a bind of the
 * host's /etc holds files the user may not read (shadow). Entries below a directory are tar's to skip.
 */
function checkReadable(dir: RootedFd, name: string, path: string): void {
  const at = name === '.' ? dir.self : dir.child(name);
  try {
    // Only files and directories are opened: a symlink is archived as one, and opening a device or a
    // FIFO could act on it.
    const st = name === '.' ? dir.stat() : lstatSync(at);
    if (!st.isFile() && !st.isDirectory()) return;
    closeSync(openSync(at, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK));
  } catch (err) {
    if (isErrno(err, 'EACCES', 'EPERM')) throw new EngineError('internal', `open ${posix.normalize(`/${path}`)}: permission denied`);
    // Anything else is tar's to meet.
  }
}

interface TarJob {
  dir: RootedFd;
  /** The member tar names in `dir` ('.': dir itself). */
  name: string;
  /** What the member is called in the archive. */
  outName: string;
  /** Its in-container path. */
  base: string;
  /** Member names (before renaming) left out: mount points, their sources tarred apart. */
  excludes: string[];
  file?: boolean;
}

function archiveDir(job: TarJob, owners?: OwnerMap): Readable {
  const maps = tarOwnerMaps(owners);
  const args = ['--numeric-owner', ...maps.args, '-cf', '-'];
  // S: symlink targets are the container's data, not member names.
  if (job.name === '.' && job.outName !== '.') args.push(`--transform=s,^\\.,${sedReplacement(job.outName)},S`);
  if (job.excludes.length) args.push('--no-wildcards', '--anchored', ...job.excludes.map((e) => `--exclude=${e}`));
  // tar starts in the pinned directory and names one member in it; it never follows symlinks below.
  try {
    const child = spawn('tar', [...args, '--', job.name], { cwd: job.dir.forChild, stdio: ['ignore', 'pipe', 'ignore', ...maps.fds] });
    if (!child.stdout) throw new Error('tar: spawned without its output pipe');
    return child.stdout;
  } finally {
    maps.close();
  }
}

/**
 * A name as the replacement of tar's --transform s,,,: only `\\`, `&` and the delimiter are special
 * (GNU tar keeps the backslash of any other escape: `a\\+b` would name the member `a\\+b`).
 */
const sedReplacement = (name: string) => name.replace(/[\\&,]/g, '\\$&');

/** One archive of several tars' members, in order. */
function concatTars(parts: Readable[]): Readable {
  const out = tar.pack();
  const through = new PassThrough();
  out.pipe(through);
  void (async () => {
    for (const part of parts) {
      const extract = tar.extract();
      part.pipe(extract);
      for await (const entry of extract) {
        await new Promise<void>((resolve, reject) => {
          const sink = out.entry(entry.header, (err) => (err ? reject(err) : resolve()));
          // Only files have a body: any other entry's sink is done as soon as it is made.
          if (entry.header.type === 'file' || entry.header.type === 'contiguous-file') entry.pipe(sink);
          else entry.resume();
        });
      }
    }
    out.finalize();
  })().catch((err: Error) => {
    for (const part of parts) part.destroy();
    through.destroy(err);
  });
  return through;
}

/**
 * A tar of one regular file held by descriptor, named `name`: tar opens it through our descriptor (the
 * kernel reopens that inode; -h follows only this magic link, a file has nothing below), which stays
 * open until tar is done.
 */
function archiveFile(fd: RootedFd, name: string, owners?: OwnerMap): Readable {
  const member = String(fd.fd);
  const maps = tarOwnerMaps(owners);
  try {
    const child = spawn('tar', ['--numeric-owner', ...maps.args, '-h', '-cf', '-', `--transform=s,^${member}$,${sedReplacement(name)},S`, '--', member], {
      cwd: `/proc/${process.pid}/fd`,
      stdio: ['ignore', 'pipe', 'ignore', ...maps.fds],
    });
    child.on('close', () => fd.close());
    child.on('error', () => fd.close());
    if (!child.stdout) throw new Error('tar: spawned without its output pipe');
    return child.stdout;
  } finally {
    maps.close();
  }
}

/** How PUT owns what it makes: the archive's owners (dockerd keeps them), or with copyUIDGID the container's user. */
export type ExtractOwner = { uid: number; gid: number } | undefined;

/**
 * Extracts a client's tar into a directory of the container; entries that would escape are refused.
 * Read-only checks as dockerd's, after the path resolves: a read-only volume or bind holding the path,
 * else a read-only rootfs.
 */
export async function extractInto(
  root: string,
  path: string,
  container: string,
  tar: Readable,
  owner: ExtractOwner,
  noOverwriteDirNonDir: boolean,
  mounts = NO_MOUNTS,
  readonlyRootfs = false,
  ids?: OwnersToNs,
): Promise<void> {
  const rootFd = openRoot(root);
  let dest: RootedFd | undefined;
  try {
    try {
      dest = openInRoot(rootFd, path, { mounts: mounts.lookup });
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) throw notFound(`Could not find the file ${path} in container ${container}`);
      throw err;
    }
    if (!dest.stat().isDirectory()) throw new EngineError('internal', 'extraction point is not a directory');
    // Where the path led (symlinks followed) decides: a read-only mount refuses writes there, as it would in dockerd.
    const volume = mounts.volumeHolding(dest.path);
    if (volume && !volume.rw) throw new EngineError('internal', 'mounted volume is marked read-only');
    if (!volume && readonlyRootfs) throw new EngineError('internal', 'container rootfs is marked read-only');
    await extractInRoot(tar, rootFd, dest, { owner, noOverwriteDirNonDir, mounts: mounts.writableLookup, ids });
  } catch (err) {
    if (err instanceof EngineError) throw err;
    if (err instanceof UnsafeArchiveError || err instanceof OverwriteError || err instanceof UnmappedOwnerError) throw invalid(err.message);
    throw invalid(`cannot extract the archive: ${(err as Error).message}`);
  } finally {
    dest?.close();
    rootFd.close();
  }
}
