// podman's short names (containers/image's shortnames, libimage's lookup): a name without a registry
// (`busybox`, `user/app`) names first a local image (images/short-names.ts finds it); to pull, it resolves through the
// `[aliases]` of registries.conf, else to each `unqualified-search-registries` entry in turn. The Docker
// API never comes here: docker.io is its only registry.
import { invalid } from '../errors.js';
import type { RegistriesConf } from './config.js';
import { parseTaggedReference, referenceString } from '../images/reference.js';
import { hasDomain } from '../images/short-names.js';

/** A name whose first component is not a registry (no `.` or `:`, not `localhost`): podman's short name. */
export const isShortName = (name: string) => !hasDomain(name);

/** `busybox` → `busybox:latest` (a digest or tag kept), for the tag/digest podman appends to what it resolves to. */
function splitTag(name: string): { repo: string; suffix: string } {
  const at = name.indexOf('@');
  if (at !== -1) return { repo: name.slice(0, at), suffix: name.slice(at) };
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) return { repo: name.slice(0, colon), suffix: name.slice(colon) };
  return { repo: name, suffix: ':latest' };
}

/** A short name qualified with `domain`, normalized as stored (`docker.io/busybox` → `docker.io/library/busybox:latest`). */
const qualify = (domain: string, name: string) => {
  const { repo, suffix } = splitTag(name);
  return referenceString(parseTaggedReference(`${domain}/${repo}${suffix}`));
};

export interface PullCandidates {
  /** Fully qualified names to try, in order (stored form, with tag or digest). */
  names: string[];
  /** The alias that resolved it, and its file (podman prints `Resolved "x" as an alias (file)`). */
  alias?: string;
}

/**
 * Where a pull of `name` goes: itself when qualified; for a short name its alias, else each search
 * registry. The service has no terminal, so short-name-mode `enforcing` is `permissive` (all of them, in
 * order); none is podman's error.
 */
export function pullCandidates(conf: RegistriesConf, name: string): PullCandidates {
  if (!isShortName(name)) return { names: [referenceString(parseTaggedReference(name))] };
  const { repo, suffix } = splitTag(name);
  const alias = conf.aliases[repo];
  if (alias) {
    const target = splitTag(alias.target).repo;
    return { names: [referenceString(parseTaggedReference(`${target}${suffix}`))], alias: alias.file };
  }
  if (conf.unqualifiedSearchRegistries.length === 0) {
    throw invalid(`short-name "${name}" did not resolve to an alias and no unqualified-search registries are defined in "${conf.path}"`);
  }
  return { names: conf.unqualifiedSearchRegistries.map((domain) => qualify(domain, name)) };
}
