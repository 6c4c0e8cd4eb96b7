// COPY and ADD: which files a source names (globs, directories), the checksums the cache compares
// (dockerd's `file:<tarsum>` / `dir:<sha256 of the sorted sums>`), and the copy itself into the step's
// root filesystem — every destination path resolved inside that root (a symlink in the image never
// leads a write out of it), owners set to root or --chown, modes from the source or --chmod.
import { createHash } from 'node:crypto';
import { constants, createReadStream, readlinkSync } from 'node:fs';
import { chmod, copyFile, lchown, lstat, lutimes, mkdir, readdir, readFile, readlink, rm, stat, symlink, utimes } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { invalid } from '../errors.js';
import { isErrno, mkdirInRoot, openInRoot } from '../util/in-root.js';
import { unpackLayer, UnsafeArchiveError } from '../storage/unpack.js';
import { isTar, OutsideContextError, openDecompressed, resolveInContext, tarsumHeader } from './context.js';
import { globMatcher, hasWildcards } from './dockerignore.js';

/** Where sources are read from: the build context (its tarsums) or a mounted image (hashed from the files). */
export interface SourceRoot {
  root: string;
  /** Context sources: tarsums of the entries as received. Image sources: undefined. */
  sums?: Map<string, string>;
  /** Hashes computed so far, by path. */
  cache: Map<string, string>;
}

export interface CopyInfo {
  source: SourceRoot;
  /** The source path as matched (context-relative): its base name names a copied file. */
  path: string;
  /** The resolved file. */
  full: string;
  hash: string;
  /** ADD of a local archive: extract it. */
  decompress: boolean;
}

export interface Identity {
  uid: number;
  gid: number;
}

/** dockerd's words for a missing source: the context's hint names .dockerignore; an image's does not. */
const notFound = (src: SourceRoot, path: string) =>
  invalid(`${src.sums ? 'file not found in build context or excluded by .dockerignore: ' : ''}stat ${path}: file does not exist`);

/** The host's user and group names by number: what Go's archive/tar puts in a header made from a file. */
let hostNames: Promise<{ users: Map<number, string>; groups: Map<number, string> }> | undefined;
function namesOnHost() {
  const read = async (file: string) =>
    new Map(
      (await readFile(file, 'utf8').catch(() => ''))
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(':'))
        .map((f) => [Number(f[2]), f[0]!] as [number, string]),
    );
  hostNames ??= Promise.all([read('/etc/passwd'), read('/etc/group')]).then(([users, groups]) => ({ users, groups }));
  return hostNames;
}

/**
 * The host path `path` names in a root (a step's overlay, a mounted image: nothing runs in them while we
 * copy), symlinks resolved in its scope by util/in-root.ts. A missing rest stays as named, under the
 * resolved part, for the caller to create.
 */
function inRootPath(root: string, path: string, followLast = true, hops = 0): string {
  const clean = posix.normalize('/' + path);
  try {
    const fd = openInRoot(root, clean, { followLast });
    fd.close();
    return fd.path === '/' ? root : posix.join(root, fd.path);
  } catch (err) {
    if (!isErrno(err, 'ENOENT', 'ENOTDIR') || clean === '/') throw err;
  }
  const parent = inRootPath(root, posix.dirname(clean), true, hops);
  const full = posix.join(parent, posix.basename(clean));
  // A dangling symlink last: its target is what is named (dockerd resolves scoped paths so).
  const target = followLast ? readlinkOrUndefined(full) : undefined;
  if (target === undefined) return full;
  if (hops >= 40) throw invalid(`too many levels of symbolic links: ${path}`);
  return inRootPath(root, target.startsWith('/') ? target : posix.join(posix.relative(root, parent), target), true, hops + 1);
}

function readlinkOrUndefined(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

/** Resolves a source path in its root: strictly for the context (escapes refused), chroot-style in an image. */
async function resolveSource(src: SourceRoot, rel: string): Promise<string> {
  if (!src.sums) return inRootPath(src.root, rel);
  try {
    return await resolveInContext(src.root, rel);
  } catch (err) {
    if (err instanceof OutsideContextError) {
      const detail = err.message.includes('(') ? err.message.slice(err.message.indexOf('(')) : '()';
      throw invalid(`forbidden path outside the build context: ${rel} ${detail}`);
    }
    throw err;
  }
}

/** The checksum of one entry (the followed path's, as dockerd's Hash does). */
async function hashOf(src: SourceRoot, rel: string): Promise<string> {
  const cached = src.cache.get(rel);
  if (cached) return cached;
  let sum: string;
  if (src.sums) {
    const full = await resolveInContext(src.root, rel).catch(() => undefined);
    const key = full ? posix.relative(src.root, full) : rel;
    sum = src.sums.get(key) ?? src.sums.get(rel) ?? rel;
  } else {
    sum = await fileHash(src.root, rel);
  }
  src.cache.set(rel, sum);
  return sum;
}

/** dockerd's lazy-source hash of a file in a mounted image: a tarsum header built from the file, then its bytes. */
async function fileHash(root: string, rel: string): Promise<string> {
  const full = await inRootPath(root, rel);
  const st = await lstat(full);
  const { users, groups } = await namesOnHost();
  const name = posix.relative(root, full) + (st.isDirectory() ? '/' : '');
  const typeflag = st.isFile()
    ? '0'
    : st.isDirectory()
      ? '5'
      : st.isSymbolicLink()
        ? '2'
        : st.isCharacterDevice()
          ? '3'
          : st.isBlockDevice()
            ? '4'
            : st.isFIFO()
              ? '6'
              : '0';
  const device = st.isCharacterDevice() || st.isBlockDevice();
  const hash = createHash('sha256').update(
    tarsumHeader({
      name,
      mode: st.mode,
      uid: st.uid,
      gid: st.gid,
      size: st.isFile() ? st.size : 0,
      typeflag,
      linkname: st.isSymbolicLink() ? await readlink(full) : '',
      uname: users.get(st.uid) ?? '',
      gname: groups.get(st.gid) ?? '',
      devmajor: device ? (st.rdev >> 8) & 0xfff : 0,
      devminor: device ? (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00) : 0,
    }),
  );
  if (st.isFile() && st.size > 0) for await (const chunk of createReadStream(full)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Every entry under a directory (not following symlinks), pre-order, as context-relative paths. */
async function walk(root: string, rel: string, out: string[] = []): Promise<string[]> {
  for (const name of (await readdir(join(root, rel))).sort()) {
    const path = rel ? `${rel}/${name}` : name;
    out.push(path);
    const st = await lstat(join(root, path));
    if (st.isDirectory()) await walk(root, path, out);
  }
  return out;
}

const hashList = (prefix: string, list: string[]) => `${prefix}:${createHash('sha256').update(list.join(',')).digest('hex')}`;

/** The files a COPY/ADD source names (dockerd's calcCopyInfo). */
export async function copyInfos(src: SourceRoot, orig: string, o: { wildcards: boolean; decompress: boolean }): Promise<CopyInfo[]> {
  let path = orig.replace(/^\/+(?=.)/, '').replace(/^\.\//, '');
  if (path === '' || path === '/') path = '.';
  if (o.wildcards && hasWildcards(path)) {
    const re = globMatcher(posix.normalize(path));
    const infos: CopyInfo[] = [];
    for (const rel of await walk(src.root, '')) if (re.test(rel)) infos.push(...(await copyInfos(src, rel, { ...o, wildcards: false })));
    if (infos.length === 0) throw invalid(`no source files were specified`);
    return infos;
  }
  const full = await resolveSource(src, posix.normalize(path));
  const st = await stat(full).catch(() => undefined);
  if (!st) throw notFound(src, path);
  const rel = posix.relative(src.root, full);
  if (!st.isDirectory()) return [{ source: src, path, full, hash: `file:${await hashOf(src, rel)}`, decompress: o.decompress }];
  const entries = await walk(src.root, rel);
  const sums = await Promise.all([...(rel === '' ? [] : [rel]), ...entries].map((e) => hashOf(src, e)));
  return [{ source: src, path, full, hash: hashList('dir', sums.sort()), decompress: o.decompress }];
}

/** The checksum a COPY/ADD's history names: one source's own, or `multi:` over all of them. */
export const sourcesHash = (infos: { hash: string }[]) =>
  infos.length === 1
    ? infos[0]!.hash
    : hashList(
        'multi',
        infos.map((i) => i.hash),
      );

/** Makes the missing directories of `dir` (absolute in the rootfs), new ones 0755 owned by `owner`; returns the host path. */
async function mkdirs(rootfs: string, dir: string, owner: Identity): Promise<string> {
  try {
    const fd = mkdirInRoot(rootfs, dir, { owner });
    fd.close();
    return fd.path === '/' ? rootfs : posix.join(rootfs, fd.path);
  } catch (err) {
    if (isErrno(err, 'ENOTDIR', 'EEXIST')) throw invalid(`failed to copy files: mkdir ${dir}: not a directory`);
    throw err;
  }
}

export interface CopyOptions {
  /** Owner of everything copied (root unless --chown). */
  owner: Identity;
  /** --chmod, applied to every file and directory copied. */
  mode?: number;
}

/**
 * Copies one source into the rootfs: a directory's content into `dest`; an archive (ADD) extracted into
 * `dest`; a file to `dest`, or into it when `dest` ends in `/` or is a directory.
 */
export async function performCopy(rootfs: string, info: CopyInfo, dest: string, o: CopyOptions): Promise<void> {
  const st = await stat(info.full);
  const destPath = posix.normalize(dest);
  if (st.isDirectory()) return copyTree(info.full, rootfs, destPath, o);
  if (info.decompress && (await isTar(info.full))) {
    const target = await mkdirs(rootfs, destPath, o.owner);
    try {
      await unpackLayer(await openDecompressed(info.full), target);
    } catch (err) {
      if (err instanceof UnsafeArchiveError) throw invalid(`failed to copy files: ${err.message}`);
      throw invalid(`failed to copy files: ${(err as Error).message}`);
    }
    return;
  }
  const existing = await lstat(await inRootPath(rootfs, destPath)).catch(() => undefined);
  const target = dest.endsWith('/') || existing?.isDirectory() ? posix.join(destPath, posix.basename(info.path)) : destPath;
  await mkdirs(rootfs, posix.dirname(target), o.owner);
  await copyEntry(info.full, await inRootPath(rootfs, target, false), o, true);
}

/** Copies a directory's content into `dest` (made when missing, with the source directory's mode). */
async function copyTree(src: string, rootfs: string, dest: string, o: CopyOptions): Promise<void> {
  const existed = (await lstat(await inRootPath(rootfs, dest)).catch(() => undefined))?.isDirectory() ?? false;
  const target = await mkdirs(rootfs, dest, o.owner);
  const rootStat = await lstat(src);
  await chmod(target, o.mode ?? rootStat.mode & 0o7777);
  if (!existed) await lchown(target, o.owner.uid, o.owner.gid);
  const dirTimes: [string, Date][] = [[target, rootStat.mtime]];
  for (const rel of await walk(src, '')) {
    // Parents resolve inside the rootfs (an image's symlinked directory is followed as the image sees it).
    const to = await inRootPath(rootfs, posix.join(dest, rel), false);
    const time = await copyEntry(join(src, rel), to, o, false);
    if (time) dirTimes.push([to, time]);
  }
  for (const [dir, time] of dirTimes.reverse()) await utimes(dir, time, time);
}

/**
 * Copies one entry (not following a symlink source inside a tree; a top-level file source is already
 * resolved). Whatever is at the target is replaced, a directory merged. Returns a directory's mtime,
 * set once its content is in.
 */
async function copyEntry(from: string, to: string, o: CopyOptions, top: boolean): Promise<Date | undefined> {
  const st = top ? await stat(from) : await lstat(from);
  const existing = await lstat(to).catch(() => undefined);
  if (st.isDirectory()) {
    if (existing && !existing.isDirectory()) await rm(to, { force: true });
    if (!existing?.isDirectory()) await mkdir(to);
    await lchown(to, o.owner.uid, o.owner.gid);
    await chmod(to, o.mode ?? st.mode & 0o7777);
    return st.mtime;
  }
  if (existing) await rm(to, { recursive: true, force: true });
  if (st.isSymbolicLink()) {
    await symlink(await readlink(from), to);
    await lchown(to, o.owner.uid, o.owner.gid);
    await lutimes(to, st.mtime, st.mtime);
    return undefined;
  }
  if (!st.isFile()) return undefined; // devices, fifos and sockets are not copied from a context
  // COPYFILE_EXCL: created fresh (O_EXCL), never written through whatever was at the path.
  await copyFile(from, to, constants.COPYFILE_EXCL);
  await lchown(to, o.owner.uid, o.owner.gid);
  await chmod(to, o.mode ?? st.mode & 0o7777);
  await utimes(to, st.mtime, st.mtime);
  return undefined;
}
