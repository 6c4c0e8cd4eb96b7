// docker load: docker-archive (legacy and Docker 25+ layouts), OCI image layouts, and pre-1.10 v1 archives.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { invalid } from '../errors.js';
import { chainIds, hex, isDigest, sha256 } from '../util/digest.js';
import { SpooledArchive } from './archive.js';
import { readLegacyArchive } from './legacy-archive.js';
import { openLayer } from '../storage/decompress.js';
import type { ImageConfig } from './config.js';
import { familiar, familiarString, parseReference, parseTaggedReference, referenceString } from './reference.js';
import type { ImageService } from './service.js';
import { localhostQualified } from './short-names.js';

export type LoadMessage =
  | { kind: 'layer'; id: string; size: number }
  /** `tag` familiar (Docker's message), `name` as stored (libpod's). */
  | { kind: 'loaded'; tag?: string; name?: string; id: string }
  | { kind: 'renamed'; tag: string; previous: string };

interface ArchiveImage {
  config: Buffer;
  layers: string[]; // archive members, bottom first
  tags: string[]; // normalized references
  parent?: string;
  silent?: boolean; // a v1 archive's image: loaded without a "Loaded image" message, as dockerd
  manifest?: { digest: string; mediaType: string; size: number }; // an OCI layout's
}

interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
  Parent?: string;
}

interface Descriptor {
  mediaType?: string;
  digest: string;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string; variant?: string };
}

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);

/**
 * How names in an archive are stored: Docker's rule puts a name without registry under
 * `docker.io/library/`, podman's under `localhost/`.
 */
export type Naming = 'docker' | 'libpod';

const normalizer = (naming: Naming) => (name: string) => (naming === 'libpod' ? localhostQualified(name) : referenceString(parseTaggedReference(name)));

/** Loads the images of an archive; `signal` (the client went away) stops the work wherever it is. */
export async function loadImages(
  service: ImageService,
  input: Readable,
  onMessage: (m: LoadMessage) => void,
  signal?: AbortSignal,
  naming: Naming = 'docker',
): Promise<void> {
  const staging = await mkdtemp(join(service.tmpDir, 'load-'));
  try {
    const archive = await SpooledArchive.spool(input, staging, { maxMember: service.layers.maxLayerSize, signal });
    const images = archive.has('manifest.json')
      ? await readDockerArchive(archive, normalizer(naming))
      : archive.has('repositories') && !archive.has('index.json')
        ? await readLegacyArchive(archive, (m) => diffIdOf(archive, m))
        : await readOciLayout(archive, normalizer(naming));
    await service.lock.run(async () => {
      try {
        for (const image of images) await importImage(service, archive, image, onMessage, signal);
      } catch (err) {
        // Layers this load brought in for an image it could not finish: collect them now.
        await service.layers.gc();
        throw err;
      }
    });
  } finally {
    await rm(staging, { recursive: true, force: true, maxRetries: 3 }); // a write stream may still be opening
  }
}

async function readDockerArchive(archive: SpooledArchive, normalize: (name: string) => string): Promise<ArchiveImage[]> {
  const manifest = await archive.json<DockerManifestEntry[]>('manifest.json');
  if (!Array.isArray(manifest)) throw invalid('invalid image archive: manifest.json is not a list');
  const images: ArchiveImage[] = [];
  for (const entry of manifest) {
    if (typeof entry?.Config !== 'string' || !Array.isArray(entry.Layers)) {
      throw invalid('invalid image archive: manifest.json entry without Config or Layers');
    }
    images.push({
      config: await archive.read(entry.Config),
      layers: entry.Layers,
      tags: (entry.RepoTags ?? []).map(normalize),
      parent: entry.Parent && isDigest(entry.Parent) ? entry.Parent : undefined,
    });
  }
  return images;
}

/** The digest of a layer member as a tar (decompressed if it is not one). */
async function diffIdOf(archive: SpooledArchive, member: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of (await openLayer(archive.path(member)!)).stream) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

const blobMember = (digest: string) => {
  if (!isDigest(digest)) throw invalid(`invalid image archive: unsupported digest ${digest}`);
  return `blobs/sha256/${hex(digest)}`;
};

async function readOciLayout(archive: SpooledArchive, normalize: (name: string) => string): Promise<ArchiveImage[]> {
  if (!archive.has('index.json')) throw invalid('invalid image archive: neither manifest.json nor index.json found');
  const index = await archive.json<{ manifests?: Descriptor[] }>('index.json');
  const images: ArchiveImage[] = [];
  for (const top of index.manifests ?? []) {
    const descriptor = await selectPlatform(archive, top);
    const manifest = await archive.json<{ mediaType?: string; config: Descriptor; layers: Descriptor[] }>(blobMember(descriptor.digest));
    const manifestBytes = await archive.read(blobMember(descriptor.digest)); // its digest and size: podman shows them
    const config = await archive.read(blobMember(manifest.config.digest));
    if (sha256(config) !== manifest.config.digest) throw invalid(`invalid image archive: config digest mismatch for ${manifest.config.digest}`);
    images.push({
      config,
      layers: manifest.layers.map((l) => blobMember(l.digest)),
      tags: ociTags(top.annotations ?? {}, normalize),
      manifest: {
        digest: sha256(manifestBytes),
        mediaType: descriptor.mediaType ?? manifest.mediaType ?? 'application/vnd.oci.image.manifest.v1+json',
        size: manifestBytes.length,
      },
    });
  }
  return images;
}

/** Follows an index to the manifest for this host's platform (or the only one there is). */
async function selectPlatform(archive: SpooledArchive, descriptor: Descriptor): Promise<Descriptor> {
  if (!INDEX_TYPES.has(descriptor.mediaType ?? '')) return descriptor;
  const nested = await archive.json<{ manifests: Descriptor[] }>(blobMember(descriptor.digest));
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const match = nested.manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === arch) ?? nested.manifests[0];
  if (!match) throw invalid('invalid image archive: empty image index');
  return selectPlatform(archive, match);
}

/** containerd names the image in full; OCI's ref.name may be a full reference (podman) or just a tag. */
function ociTags(annotations: Record<string, string>, normalize: (name: string) => string): string[] {
  for (const candidate of [annotations['io.containerd.image.name'], annotations['org.opencontainers.image.ref.name']]) {
    if (!candidate) continue;
    try {
      parseReference(candidate);
      if (candidate.includes('/') || candidate.includes(':')) return [normalize(candidate)];
    } catch {
      // a bare tag or something else: not a name we can use
    }
  }
  return [];
}

async function importImage(service: ImageService, archive: SpooledArchive, image: ArchiveImage, onMessage: (m: LoadMessage) => void, signal?: AbortSignal) {
  let config: ImageConfig;
  try {
    config = JSON.parse(image.config.toString('utf8')) as ImageConfig;
  } catch {
    throw invalid('invalid image archive: image config is not JSON');
  }
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== image.layers.length || !diffIds.every(isDigest)) {
    throw invalid(`invalid image archive: ${image.layers.length} layers for ${diffIds.length} diff IDs in the config`);
  }
  const chains = chainIds(diffIds);
  let size = 0;
  for (let i = 0; i < diffIds.length; i++) {
    let layer = service.layers.get(chains[i]!);
    if (!layer) {
      const file = archive.path(image.layers[i]!);
      if (!file) throw invalid(`invalid image archive: layer ${image.layers[i]} is missing`);
      layer = await service.layers.import(file, diffIds[i]!, chains[i]!, i === 0 ? null : chains[i - 1]!, signal);
      onMessage({ kind: 'layer', id: hex(diffIds[i]!).slice(0, 12), size: layer.tar_size });
    }
    size += layer.size;
  }
  const id = sha256(image.config);
  const parent = image.parent && service.store.get(image.parent) ? image.parent : null;
  const moved = service.store.commit({ id, config: image.config, topLayer: chains.at(-1) ?? null, parent, size }, image.tags);
  if (image.manifest) service.store.setManifest(id, image.manifest);
  for (const m of moved) onMessage({ kind: 'renamed', tag: familiar(m.tag), previous: m.previous });
  service.record('load', id, id);
  if (image.silent) return;
  if (image.tags.length === 0) onMessage({ kind: 'loaded', id });
  for (const tag of image.tags) onMessage({ kind: 'loaded', id, tag: familiarString(parseReference(tag)), name: tag });
}
