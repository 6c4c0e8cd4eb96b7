// docker push: each layer (top first, as dockerd reports them) is skipped when the registry has its
// blob (HEAD), mounted from another repository of the same registry when one is known to hold it, or
// gzipped and uploaded in chunks as it streams (POST, PATCHes, PUT ?digest=); then the config, then
// the Docker schema 2 manifest under the tag. Pulled back, the image has the same ID (its config is
// sent byte for byte).
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { createGzip } from 'node:zlib';
import { invalid, notFound } from '../errors.js';
import { hex, sha256 } from '../util/digest.js';
import { RegistryClient, header } from '../registry/client.js';
import type { Credentials } from '../registry/auth.js';
import { endpointFor, type RegistryOptions } from '../registry/endpoints.js';
import { MEDIA, type Descriptor } from '../registry/manifest.js';
import { familiarString, parseReference, referenceString, type Reference } from './reference.js';
import type { ImageService } from './service.js';
import { asEngineError, type Progress } from './pull.js';

export interface PushOptions {
  credentials: Credentials;
  registry: RegistryOptions;
  concurrency?: number;
  /** The image to push under `name` (podman's source; its tag there need not exist here); else `name`'s own. */
  image?: string;
  /** Plain HTTP and unverified TLS allowed whatever the registry (podman's --tls-verify=false). */
  insecure?: boolean;
}

/** What one tag's push sent: the manifest's digest, the config's, and the layers' diff IDs (bottom first). */
export interface PushResult {
  tag: string;
  digest: string;
  config: string;
  layers: string[];
}

/** Uploads are sent in chunks of this size (PATCH), so a layer streams without a temporary file. */
const CHUNK = 8 << 20;
const PROGRESS_EVERY_MS = 100;

/** Pushes `name` (with `tag`, or every tag of the repository when none is given). */
export async function pushImage(
  service: ImageService,
  name: string,
  tag: string | undefined,
  o: PushOptions,
  progress: (p: Progress) => void,
): Promise<PushResult[]> {
  const repoRef = parseReference(name);
  const repository = familiarString({ ...repoRef, tag: undefined, digest: undefined });
  const tags = tag || repoRef.tag ? [tag || repoRef.tag!] : o.image ? ['latest'] : service.store.tagsOfRepository(`${repoRef.domain}/${repoRef.path}`);
  const client = new RegistryClient(await endpointFor(repoRef.domain, o.registry, o.insecure), o.credentials);
  try {
    progress({ status: `The push refers to repository [${repository}]` });
    const missing = tags.length === 0 || tags.some((t) => !service.store.tagged(referenceString({ ...repoRef, tag: t, digest: undefined })));
    if (missing && !o.image) throw notFound(`An image does not exist locally with the tag: ${repository}`);
    const results: PushResult[] = [];
    for (const t of tags) results.push(await pushTag(service, client, { ...repoRef, tag: t, digest: undefined }, o, progress));
    return results;
  } catch (err) {
    asEngineError(err);
  } finally {
    await client.close();
  }
}

async function pushTag(service: ImageService, client: RegistryClient, ref: Reference, o: PushOptions, progress: (p: Progress) => void): Promise<PushResult> {
  const image = service.store.resolve(o.image ?? referenceString(ref));
  const repository = `${ref.domain}/${ref.path}`;
  const scope = `repository:${ref.path}:pull,push`;
  const stack = service.layers.stack(image.top_layer); // bottom first
  const layers = [...stack].reverse();
  const short = (diffId: string) => hex(diffId).slice(0, 12);
  for (const l of layers) progress({ id: short(l.diff_id), status: 'Preparing' });
  const concurrency = o.concurrency ?? 5;
  for (const l of layers.slice(concurrency)) progress({ id: short(l.diff_id), status: 'Waiting' });
  const descriptors = new Map<string, Descriptor>();
  let next = 0;
  const worker = async () => {
    while (next < layers.length) {
      const l = layers[next++]!;
      descriptors.set(l.diff_id, await pushLayer(service, client, ref, repository, scope, l.diff_id, l.tar_size, short(l.diff_id), progress));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, layers.length) }, worker));
  const config = image.config;
  const configDescriptor: Descriptor = { mediaType: MEDIA.dockerConfig, size: config.length, digest: sha256(config) };
  if (!(await exists(client, ref, configDescriptor.digest, scope))) await uploadBytes(client, ref, scope, config, configDescriptor.digest);
  const manifest = Buffer.from(
    JSON.stringify(
      {
        schemaVersion: 2,
        mediaType: MEDIA.dockerManifest,
        config: configDescriptor,
        layers: stack.map((l) => descriptors.get(l.diff_id)!),
      },
      null,
      3,
    ),
  );
  const res = await client.fetch('PUT', `/v2/${ref.path}/manifests/${ref.tag}`, scope, { headers: { 'content-type': MEDIA.dockerManifest }, body: manifest });
  if (res.status !== 201 && res.status !== 200) await RegistryClient.fail(res, 'pushing the manifest');
  await res.body.dump();
  const digest = sha256(manifest);
  service.store.setDigest(`${repository}@${digest}`, image.id);
  service.record('push', familiarString(ref), familiarString(ref), image.id);
  progress({ status: `${ref.tag}: digest: ${digest} size: ${manifest.length}` });
  progress({ status: '', aux: { Tag: ref.tag!, Digest: digest, Size: manifest.length } });
  return { tag: ref.tag!, digest, config: configDescriptor.digest, layers: stack.map((l) => l.diff_id) };
}

async function exists(client: RegistryClient, ref: Reference, digest: string, scope: string): Promise<boolean> {
  const res = await client.fetch('HEAD', `/v2/${ref.path}/blobs/${digest}`, scope);
  await res.body.dump();
  return res.status === 200;
}

/** One layer: already there, mounted from a sibling repository, or uploaded. Returns its descriptor. */
async function pushLayer(
  service: ImageService,
  client: RegistryClient,
  ref: Reference,
  repository: string,
  scope: string,
  diffId: string,
  tarSize: number,
  id: string,
  progress: (p: Progress) => void,
): Promise<Descriptor> {
  const host = repository.slice(0, repository.indexOf('/'));
  for (const known of service.blobs.known(diffId, repository)) {
    if (!known.repository.startsWith(`${host}/`)) continue; // another registry's blob
    const descriptor = { mediaType: known.mediaType, size: known.size, digest: known.digest };
    if (await exists(client, ref, known.digest, scope)) {
      progress({ id, status: 'Layer already exists' });
      return descriptor;
    }
    if (known.repository === repository) continue;
    // Cross-repository mount: the registry links the blob without an upload (201), or starts one (202).
    const from = known.repository.slice(host.length + 1);
    const res = await client.fetch(
      'POST',
      `/v2/${ref.path}/blobs/uploads/?mount=${encodeURIComponent(known.digest)}&from=${encodeURIComponent(from)}`,
      `${scope} repository:${from}:pull`,
    );
    await res.body.dump();
    if (res.status === 201) {
      service.blobs.remember(diffId, { repository, ...descriptor });
      progress({ id, status: `Mounted from ${from}` });
      return descriptor;
    }
  }
  // Upload: gzip as it streams, in PATCH chunks; the digest is known at the end, for the final PUT.
  let location = await startUpload(client, ref, scope);
  const hash = createHash('sha256');
  let compressedSize = 0;
  let read = 0;
  let last = 0;
  // Level 3: about twice zlib's default speed for a few percent more bytes; the image ID does not change.
  const gzip = createGzip({ level: 3 });
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      read += chunk.length;
      if (Date.now() - last >= PROGRESS_EVERY_MS) {
        last = Date.now();
        progress({ id, status: 'Pushing', current: read, total: tarSize });
      }
      cb(null, chunk);
    },
  });
  const compressed = (await service.layers.tarStream(diffId)).pipe(counter).pipe(gzip);
  let pending: Buffer[] = [];
  let pendingSize = 0;
  const flush = async () => {
    if (pendingSize === 0) return;
    const body = Buffer.concat(pending);
    pending = [];
    pendingSize = 0;
    const res = await client.fetch('PATCH', location, scope, {
      headers: { 'content-type': 'application/octet-stream', 'content-range': `${compressedSize - body.length}-${compressedSize - 1}` },
      body,
    });
    if (res.status !== 202) await RegistryClient.fail(res, 'uploading a layer');
    await res.body.dump();
    location = header(res.headers, 'location') ?? location;
  };
  for await (const chunk of compressed as AsyncIterable<Buffer>) {
    hash.update(chunk);
    compressedSize += chunk.length;
    pending.push(chunk);
    pendingSize += chunk.length;
    if (pendingSize >= CHUNK) await flush();
  }
  await flush();
  const digest = 'sha256:' + hash.digest('hex');
  const res = await client.fetch('PUT', withDigest(location, digest), scope, { headers: { 'content-length': '0' } });
  if (res.status !== 201) await RegistryClient.fail(res, 'completing a layer upload');
  await res.body.dump();
  progress({ id, status: 'Pushing', current: read, total: tarSize });
  progress({ id, status: 'Pushed' });
  const descriptor = { mediaType: MEDIA.dockerLayer, size: compressedSize, digest };
  service.blobs.remember(diffId, { repository, ...descriptor });
  return descriptor;
}

async function startUpload(client: RegistryClient, ref: Reference, scope: string): Promise<string> {
  const res = await client.fetch('POST', `/v2/${ref.path}/blobs/uploads/`, scope, { headers: { 'content-length': '0' } });
  if (res.status !== 202) await RegistryClient.fail(res, 'starting an upload');
  await res.body.dump();
  const location = header(res.headers, 'location');
  if (!location) throw invalid('the registry started an upload without a Location');
  return location;
}

/** A monolithic upload (the config): POST, then PUT with the bytes and their digest. */
async function uploadBytes(client: RegistryClient, ref: Reference, scope: string, bytes: Buffer, digest: string): Promise<void> {
  const location = await startUpload(client, ref, scope);
  const res = await client.fetch('PUT', withDigest(location, digest), scope, { headers: { 'content-type': 'application/octet-stream' }, body: bytes });
  if (res.status !== 201) await RegistryClient.fail(res, 'uploading the image config');
  await res.body.dump();
}

function withDigest(location: string, digest: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
}
