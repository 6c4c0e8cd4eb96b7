// Podman's names for local images. A name without a registry is qualified with `localhost/` when the
// libpod API stores it (tag, load, import), where the Docker API puts `docker.io/library/`. A local
// lookup of a short name tries its registries.conf alias, then `localhost/<name>`, then `<search registry>/<name>` for each of
// registries.conf's search registries, then the name in any registry (`busybox` finds
// `docker.io/library/busybox` or `quay.io/x/busybox`), as podman's image lookup does. Every podman
// lookup of a local image (inspect, create, pull's policy, push, build's FROM) comes here.
import { EngineError, notFound } from '../errors.js';
import { hex } from '../util/digest.js';
import { parseReference, referenceString, type Reference } from './reference.js';
import type { ImageRecord, ImageStore } from './store.js';

/** Whether the first component of a name is a registry (has a `.` or a `:`, or is `localhost`), as podman splits names. */
export function hasDomain(name: string): boolean {
  const slash = name.indexOf('/');
  if (slash === -1) return false;
  const first = name.slice(0, slash);
  return /[.:]/.test(first) || first === 'localhost';
}

/** A name as the libpod API stores it: `busybox` → `localhost/busybox:latest`; qualified names keep their registry. */
export function qualifyLocal(name: string): Reference {
  const ref = parseReference(hasDomain(name) ? name : `localhost/${name}`);
  return ref.tag || ref.digest ? ref : { ...ref, tag: 'latest' };
}

/** A name as the libpod API stores it, as a string (`busybox` → `localhost/busybox:latest`). */
export const localhostQualified = (name: string) => referenceString(qualifyLocal(name));

/** podman's message for an image it cannot find. */
export const imageNotKnown = (name: string) => notFound(`failed to find image ${name}: ${name}: image not known`);

export interface LocalMatch {
  image: ImageRecord;
  /** The stored name the lookup matched (`localhost/busybox:latest`); none for an ID or a digest. */
  tag?: string;
}

/** An image's manifest digest when none is stored (podman's for a loaded image): `name@sha256:…` finds it too. */
export type DigestOf = (image: ImageRecord) => string;

export interface LookupOptions {
  digestOf?: DigestOf;
  /** registries.conf's unqualified-search-registries, tried in order after `localhost/`. */
  searchRegistries?: readonly string[];
  /** registries.conf's `[aliases]` (short name → qualified repository): an alias is the first candidate. */
  aliases?: Readonly<Record<string, { target: string }>>;
}

/**
 * Finds a local image the way podman does: a full or short ID, a qualified reference, or a short name
 * in `localhost/` first, then in each search registry, then in any registry (its path with or without
 * docker.io's `library/`); also telling which of the image's names was meant. Throws podman's not-found.
 */
export function lookupLocal(store: ImageStore, name: string, o: LookupOptions = {}): LocalMatch {
  const id = /^(sha256:)?([a-f0-9]{1,64})$/.exec(name)?.[2];
  if (id && id.length === 64) {
    const image = store.get(`sha256:${id}`);
    if (image) return { image };
  }
  let ref: Reference | undefined;
  try {
    ref = parseReference(name);
  } catch {
    // not a reference: an ID prefix at most
  }
  if (ref) {
    const found = hasDomain(name) ? byReference(store, ref, o.digestOf) : byShortName(store, name, ref, o);
    if (found) return found;
  }
  if (id && id.length >= 3) {
    const matches = store.all().filter((i) => hex(i.id).startsWith(id));
    if (matches.length === 1) return { image: matches[0]! };
  }
  throw imageNotKnown(name);
}

function byReference(store: ImageStore, ref: Reference, digestOf?: DigestOf): LocalMatch | undefined {
  const tagged = ref.tag || ref.digest ? ref : { ...ref, tag: 'latest' };
  if (tagged.digest) {
    const withDigest = store.digested(referenceString({ ...tagged, tag: undefined }));
    if (withDigest) return { image: store.get(withDigest)! };
    // podman 4.3 matches the digest whatever repository the reference names.
    const image = digestOf ? store.all().find((i) => digestOf(i) === tagged.digest) : undefined;
    return image ? { image } : undefined;
  }
  const tag = referenceString(tagged);
  const id = store.tagged(tag);
  return id ? { image: store.get(id)!, tag } : undefined;
}

/** As lookupLocal, undefined where it finds nothing. */
export function lookupLocalIfAny(store: ImageStore, name: string, o: LookupOptions = {}): LocalMatch | undefined {
  try {
    return lookupLocal(store, name, o);
  } catch (err) {
    if (err instanceof EngineError && err.kind === 'not-found') return undefined;
    throw err;
  }
}

function byShortName(store: ImageStore, name: string, parsed: Reference, o: LookupOptions): LocalMatch | undefined {
  // An alias first (c/image's ResolveLocally: Debian aliases `busybox` to docker.io/library/busybox),
  // then localhost/, then the search registries.
  const repo = name.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
  const alias = o.aliases?.[repo];
  if (alias) {
    const found = byReference(store, parseReference(alias.target + name.slice(repo.length)), o.digestOf);
    if (found) return found;
  }
  for (const domain of ['localhost', ...(o.searchRegistries ?? [])]) {
    const found = byReference(store, parseReference(`${domain}/${name}`), o.digestOf);
    if (found) return found;
  }
  if (parsed.digest) return undefined;
  // The short name's path as typed (parseReference put docker.io's `library/` in front of a one-part name).
  const path = parsed.path.startsWith('library/') && !name.startsWith('library/') ? parsed.path.slice('library/'.length) : parsed.path;
  const tag = parsed.tag ?? 'latest';
  const candidates = store.allTags().filter(({ name: stored }) => {
    const r = parseReference(stored);
    if (r.tag !== tag) return false;
    return r.path === path || r.path === `library/${path}` || r.path.endsWith(`/${path}`);
  });
  // Prefer docker.io's, then the first by name: podman takes the first match of its ordered search.
  const pick = candidates.find((c) => c.name.startsWith('docker.io/')) ?? candidates[0];
  return pick ? { image: store.get(pick.image_id)!, tag: pick.name } : undefined;
}
