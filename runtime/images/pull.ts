// docker pull: resolve the manifest (an index narrowed to one platform), fetch and verify the config,
// then the layers — up to three at once, each unpacked as it downloads, its digest checked before it is
// recorded — and commit the image, its tag and its RepoDigest last. A pull cut off at any point leaves
// no image; completed layers stay for the next try.
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { invalid, notFound, EngineError } from '../errors.js';
import { chainIds, hex, sha256 } from '../util/digest.js';
import { decompressStream } from '../storage/decompress.js';
import { RegistryClient, RegistryError, header } from '../registry/client.js';
import { MAX_CONFIG_SIZE, MAX_MANIFEST_SIZE, readBounded } from '../registry/bodies.js';
import type { Credentials } from '../registry/auth.js';
import { endpointFor, type RegistryOptions } from '../registry/endpoints.js';
import { pullSources } from '../registry/config.js';
import { ACCEPT, parseManifest, platformString, selectPlatform, type Descriptor, type ImageManifest, type Platform } from '../registry/manifest.js';
import { familiarString, parseTaggedReference, referenceString, type Reference } from './reference.js';
import type { ImageConfig } from './config.js';
import type { ImageService } from './service.js';

export interface Progress {
  id?: string;
  status: string;
  current?: number;
  total?: number;
  /** Machine-readable result (push: Tag, Digest, Size), sent as `aux`. */
  aux?: Record<string, unknown>;
}

export interface PullOptions {
  platform: Platform;
  credentials: Credentials;
  registry: RegistryOptions;
  /** Layers downloaded at once. */
  concurrency?: number;
  /** Aborted when the client goes away: downloads and unpacking stop, nothing is recorded. */
  signal?: AbortSignal;
  /** Plain HTTP and unverified TLS allowed whatever the registry (podman's --tls-verify=false). */
  insecure?: boolean;
}

/** What a pull got: the image, the manifest's digest, and its layers' digests (as the registry has them). */
export interface PullResult {
  id: string;
  digest: string;
  layers: string[];
}

const PROGRESS_EVERY_MS = 100;

export async function pullImage(service: ImageService, name: string, o: PullOptions, progress: (p: Progress) => void): Promise<PullResult> {
  const ref = parseTaggedReference(name);
  const shown = familiarString(ref);
  const { client, source, top } = await resolveSource(ref, o, shown).catch(asEngineError);
  const scope = `repository:${source.path}:pull`;
  try {
    let parsed = parseManifest(top.bytes, top.type, shown);
    if (parsed.kind === 'index') {
      const entry = selectPlatform(parsed.index, o.platform);
      if (!entry) throw notFound(`no matching manifest for ${platformString(o.platform)} in the manifest list entries`);
      const chosen = await fetchManifest(client, source, entry.digest, scope, shown);
      parsed = parseManifest(chosen.bytes, chosen.type, shown);
      if (parsed.kind !== 'image') throw invalid(`unsupported nested manifest list for ${shown}`);
    }
    const manifest = (parsed as { kind: 'image'; manifest: ImageManifest }).manifest;
    progress({ status: `Pulling from ${ref.path}`, id: ref.digest ?? ref.tag });
    const configBytes = await fetchBlob(client, source, manifest.config, scope);
    if (sha256(configBytes) !== manifest.config.digest) throw invalid(`config digest mismatch for ${shown}: expected ${manifest.config.digest}`);
    const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== manifest.layers.length)
      throw invalid(`invalid image ${shown}: ${manifest.layers.length} layers in the manifest, ${diffIds.length} in the config`);
    const chains = chainIds(diffIds);
    const id = manifest.config.digest;
    const upToDate = ref.tag ? service.store.tagged(referenceString(ref)) === id : !!service.store.get(id);

    await fetchLayers(service, client, source, manifest.layers, diffIds, chains, scope, o.concurrency ?? 3, progress, o.signal);
    for (const [i, layer] of manifest.layers.entries()) {
      service.blobs.remember(diffIds[i]!, { repository: `${ref.domain}/${ref.path}`, digest: layer.digest, mediaType: layer.mediaType, size: layer.size });
    }

    const size = service.layers.stack(chains.at(-1) ?? null).reduce((n, l) => n + l.size, 0);
    const repoDigest = `${ref.domain}/${ref.path}@${top.digest}`;
    await service.lock.run(async () => {
      service.store.commit({ id, config: configBytes, topLayer: chains.at(-1) ?? null, parent: null, size }, ref.tag ? [referenceString(ref)] : []);
      service.store.setDigest(repoDigest, id);
    });
    service.record('pull', familiarString(ref), familiarString(ref), id);
    progress({ status: `Digest: ${top.digest}` });
    progress({ status: upToDate ? `Status: Image is up to date for ${shown}` : `Status: Downloaded newer image for ${shown}` });
    return { id, digest: top.digest, layers: manifest.layers.map((l) => l.digest) };
  } catch (err) {
    asEngineError(err);
  } finally {
    await client.close();
  }
}

/** A registry's failure as the engine's: not found (404, or denied, as dockerd words it) or internal. */
export function asEngineError(err: unknown): never {
  if (err instanceof RegistryError)
    throw new EngineError(err.status === 404 || err.status === 401 || err.status === 403 ? 'not-found' : 'internal', err.message);
  throw err;
}

/**
 * The first place (registries.conf mirrors, then the registry) that has the manifest, with it. A mirror
 * that fails or lacks it is skipped; the registry's own failure is the pull's.
 */
async function resolveSource(ref: Reference, o: Omit<PullOptions, 'platform'>, shown: string) {
  const sources = pullSources(o.registry.conf, ref.domain, ref.path);
  for (const [i, s] of sources.entries()) {
    const client = new RegistryClient(await endpointFor(s.domain, o.registry, s.insecure || !!o.insecure), s.mirror ? {} : o.credentials);
    const source = { ...ref, domain: s.domain, path: s.path };
    try {
      const top = await fetchManifest(client, source, ref.digest ?? ref.tag!, `repository:${s.path}:pull`, shown);
      return { client, source, top };
    } catch (err) {
      await client.close();
      if (i === sources.length - 1) throw err;
    }
  }
  throw invalid(`no registry to pull ${shown} from`);
}

async function fetchManifest(client: RegistryClient, ref: Reference, reference: string, scope: string, shown: string) {
  const res = await client.fetch('GET', `/v2/${ref.path}/manifests/${reference}`, scope, { headers: { accept: ACCEPT } });
  if (res.status === 404) {
    const text = await res.body.text();
    const code = (() => {
      try {
        return (JSON.parse(text) as { errors?: { code?: string }[] }).errors?.[0]?.code;
      } catch {
        return undefined;
      }
    })();
    if (code === 'NAME_UNKNOWN' || code === 'UNAUTHORIZED' || code === 'DENIED') {
      throw new RegistryError(
        `pull access denied for ${shown.replace(/:[^:/]+$/, '').replace(/@.*$/, '')}, repository does not exist or may require 'docker login': denied: requested access to the resource is denied`,
        404,
        code,
      );
    }
    throw new RegistryError(`manifest for ${shown} not found: manifest unknown: manifest unknown`, 404, code);
  }
  if (res.status === 401 || res.status === 403) {
    await res.body.dump();
    throw new RegistryError(
      `pull access denied for ${shown.replace(/:[^:/]+$/, '')}, repository does not exist or may require 'docker login': denied: requested access to the resource is denied`,
      404,
      'DENIED',
    );
  }
  if (res.status !== 200) await RegistryClient.fail(res, `fetching the manifest of ${shown}`);
  const bytes = await readBounded(res.body, MAX_MANIFEST_SIZE, () => invalid(`manifest for ${shown} is larger than ${MAX_MANIFEST_SIZE / 1024 / 1024} MiB`));
  // The digest is what the bytes hash to (the registry's Docker-Content-Digest says the same, or lies).
  const digest = sha256(bytes);
  if (reference.startsWith('sha256:') && digest !== reference) throw invalid(`manifest verification failed for digest ${reference}`);
  return { bytes, type: header(res.headers, 'content-type'), digest };
}

async function fetchBlob(client: RegistryClient, ref: Reference, d: Descriptor, scope: string): Promise<Buffer> {
  const res = await client.fetch('GET', `/v2/${ref.path}/blobs/${d.digest}`, scope);
  if (res.status !== 200) await RegistryClient.fail(res, `fetching blob ${d.digest}`);
  // More than the descriptor says cannot hash to its digest.
  const max = Math.min(d.size >= 0 ? d.size : MAX_CONFIG_SIZE, MAX_CONFIG_SIZE);
  return readBounded(res.body, max, () =>
    invalid(`blob ${d.digest} is larger than ${max === MAX_CONFIG_SIZE ? `${MAX_CONFIG_SIZE / 1024 / 1024} MiB` : `its size, ${max} bytes`}`),
  );
}

/**
 * A layer blob as a stream, saved to a partial file as it arrives. When an earlier pull was cut off,
 * its partial file is replayed and only the rest is asked for (`Range`), if the registry allows it.
 */
async function downloadLayer(service: ImageService, client: RegistryClient, ref: Reference, layer: Descriptor, scope: string) {
  const partial = service.layers.partialPath(layer.digest);
  const have = (await stat(partial).catch(() => undefined))?.size ?? 0;
  const resume = have > 0 && have < layer.size;
  const res = await client.fetch('GET', `/v2/${ref.path}/blobs/${layer.digest}`, scope, { headers: resume ? { range: `bytes=${have}-` } : {} });
  if (res.status !== 200 && res.status !== 206) await RegistryClient.fail(res, `fetching layer ${layer.digest}`);
  const resumedAt = res.status === 206 ? have : 0;
  const save = createWriteStream(partial, { flags: resumedAt > 0 ? 'a' : 'w' });
  save.on('error', () => undefined); // the partial file is a bonus: a failure to keep it is not the pull's
  // Network chunks are small (a socket read each): written in batches of 256 KiB, not one by one.
  let batch: Buffer[] = [];
  let batched = 0;
  const writeBatch = (cb: () => void) => {
    const data = Buffer.concat(batch);
    batch = [];
    batched = 0;
    if (save.write(data)) cb();
    else save.once('drain', cb);
  };
  const saving = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      batch.push(chunk);
      batched += chunk.length;
      if (batched < 256 << 10) return cb(null, chunk);
      writeBatch(() => cb(null, chunk));
    },
    flush(cb) {
      writeBatch(() => save.end(cb));
    },
  });
  let cut = false;
  res.body.on('error', (err) => {
    cut = true;
    saving.destroy(err);
    if (batched) save.write(Buffer.concat(batch)); // what did arrive is worth keeping
    save.end();
  });
  const network = res.body.pipe(saving);
  const body =
    resumedAt > 0
      ? Readable.from(
          (async function* () {
            yield* createReadStream(partial, { end: resumedAt - 1 }) as AsyncIterable<Buffer>;
            yield* network as AsyncIterable<Buffer>;
          })(),
        )
      : network;
  // Only a download cut short leaves a partial worth resuming; bad bytes must not be replayed.
  const keepPartial = () => cut;
  // The connection is the registry client's until the body is read: one left paused would hold its close.
  const cancel = () => res.body.destroy();
  return { body, resumedAt, keepPartial, cancel };
}

/** Downloads and unpacks the missing layers, `concurrency` at a time; records them bottom first. */
async function fetchLayers(
  service: ImageService,
  client: RegistryClient,
  ref: Reference,
  layers: Descriptor[],
  diffIds: string[],
  chains: string[],
  scope: string,
  concurrency: number,
  progress: (p: Progress) => void,
  signal?: AbortSignal,
): Promise<void> {
  const short = (d: Descriptor) => hex(d.digest).slice(0, 12);
  const missing: number[] = [];
  for (const [i, layer] of layers.entries()) {
    if (service.layers.get(chains[i]!)) progress({ id: short(layer), status: 'Already exists' });
    else missing.push(i);
  }
  for (const i of missing) progress({ id: short(layers[i]!), status: 'Pulling fs layer' });
  for (const i of missing.slice(concurrency)) progress({ id: short(layers[i]!), status: 'Waiting' });
  // Each layer's record waits for its parent's: the DB keeps the chain in order.
  // Each layer's record waits for its parent's (the DB keeps chains in order): one settled promise per
  // layer, made before any download starts (a layer may wait for another pull's download of its parent).
  const recorded = new Map<number, { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void }>();
  for (const [i] of layers.entries()) {
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    promise.catch(() => undefined); // awaited by the layer above, if it gets that far; failures are reported by their own layer
    recorded.set(i, { promise, resolve, reject });
    if (!missing.includes(i)) resolve();
  }
  const parentRecorded = (i: number) => (i === 0 ? Promise.resolve() : recorded.get(i - 1)!.promise);
  const done: Promise<void>[] = [];
  let next = 0;
  // A pull that shares a layer with one in progress (or with a failed one still cleaning up) waits for it.
  const runOne = (i: number): Promise<void> =>
    service.downloads
      .run(layers[i]!.digest, () => fetchOne(i))
      .catch((err: Error) => {
        recorded.get(i)!.reject(err); // whatever failed, the layers above must not wait for this one
        throw err;
      });
  const fetchOne = async (i: number): Promise<void> => {
    const layer = layers[i]!;
    const id = short(layer);
    if (service.layers.get(chains[i]!)) {
      recorded.get(i)!.resolve();
      progress({ id, status: 'Pull complete' });
      return;
    }
    const { body, resumedAt, keepPartial, cancel } = await downloadLayer(service, client, ref, layer, scope);
    const total = layer.size;
    const hash = createHash('sha256');
    let current = 0;
    let last = 0;
    let verified!: () => void;
    let failed!: (e: Error) => void;
    const blobChecked = new Promise<void>((resolve, reject) => ((verified = resolve), (failed = reject)));
    blobChecked.catch(() => undefined);
    const count = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        current += chunk.length;
        if (Date.now() - last >= PROGRESS_EVERY_MS) {
          last = Date.now();
          progress({ id, status: 'Downloading', current, total });
        }
        cb(null, chunk);
      },
      flush(cb) {
        progress({ id, status: 'Downloading', current, total });
        progress({ id, status: 'Verifying Checksum' });
        const actual = 'sha256:' + hash.digest('hex');
        if (actual !== layer.digest) {
          const err = invalid(`filesystem layer verification failed for digest ${layer.digest}`);
          failed(err);
          cb(err);
          return;
        }
        progress({ id, status: 'Download complete' });
        verified();
        cb();
      },
    });
    if (resumedAt > 0) progress({ id, status: 'Downloading', current: resumedAt, total });
    body.on('error', (err) => count.destroy(err));
    const tar = decompressStream(body.pipe(count), layer.mediaType);
    count.on('error', (err) => tar.destroy(err));
    // The downloaded (compressed) file becomes the layer's stored blob: no second copy as a plain tar.
    const record = service.layers.importStream(tar, diffIds[i]!, chains[i]!, i === 0 ? null : chains[i - 1]!, {
      blobFrom: service.layers.partialPath(layer.digest),
      signal,
      beforeCommit: async () => {
        // The tar can end before the blob does (compression trailers): wait for the whole blob's digest.
        await new Promise<void>((resolve) => (count.writableFinished ? resolve() : count.once('finish', resolve)));
        await blobChecked;
        progress({ id, status: 'Extracting', current: total, total });
        await parentRecorded(i);
      },
    });
    try {
      await record;
      recorded.get(i)!.resolve();
    } catch (err) {
      // A download cut off (the network, or a client that left) is kept to resume; one refused is not.
      const keep = keepPartial() || !!signal?.aborted;
      cancel();
      if (!keep) await rm(service.layers.partialPath(layer.digest), { force: true });
      throw err;
    }
    await rm(service.layers.partialPath(layer.digest), { force: true });
    progress({ id, status: 'Pull complete' });
  };
  let failed = false;
  const worker = async () => {
    while (next < missing.length && !failed && !signal?.aborted) {
      const i = missing[next++]!;
      await runOne(i).catch((err: Error) => {
        failed = true; // the pull has failed: start no more downloads
        throw err;
      });
    }
  };
  for (let w = 0; w < Math.min(concurrency, missing.length); w++) done.push(worker());
  await Promise.all(done);
}

/** GET /distribution/{name}/json: the descriptor a name resolves to in its registry, and its platforms. */
export async function distributionInspect(name: string, o: Omit<PullOptions, 'platform'>) {
  const ref = parseTaggedReference(name);
  const shown = familiarString(ref);
  const { client, source, top } = await resolveSource(ref, o, shown).catch(asEngineError);
  const scope = `repository:${source.path}:pull`;
  try {
    const parsed = parseManifest(top.bytes, top.type, shown);
    const mediaType = top.type?.split(';')[0] ?? '';
    let platforms: Platform[];
    if (parsed.kind === 'index') platforms = parsed.index.manifests.map((m) => m.platform).filter((p): p is Platform => !!p);
    else {
      const config = JSON.parse((await fetchBlob(client, source, parsed.manifest.config, scope)).toString('utf8')) as {
        os?: string;
        architecture?: string;
        variant?: string;
      };
      platforms = [{ architecture: config.architecture ?? '', os: config.os ?? '', ...(config.variant ? { variant: config.variant } : {}) }];
    }
    return { Descriptor: { mediaType, digest: top.digest, size: top.bytes.length }, Platforms: platforms };
  } catch (err) {
    asEngineError(err);
  } finally {
    await client.close();
  }
}
