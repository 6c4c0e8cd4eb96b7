// docker cp into a container: a client's tar extracted into a directory of a rootfs the container's
// processes may be changing right now. Every entry is made by its single name in a parent directory we
// hold open (an O_PATH descriptor, see util/in-root.ts), with calls that never follow the name; parents
// that are symlinks are followed as the container would (inside its root), never by a host path.
// The layer unpacker (storage/unpack.ts) works on directories nobody else touches; this is its twin for
// directories someone else does.
import {
  constants,
  lchownSync,
  linkSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmdirSync,
  symlinkSync,
  unlinkSync,
  chmodSync,
  chownSync,
  utimesSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { isErrno, lstatIfThereSync, mkdirInRoot, openInRoot, RootedFd, type MountLookup } from '../util/in-root.js';
import { mappedCount } from '../rootless/idmap.js';
import { rootless } from '../rootless/mode.js';
import type { OwnersToNs } from '../rootless/mapped-layer.js';
import { drain, OverwriteError, run, setPaxXattrs, UnsafeArchiveError } from '../storage/unpack.js';

const O_PATH = 0o10000000;
// A file is only ever created fresh, never opened through whatever is at its name.
const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
// Open directories held at once; beyond this the cache starts over (they are looked up again).
const MAX_OPEN_DIRS = 512;

export interface ExtractOptions {
  /** Own everything by this user instead of the archive's owners (docker cp without -a). */
  owner?: { uid: number; gid: number };
  /** Refuse to replace a directory with a non-directory or the reverse. */
  noOverwriteDirNonDir?: boolean;
  /** What is mounted in the container (util/in-root.ts): entries below a mount point go into its source. */
  mounts?: MountLookup;
  /**
   * A container in a user namespace of its own: owners (the archive's or `owner`, container ids) are
   * written as the ns ids it maps them from, and the directories made on the way are its root's.
   */
  ids?: OwnersToNs;
}

type Entry = AsyncIterable<unknown> & { header: tar.Header };

/** Extracts a tar stream into `dest`, a directory inside `root` (both held open by the caller). */
export async function extractInRoot(input: Readable, root: RootedFd, dest: RootedFd, options: ExtractOptions = {}): Promise<void> {
  const extractor = tar.extract();
  let failure: Error | undefined;
  extractor.on('error', (err: Error) => (failure ??= err));
  // pipe() does not forward source errors: a client's broken upload must fail the extraction.
  input.on('error', (err) => extractor.destroy(err));
  input.pipe(extractor);
  const writer = new Writer(root, dest, options);
  try {
    for await (const entry of extractor) await writer.entry(entry as Entry);
    writer.finish();
  } catch (err) {
    extractor.destroy();
    // Not destroyed: the server reads and drops the rest, so the client (still sending) gets the answer.
    input.unpipe(extractor);
    throw failure && !(err instanceof UnsafeArchiveError || err instanceof OverwriteError || err instanceof UnmappedOwnerError) ? failure : err;
  } finally {
    writer.close();
  }
}

class Writer {
  /** Directories by path relative to dest ('' is dest itself, which the caller owns). */
  private readonly dirs = new Map<string, RootedFd>();
  private readonly dirTimes = new Map<string, Date>();

  constructor(
    private readonly root: RootedFd,
    private readonly dest: RootedFd,
    private readonly options: ExtractOptions,
  ) {
    this.dirs.set('', dest);
  }

  /** The owner an entry gets, as the container sees it. */
  private seenUid = (h: tar.Header) => this.options.owner?.uid ?? h.uid ?? 0;
  private seenGid = (h: tar.Header) => this.options.owner?.gid ?? h.gid ?? 0;
  /**
   * Container ids as stored: through the container's own user namespace where it has one. An id it does
   * not map fails the copy, as podman's copier (idtools' ToHost) fails it; nothing is written as nobody.
   */
  private toNs(uid: number, gid: number): { uid: number; gid: number } {
    const ids = this.options.ids;
    if (!ids) return { uid, gid };
    const nsUid = ids.uid(uid);
    const nsGid = ids.gid(gid);
    if (nsUid === undefined || nsGid === undefined) {
      const [kind, id] = nsUid === undefined ? ['UID', uid] : ['GID', gid];
      throw new UnmappedOwnerError(
        `copier: put: error mapping container filesystem owner ${uid}:${gid} to host filesystem owners: container ${kind} ${id} cannot be mapped to a host ID`,
      );
    }
    return { uid: nsUid, gid: nsGid };
  }

  async entry(entry: Entry): Promise<void> {
    try {
      await this.make(entry);
    } catch (err) {
      if (err instanceof UnmappedOwnerError) throw err;
      throw entryError(err, posix.join('/', this.dest.path, entry.header.name), this.seenUid(entry.header), this.seenGid(entry.header));
    }
  }

  private async make(entry: Entry): Promise<void> {
    const h = entry.header;
    const parts = h.name.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.includes('..')) throw new UnsafeArchiveError(`invalid path in archive: ${JSON.stringify(h.name)}`);
    const isDir = h.type === 'directory';
    if (h.type !== 'file' && h.type !== 'contiguous-file') await drain(entry);
    if (parts.length === 0) {
      if (isDir) return; // `.`: the destination itself, as dockerd leaves it
      throw new UnsafeArchiveError(`invalid path in archive: ${JSON.stringify(h.name)}`);
    }
    // The owner as stored (an ns id), known before anything is made.
    const { uid, gid } = this.toNs(this.seenUid(h), this.seenGid(h));
    if (this.dirs.size > MAX_OPEN_DIRS) this.forget('');
    const rel = parts.join('/');
    const name = parts[parts.length - 1]!;
    const dir = this.dirOf(parts.slice(0, -1));
    const mount = this.mounted(dir, name);
    if (mount) {
      // A mount point: a directory entry is the mount's root (owned and moded as the entry says, as
      // dockerd's untar does through the mount); anything else would replace a mount point.
      if (!isDir || !mount.stat().isDirectory()) {
        mount.close();
        throw new Error(`cannot replace the mount point "/${rel}"`);
      }
      this.forget(rel);
      this.dirs.set(rel, mount);
      chownSync(mount.self, uid, gid);
      chmodSync(mount.self, h.mode & 0o7777);
      await setXattrs(mount.forChild, h, false);
      this.dirTimes.set(rel, h.mtime);
      return;
    }
    const at = dir.child(name);
    const existing = lstatIfThereSync(at);
    if (existing && this.options.noOverwriteDirNonDir && existing.isDirectory() !== isDir) {
      throw new OverwriteError(
        existing.isDirectory() ? `cannot overwrite directory "/${rel}" with non-directory` : `cannot overwrite non-directory "/${rel}" with directory`,
      );
    }
    if (existing && !(isDir && existing.isDirectory())) {
      this.forget(rel);
      removeAt(dir, name);
    }
    const mode = h.mode & 0o7777;
    switch (h.type) {
      case 'file':
      case 'contiguous-file': {
        const file = await open(at, CREATE, 0o600);
        try {
          for await (const chunk of entry) await file.write(chunk as Buffer);
          await file.chown(uid, gid);
          await file.chmod(mode); // after chown, which clears setuid/setgid
          await setXattrs(`/proc/${process.pid}/fd/${file.fd}`, h, false);
          await file.utimes(h.mtime, h.mtime);
        } finally {
          await file.close();
        }
        return;
      }
      case 'directory': {
        if (!existing?.isDirectory()) mkdirSync(at, 0o700);
        const fd = new RootedFd(openSync(at, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW), posix.join(dir.path, name));
        this.forget(rel);
        this.dirs.set(rel, fd);
        chownSync(fd.self, uid, gid);
        chmodSync(fd.self, mode);
        await setXattrs(fd.forChild, h, false);
        this.dirTimes.set(rel, h.mtime);
        return;
      }
      case 'symlink':
        symlinkSync(h.linkname ?? '', at);
        lchownSync(at, uid, gid);
        lutimesSync(at, h.mtime, h.mtime);
        return setXattrs(`${dir.forChild}/${name}`, h, true);
      case 'link': {
        // The target is a name under dest too: linked by that name in its own pinned directory (link(2)
        // never follows a symlink there).
        const target = (h.linkname ?? '').split('/').filter((p) => p !== '' && p !== '.');
        if (target.length === 0 || target.includes('..'))
          throw new UnsafeArchiveError(`invalid hard link in archive: ${JSON.stringify(h.name)} to ${JSON.stringify(h.linkname)}`);
        linkSync(this.dirOf(target.slice(0, -1)).child(target[target.length - 1]!), at);
        return;
      }
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        // No device nodes in a user namespace (mknod: EPERM): skipped, as podman's copier and c/storage do.
        if (h.type !== 'fifo' && rootless()) return;
        const kind = h.type === 'fifo' ? ['p'] : [h.type === 'block-device' ? 'b' : 'c', `${h.devmajor}`, `${h.devminor}`];
        await run('mknod', [`${dir.forChild}/${name}`, ...kind]); // Node has no mknod(2); mknod never follows
        const fd = new RootedFd(openSync(at, O_PATH | constants.O_NOFOLLOW), rel);
        try {
          chownSync(fd.self, uid, gid);
          chmodSync(fd.self, mode);
          utimesSync(fd.self, h.mtime, h.mtime);
        } finally {
          fd.close();
        }
        return;
      }
      default:
      // other types (pax globals, sparse, ...) carry nothing to create
    }
  }

  /** Directory mtimes last: creating entries inside changed them. */
  finish(): void {
    for (const [rel, mtime] of this.dirTimes) {
      let fd: RootedFd;
      try {
        fd = openInRoot(this.dest, rel, { followLast: false });
      } catch {
        continue; // removed or replaced meanwhile: nothing of ours to date
      }
      try {
        if (fd.stat().isDirectory()) utimesSync(fd.self, mtime, mtime);
      } finally {
        fd.close();
      }
    }
  }

  close(): void {
    this.forget('');
  }

  /**
   * The directory at `parts` under dest, made (0755) when missing. A symlink on the way is followed
   * inside the container's root; anything else that is not a directory is an error.
   */
  private dirOf(parts: string[]): RootedFd {
    const rel = parts.join('/');
    const known = this.dirs.get(rel);
    if (known) return known;
    const parent = this.dirOf(parts.slice(0, -1));
    const name = parts[parts.length - 1]!;
    const mount = this.mounted(parent, name);
    if (mount && !mount.stat().isDirectory()) {
      mount.close();
      throw new Error(`cannot extract into "/${rel}": not a directory`);
    }
    let fd = mount ?? openPathOrMake(parent, name, this.options.ids && this.toNs(0, 0));
    const st = fd.stat();
    if (st.isSymbolicLink()) {
      fd.close();
      fd = mkdirInRoot(this.root, posix.join(parent.path, name), { mounts: this.options.mounts }); // a symlink to a mount point leads into the mount, as in dockerd
    } else if (!st.isDirectory()) {
      fd.close();
      throw new Error(`cannot extract into "/${rel}": not a directory`);
    }
    this.dirs.set(rel, fd);
    return fd;
  }

  /** The source mounted at `name` in `dir`, if the container has a mount there. */
  private mounted(dir: RootedFd, name: string): RootedFd | undefined {
    const path = posix.join(dir.path, name);
    const fd = this.options.mounts?.(path);
    return fd === undefined ? undefined : new RootedFd(fd, path);
  }

  /** Closes the directories known at `rel` and below (all of them for ''), except dest. */
  private forget(rel: string): void {
    for (const [known, fd] of this.dirs) {
      if (known !== '' && (rel === '' || known === rel || known.startsWith(rel + '/'))) {
        fd.close();
        this.dirs.delete(known);
      }
    }
  }
}

/** The entry `name` of `parent`, a directory made (0755, of `owner` where given) when missing. */
function openPathOrMake(parent: RootedFd, name: string, owner?: { uid: number; gid: number }): RootedFd {
  const path = posix.join(parent.path, name);
  try {
    return new RootedFd(openSync(parent.child(name), O_PATH | constants.O_NOFOLLOW), path);
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
  let made = false;
  try {
    mkdirSync(parent.child(name), 0o755);
    made = true;
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err;
  }
  const fd = new RootedFd(openSync(parent.child(name), O_PATH | constants.O_NOFOLLOW), path);
  // Through the descriptor: the name may have been swapped meanwhile (then it is not a directory, and refused).
  if (made && owner && fd.stat().isDirectory()) chownSync(fd.self, owner.uid, owner.gid);
  return fd;
}

/**
 * `rm -r` of `name` in `dir` without ever following a name: a directory is descended through a
 * descriptor opened with O_NOFOLLOW, so one swapped for a symlink meanwhile fails instead of leading out.
 */
function removeAt(dir: RootedFd, name: string): void {
  const st = lstatIfThereSync(dir.child(name));
  if (!st) return;
  if (!st.isDirectory()) return unlinkSync(dir.child(name));
  const sub = new RootedFd(openSync(dir.child(name), constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW), posix.join(dir.path, name));
  try {
    for (const child of readdirSync(sub.self)) removeAt(sub, child);
  } finally {
    sub.close();
  }
  rmdirSync(dir.child(name));
}

/**
 * An entry's failure said of its path in the container: a refusal as Go words it (`open /p: permission
 * denied`), and a chown refused with EINVAL (an id the user namespace does not map: rootless, past the
 * user's subuid/subgid range) as podman's copier words it, with where the ids come from.
 */
function entryError(err: unknown, path: string, uid: number, gid: number): unknown {
  const said = FS_WORDS[(err as NodeJS.ErrnoException).code ?? ''];
  // Refusals by the kernel, said of the container's path (not the descriptor path the call used), as Go says them.
  if (said && isErrno(err, 'EACCES', 'EPERM', 'EROFS')) return new Error(`${(err as NodeJS.ErrnoException).syscall ?? 'open'} ${path}: ${said}`);
  if (!isErrno(err, 'EINVAL') || !/chown/.test((err as NodeJS.ErrnoException).syscall ?? '')) return err;
  const where = rootless()
    ? `: ${uid}:${gid} is not mapped in the rootless user namespace (ids 0-${mappedCount('uid') - 1}; see /etc/subuid and /etc/subgid)`
    : '';
  return new Error(`error setting ownership of "${path}" to ${uid}:${gid}: lchown ${path}: invalid argument${where}`);
}

/** An owner the container's user namespace does not map (its message is podman's). */
export class UnmappedOwnerError extends Error {}

/** Go's words (strerror) for the refusals said of a container path. */
const FS_WORDS: Record<string, string> = { EACCES: 'permission denied', EPERM: 'operation not permitted', EROFS: 'read-only file system' };

/** The xattrs a PAX header carries, worded for docker cp. */
const setXattrs = (path: string, h: tar.Header, noDereference: boolean) =>
  setPaxXattrs(path, h, noDereference, (attr) => `xattr ${attr} of ${JSON.stringify(h.name)} has a binary value that cannot be read`);
