// Unpacks one image layer (an uncompressed tar) into an empty directory that becomes an overlayfs lower dir.
// Layers come from registries and archives we do not trust, so every path is checked before anything is
// written: no `..`, no writing through symlinks, no hard links to files outside the layer.
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, open, readdir, rm, symlink, utimes } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { mappedCount } from '../rootless/idmap.js';
import { rootless } from '../rootless/mode.js';
import { opaqueXattr } from './rootless-overlay.js';

/** A layer entry that would escape the target directory (or otherwise cannot be trusted). */
export class UnsafeArchiveError extends Error {}

/** With noOverwriteDirNonDir: an entry would replace a directory by a file, or a file by a directory. */
export class OverwriteError extends Error {}

export interface UnpackResult {
  /** Bytes of regular files (once per inode) and symlink targets, which is what Docker reports as a layer's size. */
  size: number;
}

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';
// O_EXCL|O_NOFOLLOW: a file is only ever created fresh, never opened through whatever is at its path.
const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

type Entry = AsyncIterable<unknown> & { header: tar.Header };

/** Extracts an uncompressed tar stream into target, an empty directory. Rejects on any unsafe or broken entry. */
export interface UnpackOptions {
  /** Own everything by this user instead of the archive's owners (docker cp without -a). */
  owner?: { uid: number; gid: number };
  /** Refuse to replace a directory with a non-directory or the reverse (docker cp's noOverwriteDirNonDir). */
  noOverwriteDirNonDir?: boolean;
  /**
   * Apply whiteouts to what is there instead of writing them (a layer applied over a mounted rootfs, as
   * a squash does): `.wh.NAME` removes NAME, `.wh..wh..opq` empties its directory.
   */
  applyWhiteouts?: boolean;
}

export async function unpackLayer(input: NodeJS.ReadableStream, target: string, options: UnpackOptions = {}): Promise<UnpackResult> {
  const extractor = tar.extract();
  // An entry read after the extractor failed only says "Stream was destroyed"; this error says why.
  let failure: Error | undefined;
  extractor.on('error', (err: Error) => (failure ??= err));
  const source = input as Readable;
  // pipe() does not forward source errors; a failed read must fail the unpack, not stall it.
  source.on('error', (err) => extractor.destroy(err));
  source.pipe(extractor);
  const unpacker = new Unpacker(resolve(target), options);
  try {
    for await (const entry of extractor) await unpacker.entry(entry);
    await unpacker.finish();
    return { size: unpacker.size };
  } catch (err) {
    // Leaving the loop early already destroys the extractor; the source must not stay open behind it.
    extractor.destroy();
    source.destroy?.();
    throw failure && !(err instanceof UnsafeArchiveError) ? failure : err;
  }
}

class Unpacker {
  size = 0;
  /** Relative paths known to be real directories (not symlinks), so parents are checked once. */
  private readonly dirs = new Set<string>(['']);
  /** Relative paths of the entries this archive made (an opaque whiteout applied spares them). */
  private readonly created = new Set<string>();
  /** Directory mtimes, applied last because creating children changes them. */
  private readonly dirTimes = new Map<string, Date>();

  constructor(
    private readonly root: string,
    private readonly options: UnpackOptions = {},
  ) {}

  private uid = (h: tar.Header) => this.options.owner?.uid ?? h.uid;
  private gid = (h: tar.Header) => this.options.owner?.gid ?? h.gid;

  async entry(entry: Entry): Promise<void> {
    const h = entry.header;
    const parts = split(h.name, 'unsafe path', h.name);
    const rel = parts.join('/');
    const base = parts[parts.length - 1] ?? '';

    if (base.startsWith(WHITEOUT)) {
      await drain(entry);
      return this.whiteout(parts.slice(0, -1), base, h.name);
    }
    if (rel === '' && h.type !== 'directory') throw unsafe('non-directory entry for the layer root', h.name);

    switch (h.type) {
      case 'file':
      case 'contiguous-file': {
        const path = await this.prepare(parts, h.name);
        const file = await open(path, CREATE, 0o600);
        await pipeline(Readable.from(entry), file.createWriteStream()); // closes the file
        this.size += h.size;
        return this.finishEntry(path, h);
      }
      case 'directory': {
        await drain(entry);
        const path = await this.prepare(parts, h.name, true);
        this.dirs.add(rel);
        this.dirTimes.set(rel, h.mtime);
        return this.finishEntry(path, h, false);
      }
      case 'symlink': {
        await drain(entry);
        const path = await this.prepare(parts, h.name);
        await symlink(h.linkname ?? '', path);
        this.size += Buffer.byteLength(h.linkname ?? ''); // a symlink's lstat size, as Docker counts it
        await this.chown(path, h);
        await lutimes(path, h.mtime, h.mtime);
        return this.setXattrs(path, h);
      }
      case 'link': {
        await drain(entry);
        // The link target must already be in this layer, reached without symlinks: otherwise a hard link
        // could pull in (and later expose for writing) a host file.
        const to = JSON.stringify(h.linkname ?? '');
        const targetParts = split(h.linkname ?? '', `unsafe hard link to ${to}`, h.name);
        if (targetParts.length === 0) throw unsafe('hard link to the layer root', h.name);
        if (targetParts.join('/') === rel) return; // a link to itself changes nothing
        const from = join(this.root, ...targetParts);
        if (!(await this.checkParents(targetParts.slice(0, -1), h.name)) || !(await exists(from))) {
          throw unsafe(`hard link to missing file ${to}`, h.name);
        }
        // The link shares the target's inode, whose owner and mode are already set.
        await link(from, await this.prepare(parts, h.name));
        return;
      }
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        await drain(entry);
        // In a user namespace mknod of a real device is refused (EPERM): skipped, as dockerd's and
        // c/storage's unpack skip them there (the runtime makes /dev). A 0:0 char device is overlay's
        // whiteout, which the namespace's root may make; FIFOs too.
        if (rootless() && h.type !== 'fifo' && !(h.type === 'character-device' && !h.devmajor && !h.devminor)) return;
        const path = await this.prepare(parts, h.name);
        const kind = h.type === 'fifo' ? ['p'] : [h.type === 'block-device' ? 'b' : 'c', `${h.devmajor}`, `${h.devminor}`];
        await run('mknod', [path, ...kind]); // Node has no mknod(2)
        return this.finishEntry(path, h);
      }
      default:
        await drain(entry); // unknown types carry nothing we can represent
    }
  }

  /** Applies directory mtimes once nothing more is created inside them. */
  async finish(): Promise<void> {
    for (const [rel, mtime] of this.dirTimes) await utimes(join(this.root, rel), mtime, mtime);
  }

  /** OCI whiteouts become overlayfs ones: `.wh.NAME` a 0:0 char device, `.wh..wh..opq` an opaque xattr. */
  private async whiteout(dirParts: string[], base: string, name: string): Promise<void> {
    if (this.options.applyWhiteouts) return this.applyWhiteout(dirParts, base, name);
    if (base === OPAQUE) {
      await this.checkParents(dirParts, name, true);
      return run('setfattr', ['-h', '-n', opaqueXattr(), '-v', 'y', join(this.root, ...dirParts)]);
    }
    if (base.startsWith(WHITEOUT + WHITEOUT)) return; // other AUFS metadata: meaningless to overlayfs
    const hidden = base.slice(WHITEOUT.length);
    if (hidden === '' || hidden === '.' || hidden === '..') throw unsafe('invalid whiteout', name);
    await run('mknod', [await this.prepare([...dirParts, hidden], name), 'c', '0', '0']);
  }

  /** A whiteout applied: what it hides is removed (its parents checked as for any entry: no symlink on the way). */
  private async applyWhiteout(dirParts: string[], base: string, name: string): Promise<void> {
    if (base !== OPAQUE && base.startsWith(WHITEOUT + WHITEOUT)) return;
    if (!(await this.checkParents(dirParts, name))) return; // nothing there to hide
    const dir = join(this.root, ...dirParts);
    if (base === OPAQUE) {
      // Only what lower layers had: this layer's own entries in the directory come after its opaque marker.
      for (const child of await readdir(dir).catch(() => [] as string[])) {
        if (!this.created.has([...dirParts, child].join('/'))) await rm(join(dir, child), { recursive: true, force: true });
      }
      return;
    }
    const hidden = base.slice(WHITEOUT.length);
    if (hidden === '' || hidden === '.' || hidden === '..') throw unsafe('invalid whiteout', name);
    await rm(join(dir, hidden), { recursive: true, force: true });
  }

  /**
   * Makes the way for a new entry: parents exist as real directories (created when missing), and anything
   * already at the path is removed, unless both are directories (then they merge). Returns the full path.
   */
  private async prepare(parts: string[], name: string, isDir = false): Promise<string> {
    const path = join(this.root, ...parts);
    if (parts.length === 0) return path;
    await this.checkParents(parts.slice(0, -1), name, true);
    const existing = await lstat(path).catch(notFoundAsUndefined);
    if (existing && this.options.noOverwriteDirNonDir && existing.isDirectory() !== isDir) {
      throw new OverwriteError(
        existing.isDirectory()
          ? `cannot overwrite directory "/${parts.join('/')}" with non-directory`
          : `cannot overwrite non-directory "/${parts.join('/')}" with directory`,
      );
    }
    if (existing && !(isDir && existing.isDirectory())) {
      await rm(path, { recursive: true, force: true });
      this.forget(parts.join('/'));
    }
    if (isDir && !existing?.isDirectory()) await mkdir(path);
    if (this.options.applyWhiteouts) this.created.add(parts.join('/'));
    return path;
  }

  /**
   * Rejects parent paths that are symlinks on disk. Missing ones are created (root-owned, 0755) if create is
   * set; otherwise the answer is false.
   */
  private async checkParents(parts: string[], name: string, create = false): Promise<boolean> {
    for (let i = 1; i <= parts.length; i++) {
      const rel = parts.slice(0, i).join('/');
      if (this.dirs.has(rel)) continue;
      const path = join(this.root, rel);
      const st = await lstat(path).catch(notFoundAsUndefined);
      if (st?.isSymbolicLink()) throw unsafe(`path through symlink "${rel}"`, name);
      if (!st) {
        if (!create) return false;
        await mkdir(path);
        await chmod(path, 0o755); // whatever the umask
      } else if (!st.isDirectory()) {
        throw new Error(`invalid layer entry "${name}": "${rel}" is not a directory`);
      }
      this.dirs.add(rel);
    }
    return true;
  }

  /** Drops what we knew about a removed path and everything below it. */
  private forget(rel: string): void {
    for (const known of [...this.dirs, ...this.dirTimes.keys()]) {
      if (known === rel || known.startsWith(rel + '/')) {
        this.dirs.delete(known);
        this.dirTimes.delete(known);
      }
    }
  }

  private async finishEntry(path: string, h: tar.Header, setTime = true): Promise<void> {
    await this.chown(path, h);
    await chmod(path, h.mode & 0o7777); // after chown, which clears setuid/setgid
    await this.setXattrs(path, h); // after chown, which drops security.capability
    if (setTime) await utimes(path, h.mtime, h.mtime);
  }

  /** The entry's owner. In a user namespace an owner outside its map is EINVAL: said in podman's words, with the map's size. */
  private async chown(path: string, h: tar.Header): Promise<void> {
    const [uid, gid] = [this.uid(h), this.gid(h)];
    await lchown(path, uid, gid).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EINVAL' || !rootless()) throw err;
      const name = `/${path.slice(this.root.length + 1)}`;
      throw new Error(
        `potentially insufficient UIDs or GIDs available in user namespace (requested ${uid}:${gid} for ${name}): ` +
          `Check /etc/subuid and /etc/subgid (${mappedIds()}): lchown ${name}: invalid argument`,
      );
    });
  }

  private setXattrs(path: string, h: tar.Header): Promise<void> {
    return setPaxXattrs(path, h, true, (attr) => `invalid layer entry "${h.name}": xattr ${attr} has a binary value that cannot be read`);
  }
}

/**
 * Sets the xattrs a PAX header carries as `SCHILY.xattr.NAME` records (on a symlink itself with
 * `noDereference`). Only privileged namespaces may fail: they depend on the host (SELinux,
 * capabilities), not the archive. tar-stream decodes PAX values as UTF-8, so a binary value arrives
 * mangled: never written, an error (`binaryValue`'s words) unless optional.
 */
export async function setPaxXattrs(path: string, h: tar.Header, noDereference: boolean, binaryValue: (attr: string) => string): Promise<void> {
  for (const [key, value] of Object.entries((h.pax ?? {}) as Record<string, string>)) {
    if (!key.startsWith('SCHILY.xattr.')) continue;
    const attr = key.slice('SCHILY.xattr.'.length);
    const optional = attr.startsWith('security.') || attr.startsWith('trusted.');
    if (value.includes('\uFFFD')) {
      if (optional) continue;
      throw new Error(binaryValue(attr));
    }
    const args = [...(noDereference ? ['-h'] : []), '-n', attr, '-v', '0s' + Buffer.from(value, 'utf8').toString('base64'), path];
    await run('setfattr', args).catch((err: Error) => {
      if (!optional) throw err;
    });
  }
}

/** What the namespace maps, for the message of an owner outside it. */
function mappedIds(): string {
  return `the user namespace maps uids 0-${mappedCount('uid') - 1} and gids 0-${mappedCount('gid') - 1}: the user and the range given to it there`;
}

/** Splits a tar path into components; `./`, `/` and `.` vanish, and `..` is refused. */
function split(path: string, what: string, name: string): string[] {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw unsafe(what, name);
  return parts;
}

const unsafe = (what: string, name: string) => new UnsafeArchiveError(`${what} in layer: ${JSON.stringify(name)}`);

const notFoundAsUndefined = (err: NodeJS.ErrnoException): undefined => {
  if (err.code === 'ENOENT') return undefined;
  throw err;
};

const exists = async (path: string) => (await lstat(path).catch(notFoundAsUndefined)) !== undefined;

/** Reads an entry's data to its end, so the extractor moves on to the next header. */
export async function drain(entry: Entry): Promise<void> {
  for await (const _ of entry) {
    // discard
  }
}

/** Runs a command, rejecting with its stderr if it fails. */
export function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || `exit code ${code}`}`))));
  });
}
