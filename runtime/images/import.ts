// docker import: a tarball (the request body, or downloaded from a URL) becomes an image of exactly one
// layer, with a config built from `changes` the way dockerd builds it for imports.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { STATUS_CODES } from 'node:http';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { request } from 'undici';
import { undici } from '../util/lazy-modules.js';
import { decompressSniffed } from '../storage/decompress.js';
import { clientGone, limitSize, tooLarge } from '../storage/streams.js';
import { EngineError, invalid, notFound } from '../errors.js';
import { sha256 } from '../util/digest.js';
import { dialError } from '../util/dial-errors.js';
import { applyChanges } from './changes.js';
import type { ContainerConfig } from './config.js';
import { familiarString, parseReference, referenceString, validateTag } from './reference.js';
import type { ImageService } from './service.js';

export interface ImportOptions {
  /** `-` (the tarball is `body`) or a URL to download it from. */
  source: string;
  body?: Readable;
  repo?: string;
  tag?: string;
  message?: string;
  changes: string[];
  platform?: string;
  /** Aborted when the client goes away: the import stops. */
  signal?: AbortSignal;
}

export type ImportMessage =
  | { kind: 'downloading'; url: string }
  /** total is -1 when the server sent no Content-Length. */
  | { kind: 'progress'; current: number; total: number };

/**
 * Imports a tarball as a new image; returns its ID. Everything that can be refused without reading the
 * tarball (reference, platform, changes, the download's status) is checked first, so those failures
 * come before any message, as with dockerd; `downloading` is the first message of a URL import.
 */
export async function importImage(service: ImageService, o: ImportOptions, onMessage: (m: ImportMessage) => void): Promise<string> {
  const tag = importTag(o.repo, o.tag);
  const platform = parsePlatform(o.platform);
  const config = importConfig(o.changes);
  const input = o.source === '-' ? (o.body ?? Readable.from([])) : await download(o.source, onMessage);
  const work = await mkdtemp(join(service.tmpDir, 'import-'));
  try {
    const tarFile = join(work, 'layer.tar');
    const diffId = await inflate(input, tarFile, service.layers.maxLayerSize, o.signal);
    const created = new Date().toISOString();
    const comment = o.message || `Imported from ${o.source}`;
    // dockerd's keys, in its (alphabetical) order; no docker_version: berth is not a Docker release.
    const bytes = Buffer.from(
      JSON.stringify({
        architecture: platform.architecture,
        comment,
        config,
        container_config: goConfig({}),
        created,
        history: [{ created, comment }],
        os: platform.os,
        rootfs: { type: 'layers', diff_ids: [diffId] },
        ...(platform.variant ? { variant: platform.variant } : {}),
      }),
    );
    const id = sha256(bytes);
    await service.lock.run(async () => {
      try {
        const layer = await service.layers.import(tarFile, diffId, diffId, null, o.signal);
        service.store.commit({ id, config: bytes, topLayer: layer.chain_id, parent: null, size: layer.size }, tag ? [tag] : []);
      } catch (err) {
        await service.layers.gc(); // a layer this import brought in for an image it could not record
        throw err;
      }
    });
    if (tag) service.record('tag', id, familiarString(parseReference(tag)));
    service.record('import', id, id);
    return id;
  } finally {
    // A download is ours to close; the request body is the server's (destroying it closes the socket).
    if (o.source !== '-') input.destroy();
    await rm(work, { recursive: true, force: true, maxRetries: 3 }); // a write stream may still be opening
  }
}

/** moby's RepoTagReference: `repo` may carry the tag, `tag` overrides it, digests are refused. */
function importTag(repo: string | undefined, tag: string | undefined): string | undefined {
  if (!repo) return undefined;
  const ref = parseReference(repo);
  if (ref.digest) throw invalid('cannot import digest reference');
  if (tag) validateTag(tag);
  return referenceString({ ...ref, tag: tag || ref.tag || 'latest' });
}

interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** containerd's architecture aliases, with the variant they imply. */
const ARCH_ALIASES: Record<string, [string, string?]> = {
  x86_64: ['amd64'],
  'x86-64': ['amd64'],
  aarch64: ['arm64'],
  i386: ['386'],
  armhf: ['arm', 'v7'],
  armel: ['arm', 'v6'],
};
const GO_ARCH: Record<string, string> = { x64: 'amd64', ia32: '386', ppc64: 'ppc64le' };
const KNOWN_OS = new Set(['linux', 'windows', 'darwin', 'freebsd', 'netbsd', 'openbsd', 'solaris', 'illumos', 'aix', 'android', 'ios', 'plan9', 'dragonfly']);

/** containerd's platform specifier (`linux`, `arm64`, `linux/arm64/v8`); only Linux images are made here. */
function parsePlatform(specifier: string | undefined): Platform {
  const hostArch = GO_ARCH[process.arch] ?? process.arch;
  // containerd's default spec on arm64 names the variant: dockerd's imports there say v8.
  if (!specifier) return { os: 'linux', architecture: hostArch, ...(hostArch === 'arm64' ? { variant: 'v8' } : {}) };
  const parts = specifier.toLowerCase().split('/');
  if (parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p)))
    throw invalid(`"${specifier}": unknown operating system or architecture: invalid argument`);
  // One part is an OS (on the host's architecture) or an architecture (on Linux).
  const [os, arch, variant] = parts.length > 1 ? parts : KNOWN_OS.has(parts[0]!) ? [parts[0]!, hostArch] : ['linux', parts[0]!];
  if (os !== 'linux') throw invalid('operating system is not supported');
  const [architecture, implied] = ARCH_ALIASES[arch!] ?? [arch!];
  const v = variant ?? implied;
  return { os, architecture, ...(v ? { variant: v } : {}) };
}

/** Go's container.Config field order; the omitempty fields appear only when set. */
const GO_CONFIG_FIELDS: [key: string, empty: unknown][] = [
  ['Hostname', ''],
  ['Domainname', ''],
  ['User', ''],
  ['AttachStdin', false],
  ['AttachStdout', false],
  ['AttachStderr', false],
  ['ExposedPorts', undefined],
  ['Tty', false],
  ['OpenStdin', false],
  ['StdinOnce', false],
  ['Env', null],
  ['Cmd', null],
  ['Healthcheck', undefined],
  ['ArgsEscaped', undefined],
  ['Image', ''],
  ['Volumes', null],
  ['WorkingDir', ''],
  ['Entrypoint', null],
  ['NetworkDisabled', undefined],
  ['MacAddress', undefined],
  ['OnBuild', null],
  ['Labels', null],
  ['StopSignal', undefined],
  ['StopTimeout', undefined],
  ['Shell', undefined],
];

/**
 * A config as dockerd stores it: every field of Go's struct. applyChanges starts Env and Labels empty;
 * dockerd leaves them nil (null) until a change sets them.
 */
function goConfig(config: ContainerConfig): ContainerConfig {
  const out: Record<string, unknown> = {};
  for (const [key, empty] of GO_CONFIG_FIELDS) {
    let value = (config as Record<string, unknown>)[key];
    if ((key === 'Env' || key === 'Labels') && value && Object.keys(value).length === 0) value = undefined;
    if (value === undefined || value === null || (empty === undefined && value === '')) value = empty;
    if (value !== undefined) out[key] = value;
  }
  return out as ContainerConfig;
}

/** An import's config: an empty one with the `changes` applied (the commit code's parser). */
const importConfig = (changes: string[]) => goConfig(applyChanges({}, changes));

/** Downloads the tarball (http and https only), failing as dockerd's GetWithStatusError does. */
async function download(source: string, onMessage: (m: ImportMessage) => void): Promise<Readable> {
  const address = source.includes('://') ? source : `http://${source}`;
  const failed = (message: string) => new EngineError('internal', `Get "${address}": ${message}`);
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw invalid(`parse "${address}": invalid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw failed(`unsupported protocol scheme "${url.protocol.slice(0, -1)}"`);
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await undici().request(url, { method: 'GET', maxRedirections: 10 });
  } catch (err) {
    // Go's wording, as dockerd 20.10 answers (a 500, an unknown host too).
    throw failed(dialError(err) ?? (err as Error).message);
  }
  if (res.statusCode >= 400) {
    let body = '';
    for await (const chunk of res.body) {
      body += chunk.toString();
      if (body.length > 4096) break; // enough to say why; the rest is not read
    }
    res.body.destroy();
    const message = `failed to GET ${address} with status ${res.statusCode} ${STATUS_CODES[res.statusCode] ?? ''}: ${body.trim()}`;
    throw res.statusCode === 404 ? notFound(message) : res.statusCode === 400 ? invalid(message) : new EngineError('internal', message);
  }
  onMessage({ kind: 'downloading', url: address });
  const length = Number(res.headers['content-length']);
  const total = Number.isFinite(length) && length > 0 ? length : -1;
  // dockerd's progress reader: an update per 1% (at most per 512 kB), no more than ten a second, and the last.
  const every = total > 0 ? Math.min(512 * 1024, Math.floor(total / 100)) : 512 * 1024;
  let current = 0;
  let reported = 0;
  let lastTime = 0;
  const progress = new Transform({
    transform(chunk: Buffer, _enc, done) {
      current += chunk.length;
      if (current - reported > every && (current === total || Date.now() - lastTime >= 100)) {
        reported = current;
        lastTime = Date.now();
        onMessage({ kind: 'progress', current, total });
      }
      done(null, chunk);
    },
    flush(done) {
      if (reported !== current) onMessage({ kind: 'progress', current, total });
      done();
    },
  });
  res.body.on('error', (err) => progress.destroy(err));
  progress.on('close', () => res.body.destroy());
  return res.body.pipe(progress);
}

/**
 * Decompresses (moby's DecompressStream: gzip, bzip2, xz, zstd or none) into out while hashing: the
 * digest of the whole uncompressed stream is the layer's diff ID, as dockerd computes it.
 */
async function inflate(input: Readable, out: string, max: number, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  const measure = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    const tar = await decompressSniffed(input, (tool, why) => `Error processing tar file (${tool}): ${why}`);
    await pipeline(
      tar,
      limitSize(max, (m) => tooLarge('the imported tarball', m)),
      measure,
      createWriteStream(out),
      { signal },
    );
  } catch (err) {
    if (signal?.aborted) throw clientGone();
    if (err instanceof EngineError) throw err;
    throw invalid(`Error processing tar file: ${(err as Error).message}`);
  }
  return 'sha256:' + hash.digest('hex');
}
