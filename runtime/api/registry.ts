// The registry verbs the server may call: options in, results out; no store, path or process leaks out.
import type { Engine } from '../engine.js';
import { decodeAuthHeader, type Credentials } from '../registry/auth.js';
import { DEFAULT_REGISTRY_OPTIONS } from '../registry/endpoints.js';
import { login } from '../registry/login.js';
import { listTags, search, searchRegistries } from '../registry/search.js';
import { distributionInspect } from '../images/pull.js';
import { searchFilter, type Filters } from '../filters.js';

export function registryApi(engine: Engine) {
  const registry = () => engine.options.registry ?? DEFAULT_REGISTRY_OPTIONS;
  return {
    /** `docker login`: checks the credentials with the registry; its identity token, if it gave one. */
    login: (credentials: Credentials) => login(credentials, registry()),
    /** `docker search` with the client's X-Registry-Auth header. */
    search: async (term: string, limit: number, filters: Filters, authHeader: string | undefined) =>
      (await search(term, limit, decodeAuthHeader(authHeader), registry())).filter(searchFilter(filters)),
    /** `podman search`: a registry's catalog or Docker Hub's search; credentials from podman's keyed X-Registry-Auth. */
    searchLibpod: async (term: string, o: { limit: number; filters: Filters; listTags: boolean; authHeader?: string; tlsVerify?: boolean }) => {
      const creds = (domain: string) => decodeAuthHeader(o.authHeader, domain);
      if (o.listTags) return listTags(term, o.limit, creds, registry(), o.tlsVerify === false);
      return (await searchRegistries(term, o.limit, creds, registry(), o.tlsVerify === false)).filter(searchFilter(o.filters));
    },
    /** One registry's credentials in an X-Registry-Auth or X-Registry-Config header (podman's keyed map, or one object). */
    credentialsFor: (header: string | undefined, domain: string): Credentials => decodeAuthHeader(header, domain),
    /** `docker buildx imagetools`-style manifest lookup (GET /distribution/{name}/json). */
    distribution: (name: string, authHeader: string | undefined) =>
      distributionInspect(name, { credentials: decodeAuthHeader(authHeader), registry: registry() }),
  };
}
