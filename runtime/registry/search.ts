// GET /images/search: the registry's v1 search API (`/v1/search?q=&n=`), which Docker Hub and some
// registries serve; a registry without one (distribution) gets dockerd's error.
import { RegistryClient, RegistryError } from './client.js';
import type { Credentials } from './auth.js';
import { endpointFor, type RegistryOptions } from './endpoints.js';
import { MAX_DOCUMENT_SIZE, readBounded } from './bodies.js';
import { hasDomain } from '../images/short-names.js';

export interface SearchResult {
  name: string;
  description: string;
  star_count: number;
  is_official: boolean;
  is_automated: boolean;
}

/** `busybox` searches docker.io; `host:port/term` searches that registry for `term`. */
function splitTerm(term: string): { domain: string; query: string } {
  const i = term.indexOf('/');
  const first = i > 0 ? term.slice(0, i) : '';
  if (first && (/[.:]/.test(first) || first === 'localhost')) return { domain: first, query: term.slice(i + 1) };
  return { domain: 'docker.io', query: term };
}

export async function search(term: string, limit: number, creds: Credentials, o: RegistryOptions): Promise<SearchResult[]> {
  const { domain, query } = splitTerm(term);
  const endpoint = await endpointFor(domain, o);
  // Docker Hub's search lives on the index, not on registry-1.
  const client = new RegistryClient(domain === 'docker.io' ? { ...endpoint, host: 'index.docker.io' } : endpoint, creds);
  try {
    await client.baseUrl();
    const res = await client.fetch('GET', `/v1/search?q=${encodeURIComponent(query)}&n=${limit}`, '');
    if (res.status === 404) {
      await res.body.dump();
      throw new RegistryError(`Unexpected status code 404`, 404);
    }
    if (res.status !== 200) await RegistryClient.fail(res, 'searching');
    const text = await readBounded(
      res.body,
      MAX_DOCUMENT_SIZE,
      () => new RegistryError(`search results larger than ${MAX_DOCUMENT_SIZE / 1024 / 1024} MiB`, 502),
    );
    const body = JSON.parse(text.toString()) as { results?: Partial<SearchResult>[] };
    const prefix = domain === 'docker.io' ? '' : `${domain}/`;
    return (body.results ?? []).slice(0, limit).map((r) => ({
      name: `${prefix}${r.name ?? ''}`,
      description: r.description ?? '',
      star_count: r.star_count ?? 0,
      is_official: !!r.is_official,
      is_automated: !!r.is_automated,
    }));
  } finally {
    await client.close();
  }
}

/** What podman's search lists: the registry searched, then Docker's fields (and a tag, with --list-tags). */
export interface IndexedSearchResult extends SearchResult {
  index: string;
  tag?: string;
}

/** podman search --list-tags `host/repo`: the repository's tags (/v2/<repo>/tags/list). */
export async function listTags(
  term: string,
  limit: number,
  creds: (domain: string) => Credentials,
  o: RegistryOptions,
  insecure: boolean,
): Promise<IndexedSearchResult[]> {
  if (!hasDomain(term)) throw new RegistryError(`reference "${term}" must be a docker reference`, 400);
  const i = term.indexOf('/');
  const first = term.slice(0, i);
  const path = term.slice(i + 1).replace(/:[^/]*$/, '');
  const client = new RegistryClient(await endpointFor(first, o, insecure), creds(first));
  try {
    const res = await client.fetch('GET', `/v2/${path}/tags/list`, `repository:${path}:pull`);
    if (res.status !== 200) await RegistryClient.fail(res, `listing the tags of ${term}`);
    const text = await readBounded(res.body, MAX_DOCUMENT_SIZE, () => new RegistryError(`tag list larger than ${MAX_DOCUMENT_SIZE / 1024 / 1024} MiB`, 502));
    const tags = (JSON.parse(text.toString()) as { tags?: string[] | null }).tags ?? [];
    return tags
      .slice(0, limit || 25)
      .map((tag) => ({ index: first, name: `${first}/${path}`, tag, description: '', star_count: 0, is_official: false, is_automated: false }));
  } finally {
    await client.close();
  }
}

/**
 * podman search: a term with a registry (`host:port/busy`) searches that one, a bare term each of
 * registries.conf's unqualified-search registries (none: nothing). Docker Hub answers its v1 search;
 * other registries (distribution has no search) their catalog, the repositories whose name holds the
 * term, as containers/image does.
 */
export async function searchRegistries(
  term: string,
  limit: number,
  creds: (domain: string) => Credentials,
  o: RegistryOptions,
  insecure: boolean,
): Promise<IndexedSearchResult[]> {
  const i = term.indexOf('/');
  const targets = hasDomain(term)
    ? [{ domain: term.slice(0, i), query: term.slice(i + 1) }]
    : o.conf.unqualifiedSearchRegistries.map((domain) => ({ domain, query: term }));
  const out: IndexedSearchResult[] = [];
  for (const { domain, query } of targets) {
    if (domain === 'docker.io') {
      out.push(...(await search(query, limit || 25, creds(domain), o)).map((r) => ({ ...r, name: `docker.io/${r.name}`, index: domain })));
      continue;
    }
    const client = new RegistryClient(await endpointFor(domain, o, insecure), creds(domain));
    try {
      const res = await client.fetch('GET', `/v2/_catalog`, 'registry:catalog:*');
      if (res.status !== 200) await RegistryClient.fail(res, 'searching');
      const text = await readBounded(
        res.body,
        MAX_DOCUMENT_SIZE,
        () => new RegistryError(`search results larger than ${MAX_DOCUMENT_SIZE / 1024 / 1024} MiB`, 502),
      );
      const repositories = (JSON.parse(text.toString()) as { repositories?: string[] }).repositories ?? [];
      const found = repositories.filter((r) => r.includes(query)).slice(0, limit || 25);
      out.push(...found.map((r) => ({ index: domain, name: `${domain}/${r}`, description: '', star_count: 0, is_official: false, is_automated: false })));
    } finally {
      await client.close();
    }
  }
  return out;
}
