// Image references parsed and normalized the way Docker's distribution/reference package does.
import { invalid } from '../errors.js';

export interface Reference {
  domain: string; // "docker.io", "localhost:5000"
  path: string; // "library/busybox"
  tag?: string;
  digest?: string;
}

const DEFAULT_DOMAIN = 'docker.io';
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const REFERENCE = new RegExp(
  `^((?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::([\\w][\\w.-]{0,127}))?(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$`,
);
const TAG = /^[\w][\w.-]{0,127}$/;
const FULL_ID = /^[a-f0-9]{64}$/;

/**
 * Splits the domain off a name as dockerd does: the first component is a domain only if it has a `.` or
 * a `:` or is `localhost`; otherwise it is part of the path, where uppercase is refused (`UPPER/case`).
 */
function splitDomain(name: string): { domain: string; path: string } {
  const i = name.indexOf('/');
  const first = name.slice(0, i);
  if (i === -1 || (!/[.:]/.test(first) && first !== 'localhost')) {
    return { domain: DEFAULT_DOMAIN, path: withLibrary(name) };
  }
  const domain = first === 'index.docker.io' ? DEFAULT_DOMAIN : first;
  const path = name.slice(i + 1);
  return { domain, path: domain === DEFAULT_DOMAIN ? withLibrary(path) : path };
}

/** The name part of a reference that failed to parse, for the lowercase check Docker reports first. */
function roughName(input: string): string {
  const name = input.split('@')[0]!;
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}

const withLibrary = (path: string) => (path.includes('/') ? path : `library/${path}`);

/** Parses a reference such as `busybox`, `localhost:5000/a/b:1`, `x@sha256:...` into its normalized form. */
export function parseReference(input: string): Reference {
  if (FULL_ID.test(input)) {
    throw invalid(`invalid repository name (${input}), cannot specify 64-byte hexadecimal strings`);
  }
  const match = REFERENCE.exec(input);
  const { domain, path } = splitDomain(match ? match[1]! : roughName(input));
  if (path !== path.toLowerCase()) {
    throw invalid(`invalid reference format: repository name (${path}) must be lowercase`);
  }
  if (!match) throw invalid(`invalid reference format`);
  if (match[1]!.length > 255) throw invalid('invalid reference format: repository name must not be more than 255 characters');
  return { domain, path, tag: match[2], digest: match[3] };
}

/** A reference with `latest` filled in when it names neither a tag nor a digest. */
export function parseTaggedReference(input: string): Reference {
  const ref = parseReference(input);
  return ref.tag || ref.digest ? ref : { ...ref, tag: 'latest' };
}

export function validateTag(tag: string): void {
  if (!TAG.test(tag)) throw invalid(`invalid tag format`);
}

/** `docker.io/library/busybox` */
export const repositoryName = (ref: Reference) => `${ref.domain}/${ref.path}`;

/** `docker.io/library/busybox:latest`, `repo@sha256:...`: the key tags and digests are stored under. */
export function referenceString(ref: Reference): string {
  return repositoryName(ref) + (ref.tag ? `:${ref.tag}` : '') + (ref.digest ? `@${ref.digest}` : '');
}

/** The short form Docker shows users: `busybox`, `user/app`, `localhost:5000/app`. */
export function familiarRepository(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return repositoryName(ref);
  const rest = ref.path.startsWith('library/') ? ref.path.slice('library/'.length) : ref.path;
  return rest.includes('/') ? ref.path : rest;
}

export function familiarString(ref: Reference): string {
  return familiarRepository(ref) + (ref.tag ? `:${ref.tag}` : '') + (ref.digest ? `@${ref.digest}` : '');
}

/** Familiar form of a stored reference string. */
export const familiar = (stored: string) => familiarString(parseReference(stored));

/** A name normalized as the engine stores it (`busybox` → `docker.io/library/busybox:latest`); IDs and what does not parse, as given. */
export function normalizedName(name: string): string {
  if (/^(sha256:)?[a-f0-9]{12,64}$/.test(name)) return name;
  try {
    return referenceString(parseTaggedReference(name));
  } catch {
    return name;
  }
}

/** A reference filter's glob as Go's path.Match reads it: `*` and `?` stop at `/`. */
export const referenceGlob = (pattern: string) =>
  new RegExp(
    '^' +
      pattern
        .replace(/[.+^${}()|\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]') +
      '$',
  );
