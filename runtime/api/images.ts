// The images verbs the server may call: options in, results out; no store, path or process leaks out.
import type { Readable } from 'node:stream';
import type { Engine } from '../engine.js';
import type { ImageFilters } from '../images/service.js';
import { parseConfig, type ImageRecord } from '../images/store.js';
import { parseTaggedReference, referenceString } from '../images/reference.js';
import type { ImageConfig } from '../images/config.js';
import { loadImages, type LoadMessage } from '../images/load.js';
import { importImage, type ImportMessage, type ImportOptions } from '../images/import.js';
import { saveImages, type SaveOptions } from '../images/save.js';
import * as libpod from '../images/libpod.js';
import { byNewest, removeLibpodImages, type LibpodRemoveOptions } from '../images/libpod-remove.js';
import { lookupLocal, lookupLocalIfAny, localhostQualified } from '../images/short-names.js';
import { changes as layerChanges } from '../containers/filesystem.js';
import { pullImage, type Progress } from '../images/pull.js';
import { pushImage } from '../images/push.js';
import { decodeAuthHeader } from '../registry/auth.js';
import { pullCandidates } from '../registry/short-names.js';
import { notFound } from '../errors.js';
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
  /** false: plain HTTP and unverified TLS allowed (podman's --tls-verify=false); else the registry options decide. */
  tlsVerify?: boolean;
}

export interface PushRequest {
  /** The destination: `host/repo[:tag]`. */
  name: string;
  tag?: string;
  /** The client's X-Registry-Auth header, as sent. */
  authHeader?: string;
  /** The image to push (podman's source), when not `name` itself. */
  image?: string;
  tlsVerify?: boolean;
}

/** The registry part of a reference, to pick the credentials of a keyed X-Registry-Auth. */
const domainOf = (name: string) => {
  try {
    return parseTaggedReference(name).domain;
  } catch {
    return undefined;
  }
};

export function imageApi(engine: Engine) {
  const { images } = engine;
  const registry = () => engine.options.registry ?? DEFAULT_REGISTRY_OPTIONS;
  const podmanLookup = () => ({
    digestOf: libpod.digestOf(images),
    searchRegistries: registry().conf.unqualifiedSearchRegistries,
    aliases: registry().conf.aliases,
  });
  const lookupPodman = (name: string) => lookupLocal(images.store, name, podmanLookup());
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
    /**
     * libpod's name for a local image, by podman's lookup: the image's fully qualified tag when one
     * matched, an ID as given, else the name as the Docker API stores it; with the image ID.
     */
    resolveLibpod: (name: string): { name: string; id: string } => {
      const { image, tag } = lookupPodman(name);
      if (tag || image.id.replace('sha256:', '').startsWith(name.replace('sha256:', ''))) return { name: tag ?? name, id: image.id };
      return { name: referenceString(parseTaggedReference(name)), id: image.id };
    },
    history: (name: string) => images.history(name),
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
      const credentials = decodeAuthHeader(r.authHeader, domainOf(r.reference));
      return pullImage(images, r.reference, { platform, credentials, registry: registry(), signal: r.signal, insecure: r.tlsVerify === false }, report);
    },
    push: (r: PushRequest, report: (p: Progress) => void) => {
      const credentials = decodeAuthHeader(r.authHeader, domainOf(r.name));
      return pushImage(images, r.name, r.tag, { credentials, registry: registry(), image: r.image, insecure: r.tlsVerify === false }, report);
    },
    /** podman's lookup of a local image: its ID and the name it matched; undefined when there is none. */
    lookupLibpod: (name: string): { id: string; name?: string } | undefined => {
      const local = lookupLocalIfAny(images.store, name, podmanLookup());
      return local && { id: local.image.id, name: local.tag };
    },
    /** Where podman pulls `name` from: itself, or a short name's alias or search registries (podman's error when none). */
    pullCandidates: (name: string) => pullCandidates(registry().conf, name),
    /** The same images under podman's rules: full names, `localhost/` for names without registry, local short-name lookup. */
    libpod: {
      list: (all: boolean, filters: ImageFilters) => {
        // before and since name images by podman's rules; the list takes their IDs.
        const id = (name: string | undefined) => (name === undefined ? undefined : libpod.findLocal(images, name).id);
        return images.list(all, { ...filters, before: id(filters.before), since: id(filters.since) }).map((i) => libpod.describe(images, i));
      },
      inspect: (name: string) => libpod.describe(images, libpod.findLocal(images, name)),
      /** Throws not-found (podman's words) when there is no such image. */
      exists: (name: string) => void libpod.findLocal(images, name),
      history: (name: string) => libpod.history(images, name),
      tree: (name: string, whatRequires = false) => libpod.tree(images, name, whatRequires),
      /** podman image diff: what the image's top layer changes over the layers below. */
      changes: (name: string) => {
        const [upper, ...lowers] = images.layers.diffDirs(libpod.findLocal(images, name).top_layer);
        return upper ? layerChanges(upper, lowers, { view: 'podman', layer: true }) : Promise.resolve([]);
      },
      tag: (name: string, repo: string, tag: string | undefined) => libpod.tag(images, name, repo, tag),
      untag: (name: string, repo: string, tag: string | undefined) => libpod.untag(images, name, repo, tag),
      remove: (names: string[], o: LibpodRemoveOptions) =>
        removeLibpodImages(images, names, o, async (id) => {
          await engine.containers.remove(id, true);
        }),
      /** Removed images' IDs with their sizes. */
      prune: async (all: boolean, filters: ImageFilters) => {
        const before = new Map(images.store.all().map((i) => [i.id, libpod.describe(images, i).size]));
        const order = byNewest(images.store.all()).map((i) => i.id);
        // Values of one filter are alternatives to podman (its 4.3.1 client splits `label=k=v` into `k` and `v`).
        for (const label of filters.label?.length ? filters.label.map((l) => [l]) : [undefined]) {
          await images.prune({ ...filters, label, dangling: all ? false : true });
        }
        const after = new Set(images.store.all().map((i) => i.id));
        return order.filter((id) => !after.has(id)).map((id) => ({ id, size: before.get(id) ?? 0 }));
      },
      /** podman load: the full names loaded (image IDs for images without one). */
      load: async (body: Readable, signal?: AbortSignal) => {
        const names: string[] = [];
        await loadImages(images, body, (m) => m.kind === 'loaded' && names.push(m.name ?? m.id), signal, 'libpod');
        return names;
      },
      save: (names: string[], layout: SaveOptions['layout']): Readable => {
        for (const name of names) {
          try {
            libpod.findLocal(images, name);
          } catch {
            throw notFound(`${name}: image not known`); // podman's words for save
          }
        }
        return saveImages(images, names, { naming: 'libpod', layout });
      },
      /** podman import: the reference is qualified with `localhost/` when it has no registry. */
      import: (options: ImportOptions) => importImage(images, { ...options, repo: options.repo ? localhostQualified(options.repo) : undefined }, () => {}),
    },
  };
}
