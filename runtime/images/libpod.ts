// Images as podman sees them: full names, containers/storage's layer IDs and sizes (uncompressed tars),
// a manifest digest for images that came without one, history IDs by top layer, the `image tree` text.
import { createHash } from 'node:crypto';
import { invalid, EngineError } from '../errors.js';
import { hex, sha256 } from '../util/digest.js';
import type { LayerRecord } from '../storage/layers.js';
import { parseConfig, type ImageRecord } from './store.js';
import type { ImageConfig } from './config.js';
import type { ImageService } from './service.js';
import { familiar, parseReference, referenceString, repositoryName, validateTag } from './reference.js';
import { lookupLocal, qualifyLocal, type DigestOf } from './short-names.js';

export interface LibpodLayer {
  /** containers/storage's layer ID (hex): the diff ID for the bottom layer, else sha256(parent ID + "+" + diff ID hex). */
  id: string;
  diffId: string;
  /** The uncompressed tar's size: what podman counts. */
  size: number;
}

/** An image with what podman shows of it. */
export interface LibpodImage {
  image: ImageRecord;
  config: ImageConfig;
  /** Full names (`localhost/busybox:latest`). */
  names: string[];
  /** `repo@sha256:…`, stored ones first, then each named repository with the image's digest. */
  repoDigests: string[];
  /** The manifest digest: a pulled one, or that of the Docker v2 manifest podman would write for a loaded image. */
  digest: string;
  manifestType: string;
  layers: LibpodLayer[];
  /** Layers, config and manifest (twice: containers/storage keeps it under two keys), as podman sums them. */
  size: number;
  containers: number;
  /** The overlay dirs of the layers, top first. */
  layerDirs: string[];
}

const V2_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

export function storageLayers(stack: LayerRecord[]): LibpodLayer[] {
  const out: LibpodLayer[] = [];
  for (const l of stack) {
    const parent = out.at(-1)?.id;
    const id = parent
      ? createHash('sha256')
          .update(`${parent}+${hex(l.diff_id)}`)
          .digest('hex')
      : hex(l.diff_id);
    out.push({ id, diffId: l.diff_id, size: l.tar_size });
  }
  return out;
}

/** The Docker v2 manifest containers/image stores for a loaded image (its digest is the image's Digest). */
function storedManifest(image: ImageRecord, stack: LayerRecord[]): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: V2_MANIFEST,
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: image.config.length, digest: image.id },
    // containers/image names an archive's layers gzip in the manifest it stores, though they are plain tars.
    layers: stack.map((l) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: l.tar_size, digest: l.diff_id })),
  });
}

/** An image's manifest digest as podman shows it: a pulled one, else that of the manifest it would store. */
export const digestOf =
  (service: ImageService): DigestOf =>
  (image) =>
    service.store.digestsOf(image.id)[0]?.split('@')[1] ?? image.manifest_digest ?? sha256(storedManifest(image, service.layers.stack(image.top_layer)));

/** podman's lookup of a local image, with `name@sha256:…` finding images by the digest podman shows. */
export const findLocal = (service: ImageService, name: string) => lookupLocal(service.store, name, { digestOf: digestOf(service) }).image;

export function describe(service: ImageService, image: ImageRecord): LibpodImage {
  const stack = service.layers.stack(image.top_layer);
  const layers = storageLayers(stack);
  const manifest = storedManifest(image, stack);
  const stored = service.store.digestsOf(image.id);
  const digest = stored[0]?.split('@')[1] ?? image.manifest_digest ?? sha256(manifest);
  const manifestSize = image.manifest_size ?? manifest.length;
  const names = service.store.namesOf(image.id);
  const repoDigests = [...stored];
  for (const name of names) {
    const d = `${repositoryName(parseReference(name))}@${digest}`;
    if (!repoDigests.includes(d)) repoDigests.push(d);
  }
  return {
    image,
    config: parseConfig(image),
    names,
    repoDigests: repoDigests.sort(),
    digest,
    manifestType: image.manifest_type ?? V2_MANIFEST,
    layers,
    size: layers.reduce((n, l) => n + l.size, 0) + image.config.length + 2 * manifestSize,
    containers: service.store.containersUsing(image.id).length,
    layerDirs: service.layers.diffDirs(image.top_layer),
  };
}

export interface LibpodHistoryItem {
  id: string;
  created: number;
  createdBy: string;
  comment: string;
  size: number;
}

/**
 * podman history: newest first; an entry shows the ID of an image whose top layer is the layer at that
 * point (each image once), else `<missing>`; sizes are the layers' tars.
 */
export function history(service: ImageService, name: string): LibpodHistoryItem[] {
  const image = findLocal(service, name);
  const config = parseConfig(image);
  const layers = storageLayers(service.layers.stack(image.top_layer));
  const all = service.store.all();
  const topOf = new Map<string, ImageRecord[]>();
  for (const other of all) {
    if (!other.top_layer) continue;
    const top = storageLayers(service.layers.stack(other.top_layer)).at(-1)!.id;
    topOf.set(top, [...(topOf.get(top) ?? []), other]);
  }
  const used = new Set<string>();
  const items: LibpodHistoryItem[] = [];
  let at = layers.length - 1;
  const entries = config.history ?? [];
  for (let x = entries.length - 1; x >= 0; x--) {
    const h = entries[x]!;
    const layer = at >= 0 ? layers[at] : undefined;
    let id = '<missing>';
    if (layer) {
      const owners = topOf.get(layer.id) ?? [];
      const owner = owners.find((o) => o.id === image.id) ?? owners[0];
      if (owner && !used.has(owner.id)) {
        id = hex(owner.id);
        used.add(owner.id);
      }
    }
    items.push({
      id,
      created: h.created ? Math.floor(Date.parse(h.created) / 1000) : 0,
      createdBy: h.created_by ?? '',
      comment: h.comment ?? '',
      size: layer && !h.empty_layer ? layer.size : 0,
    });
    if (layer && !h.empty_layer) at--;
  }
  return items;
}

/** go-units' HumanSizeWithPrecision(size, 4): decimal units, four significant digits. */
export function humanSize4(size: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
  let i = 0;
  let value = size;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i++;
  }
  return `${Number(value.toPrecision(4))}${units[i]}`;
}

interface TreeNode {
  text: string;
  items: TreeNode[];
}

/** A tree printed as podman's (gotree): the root's text, then each item on a branch. */
function printTree(root: TreeNode): string {
  const print = (items: TreeNode[], spaces: boolean[]): string =>
    items
      .map((item, i) => {
        const last = i === items.length - 1;
        const prefix = spaces.map((space) => (space ? '    ' : '│   ')).join('');
        const text = item.text
          .split('\n')
          .map((line, n) => prefix + (n === 0 ? (last ? '└── ' : '├── ') : last ? '    ' : '│   ') + line + '\n')
          .join('');
        return text + (item.items.length > 0 ? print(item.items, [...spaces, last]) : '');
      })
      .join('');
  return `${root.text}\n${print(root.items, [])}`;
}

/**
 * `podman image tree`: the text podman's service renders. The image's layers bottom up; with
 * `whatRequires`, its top layer and the layers of images built on it (a branch where layers fork).
 */
export function tree(service: ImageService, name: string, whatRequires = false): string {
  const image = findLocal(service, name);
  const d = describe(service, image);
  // Every image's layers: which images each layer tops, and each layer's children.
  const topOf = new Map<string, string[]>();
  const children = new Map<string, LibpodLayer[]>();
  for (const other of service.store.all()) {
    const layers = storageLayers(service.layers.stack(other.top_layer));
    const top = layers.at(-1);
    if (!top) continue;
    topOf.set(top.id, [...(topOf.get(top.id) ?? []), ...service.store.namesOf(other.id)]);
    layers.forEach((l, i) => {
      const parent = layers[i - 1]?.id ?? '';
      const siblings = children.get(parent) ?? [];
      if (!siblings.some((c) => c.id === l.id)) children.set(parent, [...siblings, l]);
    });
  }
  const line = (l: LibpodLayer) => {
    const owners = topOf.get(l.id);
    return `ID: ${l.id.slice(0, 12)} Size: ${humanSize4(l.size).padStart(7)}${owners?.length ? ` Top Layer of: [${owners.join(' ')}]` : ''}`;
  };
  const header = [`Image ID: ${hex(image.id).slice(0, 12)}`, `Tags:     [${d.names.join(' ')}]`, `Size:     ${humanSize4(d.size)}`];
  const top = d.layers.at(-1);
  const root: TreeNode = { text: [...header, top ? 'Image Layers' : 'No Image Layers'].join('\n'), items: [] };
  if (!top) return printTree(root);
  if (!whatRequires) {
    root.items = d.layers.map((l) => ({ text: line(l), items: [] }));
    return printTree(root);
  }
  // podman's traversal: a layer without siblings continues its parent's branch; siblings each open a branch.
  const parentOf = new Map<string, string>();
  for (const [parent, kids] of children) for (const kid of kids) parentOf.set(kid.id, parent);
  const traverse = (layer: LibpodLayer, tree: TreeNode) => {
    const siblings = children.get(parentOf.get(layer.id) ?? '') ?? [];
    const linear = !parentOf.get(layer.id) || siblings.length <= 1;
    const node: TreeNode = { text: line(layer), items: [] };
    tree.items.push(node);
    for (const child of children.get(layer.id) ?? []) traverse(child, linear ? tree : node);
  };
  traverse(top, root);
  return printTree(root);
}

/** podman tag: the new name is qualified with `localhost/` when it has no registry. */
export function tag(service: ImageService, name: string, repo: string, tagName: string | undefined): void {
  const image = findLocal(service, name);
  const ref = qualifyLocal(repo);
  if (ref.digest) throw invalid('refusing to create a tag with a digest reference');
  if (tagName) validateTag(tagName);
  const target = referenceString({ ...ref, tag: tagName || ref.tag || 'latest' });
  service.store.setTag(target, image.id);
  service.record('tag', image.id, familiar(target)); // as the Docker API records a tag
}

/** podman untag: one name of the image (500 `tag not known` when it has no such name), or all of them. */
export function untag(service: ImageService, name: string, repo: string, tagName: string | undefined): void {
  const { image } = lookupLocal(service.store, name, { digestOf: digestOf(service) });
  const names = service.store.namesOf(image.id);
  if (!repo) {
    for (const n of names) {
      service.store.untag(n);
      service.record('untag', image.id, image.id); // as dockerd records an untag
    }
    return;
  }
  const ref = qualifyLocal(repo);
  const target = referenceString({ ...ref, tag: tagName || ref.tag || 'latest' });
  if (!names.includes(target)) throw new EngineError('internal', `${target}: tag not known`);
  service.store.untag(target);
  service.record('untag', image.id, image.id);
}
