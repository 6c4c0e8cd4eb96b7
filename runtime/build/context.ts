// The build context: the client's tar (plain, gzip, bzip2, xz or zstd) or a remote tarball (or a lone
// Dockerfile) unpacked into the build's work dir with the layer unpacker (nothing escapes it), a tarsum
// of every entry taken on the way (the checksums COPY and ADD are cached by, as dockerd computes them),
// .dockerignore applied, the Dockerfile read.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, readFile, readlink, rm, rmdir, writeFile } from 'node:fs/promises';
import { STATUS_CODES } from 'node:http';
import { join, posix } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { request } from 'undici';
import { undici } from '../util/lazy-modules.js';
import { EngineError, invalid } from '../errors.js';
import { unpackLayer, UnsafeArchiveError } from '../storage/unpack.js';
import { decompressSniffed } from '../storage/decompress.js';
import { clientGone, limitSize, settledBoth, tooLarge } from '../storage/streams.js';
import { PatternMatcher, readDockerignore } from './dockerignore.js';

export interface BuildContext {
  /** The unpacked context. */
  root: string;
  /** Tarsum (hex) of each entry, by its path without `./` and trailing `/`. */
  sums: Map<string, string>;
  dockerfile: string;
  /** Where the Dockerfile was found, context-relative. */
  dockerfilePath: string;
}

/** A file as its decompressed bytes (gzip in-process; bzip2, xz and zstd through Debian's tools). */
export const openDecompressed = (file: string): Promise<Readable> => decompressSniffed(createReadStream(file), (tool, why) => `${tool}: ${why}`);

/** Whether a (decompressed) stream starts with a tar header: ustar magic, or a v7 header whose checksum holds. */
export async function isTar(file: string): Promise<boolean> {
  const stream = await openDecompressed(file).catch(() => undefined);
  if (!stream) return false;
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      length += (chunk as Buffer).length;
      if (length >= 512) break;
    }
  } catch {
    return false;
  } finally {
    stream.destroy();
  }
  const head = Buffer.concat(chunks);
  if (head.length < 512) return false;
  if (head.subarray(257, 262).toString() === 'ustar') return true;
  const stored = parseInt(head.subarray(148, 156).toString().replace(/\0.*$/s, '').trim(), 8);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : head[i]!;
  return Number.isFinite(stored) && stored === sum && head[0] !== 0;
}

/**
 * Downloads a URL to a file (http and https), failing with dockerd's wording; returns the response
 * headers. More than `max` bytes (the engine's --max-layer-size) stops it with a 400.
 */
export async function download(url: string, file: string, max: number, signal?: AbortSignal): Promise<Record<string, string | string[] | undefined>> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid(`parse "${url}": invalid URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalid(`unsupported protocol scheme "${parsed.protocol.slice(0, -1)}"`);
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await undici().request(parsed, { method: 'GET', maxRedirections: 10, signal });
  } catch (err) {
    throw new EngineError('internal', `Get "${url}": ${(err as Error).message}`);
  }
  if (res.statusCode >= 400) {
    const body = (await res.body.text().catch(() => '')).slice(0, 4096).trim();
    throw new EngineError(
      res.statusCode === 404 ? 'not-found' : 'internal',
      `failed to GET ${url} with status ${res.statusCode} ${STATUS_CODES[res.statusCode] ?? ''}: ${body}`,
    );
  }
  await pipeline(
    res.body,
    limitSize(max, (m) => tooLarge(url, m)),
    createWriteStream(file),
  );
  return res.headers;
}

const TYPEFLAGS: Record<string, string> = {
  file: '0',
  link: '1',
  symlink: '2',
  'character-device': '3',
  'block-device': '4',
  directory: '5',
  fifo: '6',
  'contiguous-file': '7',
};

/** tarsum v1 of an entry's header (mtime left out, as in dockerd; user and group names are not part of it). */
export function tarsumHeader(h: {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  typeflag: string;
  linkname: string;
  uname?: string;
  gname?: string;
  devmajor: number;
  devminor: number;
  xattrs?: [string, string][];
}): string {
  const xattrs = [...(h.xattrs ?? [])]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => k + v)
    .join('');
  return `name${h.name}mode${h.mode}uid${h.uid}gid${h.gid}size${h.size}typeflag${h.typeflag}linkname${h.linkname}uname${h.uname ?? ''}gname${h.gname ?? ''}devmajor${h.devmajor}devminor${h.devminor}${xattrs}`;
}

/** Reads a tar stream, recording each entry's tarsum by its cleaned path. */
async function sumEntries(input: Readable, sums: Map<string, string>): Promise<void> {
  const extract = tar.extract();
  input.on('error', (err) => extract.destroy(err));
  input.pipe(extract);
  for await (const entry of extract) {
    const h = entry.header;
    const hash = createHash('sha256');
    const xattrs = Object.entries((h.pax ?? {}) as Record<string, string>)
      .filter(([k]) => k.startsWith('SCHILY.xattr.'))
      .map(([k, v]) => [k.slice(13), v] as [string, string]);
    hash.update(
      tarsumHeader({
        name: h.name,
        mode: h.mode ?? 0,
        uid: h.uid ?? 0,
        gid: h.gid ?? 0,
        size: h.size ?? 0,
        typeflag: TYPEFLAGS[h.type ?? 'file'] ?? '0',
        linkname: h.linkname ?? '',
        devmajor: h.devmajor ?? 0,
        devminor: h.devminor ?? 0,
        xattrs,
      }),
    );
    for await (const chunk of entry) hash.update(chunk as Buffer);
    sums.set(h.name.replace(/^\.\//, '').replace(/\/$/, ''), hash.digest('hex'));
  }
}

export interface ContextSource {
  /** The request body (a tar, maybe compressed). */
  body?: Readable;
  /** A URL to a tarball or to a Dockerfile. */
  remote?: string;
  dockerfile?: string;
  /** Aborted when the client goes away: receiving stops. */
  signal?: AbortSignal;
  /** The most bytes the context may take, as sent and unpacked (the engine's --max-layer-size). */
  maxSize: number;
}

/** Receives the context into `work` (which the caller removes) and reads its Dockerfile. */
export async function receiveContext(src: ContextSource, work: string): Promise<BuildContext> {
  const root = join(work, 'context');
  await mkdir(root, { recursive: true });
  const raw = join(work, 'context.tar');
  const sums = new Map<string, string>();
  let lone = false; // a remote Dockerfile, not an archive
  if (src.remote) {
    await download(src.remote, raw, src.maxSize, src.signal);
    lone = !(await isTar(raw));
  } else {
    const limit = limitSize(src.maxSize, (max) => tooLarge('the build context', max));
    try {
      await pipeline(src.body ?? Readable.from([]), limit, createWriteStream(raw), { signal: src.signal });
    } catch (err) {
      if (src.signal?.aborted) throw clientGone();
      if (err instanceof EngineError) throw err;
      throw invalid(`Error reading the build context: ${(err as Error).message}`);
    }
  }
  if (lone) {
    await writeFile(join(root, src.dockerfile || 'Dockerfile'), await readFile(raw));
  } else if ((await lstat(raw)).size > 0) {
    const decompressed = await openDecompressed(raw);
    // The unpacked size is bounded, as a layer's: a compression bomb stops here.
    const stream = decompressed.pipe(limitSize(src.maxSize, (max) => tooLarge('the build context', max)));
    const toUnpack = new PassThrough();
    const toSum = new PassThrough();
    const onAbort = () => stream.destroy(clientGone());
    src.signal?.addEventListener('abort', onAbort);
    decompressed.on('error', (err) => stream.destroy(err));
    stream.on('close', () => decompressed.destroy());
    stream.on('error', (err) => {
      toUnpack.destroy(err);
      toSum.destroy(err);
    });
    stream.pipe(toUnpack);
    stream.pipe(toSum);
    try {
      await settledBoth(unpackLayer(toUnpack, root), sumEntries(toSum, sums), (err) => stream.destroy(err));
    } catch (err) {
      if (src.signal?.aborted) throw clientGone();
      if (err instanceof EngineError) throw err;
      if (err instanceof UnsafeArchiveError) throw invalid(err.message.replace(/ in layer:/, ' in the build context:'));
      throw invalid(`Error processing tar file: ${(err as Error).message}`);
    } finally {
      src.signal?.removeEventListener('abort', onAbort);
    }
  }
  await rm(raw, { force: true });
  const { text, path } = await readDockerfile(root, src.dockerfile);
  await applyDockerignore(root);
  return { root, sums, dockerfile: text, dockerfilePath: path };
}

/** The Dockerfile: the path given, else `Dockerfile`, `dockerfile` or `Containerfile`; never read through a link that leaves the context. */
async function readDockerfile(root: string, given: string | undefined): Promise<{ text: string; path: string }> {
  const candidates = given ? [given] : ['Dockerfile', 'dockerfile', 'Containerfile', 'containerfile'];
  for (const name of candidates) {
    const rel = posix.normalize(name.replace(/^\/+/, ''));
    if (rel.startsWith('..')) throw invalid(`The Dockerfile (${name}) must be within the build context`);
    const full = await resolveInContext(root, rel).catch(() => undefined);
    if (!full) continue;
    const st = await lstat(full).catch(() => undefined);
    if (!st?.isFile()) continue;
    return { text: await readFile(full, 'utf8'), path: rel };
  }
  throw invalid(`Cannot locate specified Dockerfile: ${given || 'Dockerfile'}`);
}

/** Removes what .dockerignore excludes; the Dockerfile and .dockerignore go only when they are excluded too (after being read). */
async function applyDockerignore(root: string): Promise<void> {
  const text = await readFile(join(root, '.dockerignore'), 'utf8').catch(() => undefined);
  if (text === undefined) return;
  let matcher: PatternMatcher;
  try {
    matcher = new PatternMatcher(readDockerignore(text));
  } catch (err) {
    throw invalid(`failed to parse .dockerignore: ${(err as Error).message}`);
  }
  if (matcher.empty) return;
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await readdir(join(root, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      const excluded = matcher.matches(path);
      if (entry.isDirectory() && !entry.isSymbolicLink()) {
        if (excluded && !matcher.exclusions) {
          await rm(join(root, path), { recursive: true, force: true });
          continue;
        }
        await walk(path);
        // An excluded directory stays only for an exception inside it.
        if (excluded) await rmdir(join(root, path)).catch(() => undefined);
      } else if (excluded) {
        await rm(join(root, path), { force: true });
      }
    }
  };
  await walk('');
}

/** Thrown when a source path leaves the build context (`..`, or a symlink that points out). */
export class OutsideContextError extends Error {}

/**
 * Resolves a context-relative path, following symlinks inside the context; a path or link that leads
 * out of it (or any absolute link) is refused. Returns the absolute path (which may not exist).
 */
export async function resolveInContext(root: string, rel: string): Promise<string> {
  const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
  const resolved: string[] = [];
  let hops = 0;
  let link = '';
  while (parts.length > 0) {
    const part = parts.shift()!;
    if (part === '..') {
      if (resolved.length === 0) throw new OutsideContextError(link ? `${rel} (${link})` : rel);
      resolved.pop();
      continue;
    }
    const candidate = [...resolved, part];
    const full = join(root, ...candidate);
    const st = await lstat(full).catch(() => undefined);
    if (st?.isSymbolicLink()) {
      if (++hops > 40) throw invalid(`too many levels of symbolic links: ${rel}`);
      const target = await readlink(full);
      link = `${candidate.join('/')} -> ${target}`;
      if (target.startsWith('/')) throw new OutsideContextError(`${rel} (${link})`);
      parts.unshift(...target.split('/').filter(Boolean));
      continue;
    }
    resolved.push(part);
  }
  return join(root, ...resolved);
}
