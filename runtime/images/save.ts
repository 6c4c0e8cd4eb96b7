// docker save: the layout Docker 25+ writes, which is both a docker-archive (manifest.json, read by
// every dockerd) and an OCI image layout (index.json, oci-layout). Layers are the exact tars loaded,
// so diff IDs, and with them image IDs, survive the round trip.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { hex, sha256 } from '../util/digest.js';
import type { ImageRecord } from './store.js';
import { parseConfig } from './store.js';
import { familiar, parseReference, repositoryName, referenceString } from './reference.js';
import type { ImageService } from './service.js';
import type { Naming } from './load.js';
import { lookupLocal } from './short-names.js';
import { digestOf } from './libpod.js';

interface SaveItem {
  image: ImageRecord;
  tags: string[]; // normalized references
}

export interface SaveOptions {
  /** Docker's names (looked up and written familiar) or podman's (looked up by its rules, written in full). */
  naming: Naming;
  /** `docker`: a docker-archive that is also an OCI layout (Docker 25+); `oci`: an OCI image layout only. */
  layout: 'docker' | 'oci';
}

/** Resolves every name up front (a missing one fails before any byte is sent), then streams the tar. */
export function saveImages(service: ImageService, names: string[], o: SaveOptions = { naming: 'docker', layout: 'docker' }): Readable {
  const items = new Map<string, SaveItem>();
  for (const name of names) {
    const match = o.naming === 'libpod' ? lookupLocal(service.store, name, { digestOf: digestOf(service) }) : undefined;
    const image = match?.image ?? service.store.resolve(name);
    const item = items.get(image.id) ?? { image, tags: [] };
    items.set(image.id, item);
    if (match) {
      if (match.tag && !item.tags.includes(match.tag)) item.tags.push(match.tag);
    } else item.tags.push(...tagsNamed(service, name, image));
  }
  const pack = tar.pack();
  writeArchive(service, [...items.values()], pack, o).then(
    () => {
      for (const id of items.keys()) service.record('save', id, id);
      pack.finalize();
    },
    (err: Error) => pack.destroy(err),
  );
  return pack as unknown as Readable;
}

/** A tag saves that tag; a bare repository name saves all its tags; an ID saves no name (as Docker). */
function tagsNamed(service: ImageService, name: string, image: ImageRecord): string[] {
  let ref;
  try {
    ref = parseReference(name);
  } catch {
    return [];
  }
  const tags = service.store.tagsOf(image.id);
  if (ref.tag) return tags.filter((t) => t === referenceString(ref));
  if (ref.digest) return [];
  if (!tags.some((t) => t.startsWith(repositoryName(ref) + ':'))) return []; // the name was an ID prefix
  return service.store
    .allTags()
    .filter((t) => t.name.startsWith(repositoryName(ref) + ':') && t.image_id === image.id)
    .map((t) => t.name);
}

async function writeArchive(service: ImageService, items: SaveItem[], pack: tar.Pack, o: SaveOptions): Promise<void> {
  const written = new Set<string>();
  const mtime = new Date(0);
  const addBuffer = (name: string, data: Buffer | string) =>
    new Promise<void>((resolve, reject) => pack.entry({ name, mtime, mode: 0o644 }, data, (err) => (err ? reject(err) : resolve())));
  const addFile = (name: string, source: Readable, size: number) =>
    new Promise<void>((resolve, reject) => {
      const entry = pack.entry({ name, size, mtime, mode: 0o644 }, (err) => (err ? reject(err) : resolve()));
      source.on('error', reject).pipe(entry);
    });
  await new Promise<void>((resolve) => pack.entry({ name: 'blobs/', type: 'directory', mtime, mode: 0o755 }, () => resolve()));
  await new Promise<void>((resolve) => pack.entry({ name: 'blobs/sha256/', type: 'directory', mtime, mode: 0o755 }, () => resolve()));
  const manifest: object[] = [];
  const index: object[] = [];
  for (const { image, tags } of items) {
    const layerPaths: string[] = [];
    const descriptors: object[] = [];
    for (const layer of service.layers.stack(image.top_layer)) {
      const member = `blobs/sha256/${hex(layer.diff_id)}`;
      if (!written.has(member)) {
        await addFile(member, await service.layers.tarStream(layer.diff_id), layer.tar_size);
        written.add(member);
      }
      layerPaths.push(member);
      descriptors.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer.diff_id, size: layer.tar_size });
    }
    const configMember = `blobs/sha256/${hex(image.id)}`;
    if (!written.has(configMember)) {
      await addBuffer(configMember, image.config);
      written.add(configMember);
    }
    const ociManifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: image.id, size: image.config.length },
        layers: descriptors,
      }),
    );
    const manifestDigest = sha256(ociManifest);
    if (!written.has(manifestDigest)) {
      await addBuffer(`blobs/sha256/${hex(manifestDigest)}`, ociManifest);
      written.add(manifestDigest);
    }
    const config = parseConfig(image);
    const platform = { architecture: config.architecture ?? 'amd64', os: config.os ?? 'linux' };
    const names = tags.length > 0 ? tags : [undefined];
    for (const tag of names) {
      const annotations: Record<string, string> = {};
      if (tag && o.naming === 'libpod')
        annotations['org.opencontainers.image.ref.name'] = tag; // podman's: the full name
      else if (tag) {
        annotations['io.containerd.image.name'] = tag;
        annotations['org.opencontainers.image.ref.name'] = parseReference(tag).tag ?? 'latest';
      }
      index.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: ociManifest.length, annotations, platform });
    }
    const repoTags = o.naming === 'libpod' ? tags : tags.map(familiar);
    manifest.push({ Config: configMember, RepoTags: tags.length > 0 ? repoTags : null, Layers: layerPaths });
  }
  await addBuffer('index.json', JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: index }));
  if (o.layout === 'docker') await addBuffer('manifest.json', JSON.stringify(manifest));
  await addBuffer('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
}
