// The images verbs the server may call: options in, results out; no store, path or process leaks out.
import type { Readable } from 'node:stream';
import type { Engine } from '../engine.js';
import type { ImageFilters } from '../images/service.js';
import { parseConfig, type ImageRecord } from '../images/store.js';
import type { ImageConfig } from '../images/config.js';
import { loadImages, type LoadMessage } from '../images/load.js';
import { importImage, type ImportMessage, type ImportOptions } from '../images/import.js';
import { saveImages } from '../images/save.js';
import { changes as layerChanges } from '../containers/filesystem.js';
import { pullImage, type Progress } from '../images/pull.js';
import { pushImage } from '../images/push.js';
import { decodeAuthHeader } from '../registry/auth.js';
import { parsePlatform } from '../registry/manifest.js';
import { DEFAULT_REGISTRY_OPTIONS } from '../registry/endpoints.js';

/** What image inspect shows: the record, its parsed config, its names, and its layer directories (top first). */
export interface ImageDetails {
  image: ImageRecord;
  config: ImageConfig;
  tags: string[];
  digests: string[];
  layerDirs: string[];
}

export interface PullRequest {
  reference: string;
  /** `os[/arch[/variant]]`; the host's when absent. */
  platform?: string;
  /** The client's X-Registry-Auth header, as sent. */
  authHeader?: string;
  signal?: AbortSignal;
}

export function imageApi(engine: Engine) {
  const { images } = engine;
  const registry = () => engine.options.registry ?? DEFAULT_REGISTRY_OPTIONS;
  return {
    /** `docker images`: without `all`, untagged parents are hidden. */
    list: (all: boolean, filters: ImageFilters) => images.list(all, filters),
    /** An image's familiar tags and digests; with a reference filter only those it matches. */
    names: (id: string, reference?: string[]) => images.names(id, reference),
    inspect: (name: string): ImageDetails => {
      const image = images.store.resolve(name);
      return {
        image,
        config: parseConfig(image),
        tags: images.tags(image.id),
        digests: images.digests(image.id),
        layerDirs: images.layers.diffDirs(image.top_layer),
      };
    },
    history: (name: string) => images.history(name),
    /** What the image's top layer changes over the layers below it, as podman shows it (podman diff of an image). */
    changes: async (name: string) => {
      const [top, ...below] = images.layers.diffDirs(images.store.resolve(name).top_layer);
      return top ? layerChanges(top, below, { view: 'podman', layer: true }) : [];
    },
    tag: (name: string, repo: string, tag: string | undefined) => images.tag(name, repo, tag),
    remove: (name: string, force: boolean, prune: boolean) => images.remove(name, force, prune),
    prune: (filters: ImageFilters) => images.prune(filters),
    /** `docker load`: messages as each image and layer is loaded. */
    load: (body: Readable, onMessage: (m: LoadMessage) => void, signal?: AbortSignal) => loadImages(images, body, onMessage, signal),
    /** `docker import`; the new image's ID. */
    import: (options: ImportOptions, onMessage: (m: ImportMessage) => void) => importImage(images, options, onMessage),
    /** `docker save`: a docker-archive of the images named. */
    save: (names: string[]): Readable => saveImages(images, names),
    pull: (r: PullRequest, report: (p: Progress) => void) => {
      const platform = r.platform ? parsePlatform(r.platform) : { os: 'linux', architecture: engine.host.goArch };
      return pullImage(images, r.reference, { platform, credentials: decodeAuthHeader(r.authHeader), registry: registry(), signal: r.signal }, report);
    },
    push: (name: string, tag: string | undefined, authHeader: string | undefined, report: (p: Progress) => void) =>
      pushImage(images, name, tag, { credentials: decodeAuthHeader(authHeader), registry: registry() }, report),
  };
}
