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

interface SaveItem {
  image: ImageRecord;
  tags: string[]; // normalized references
}

/** Resolves every name up front (a missing one fails before any byte is sent), then streams the tar. */
export function saveImages(service: ImageService, names: string[]): Readable {
  const items = new Map<string, SaveItem>();
  for (const name of names) {
    const image = service.store.resolve(name);
    const item = items.get(image.id) ?? { image, tags: [] };
    items.set(image.id, item);
    item.tags.push(...tagsNamed(service, name, image));
  }
  const pack = tar.pack();
  writeArchive(service, [...items.values()], pack).then(
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

async function writeArchive(service: ImageService, items: SaveItem[], pack: tar.Pack): Promise<void> {
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
      if (tag) {
        annotations['io.containerd.image.name'] = tag;
        annotations['org.opencontainers.image.ref.name'] = parseReference(tag).tag ?? 'latest';
      }
      index.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: ociManifest.length, annotations, platform });
    }
    manifest.push({ Config: configMember, RepoTags: tags.length > 0 ? tags.map(familiar) : null, Layers: layerPaths });
  }
  await addBuffer('index.json', JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: index }));
  await addBuffer('manifest.json', JSON.stringify(manifest));
  await addBuffer('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
}
