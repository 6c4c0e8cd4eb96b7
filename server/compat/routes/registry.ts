// Registry-facing endpoints besides pull and push: POST /auth (docker login), GET /images/search,
// GET /distribution/{name}/json.
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Engine } from '../../../runtime/engine.js';
import { invalid, notFound } from '../../../runtime/errors.js';
import { login } from '../../../runtime/registry/login.js';
import { search } from '../../../runtime/registry/search.js';
import { RegistryError } from '../../../runtime/registry/client.js';
import { decodeAuthHeader, type Credentials } from '../../../runtime/registry/auth.js';
import { DEFAULT_REGISTRY_OPTIONS } from '../../../runtime/registry/endpoints.js';
import { distributionInspect } from '../../../runtime/images/pull.js';
import { parseFilters } from '../../query.js';
import { sendError } from '../../app.js';

const AuthBody = Type.Object({
  username: Type.Optional(Type.String()), password: Type.Optional(Type.String()), serveraddress: Type.Optional(Type.String()),
  identitytoken: Type.Optional(Type.String()), registrytoken: Type.Optional(Type.String()), email: Type.Optional(Type.String()),
}, { additionalProperties: true });

const SearchQuery = Type.Object({ term: Type.Optional(Type.String()), limit: Type.Optional(Type.String()), filters: Type.Optional(Type.String()) });

export const registryRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  const options = () => engine.options.registry ?? DEFAULT_REGISTRY_OPTIONS;

  app.post('/auth', { schema: { summary: 'Check registry credentials (docker login)', body: AuthBody } }, async (request, reply) => {
    const body = (request.body ?? {}) as Credentials;
    try {
      const { identityToken } = await login(body, options());
      return { Status: 'Login Succeeded', IdentityToken: identityToken };
    } catch (err) {
      if (err instanceof RegistryError) return sendError(reply, err.status === 401 ? 401 : 500, err.message);
      throw err;
    }
  });

  app.get('/images/search', { schema: { summary: 'Search images in a registry', querystring: SearchQuery } }, async (request, reply) => {
    const q = request.query as { term?: string; limit?: string; filters?: string };
    if (!q.term) throw invalid('term is required');
    const f = parseFilters(q.filters, ['is-official', 'is-automated', 'stars']);
    const limit = q.limit ? Number(q.limit) : 25;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalid(`Limit ${q.limit} is outside the range of [1, 100]`);
    try {
      const results = await search(q.term, limit, decodeAuthHeader(request.headers['x-registry-auth'] as string | undefined), options());
      const stars = f.stars?.length ? Number(f.stars[0]) : 0;
      return results.filter((r) =>
        r.star_count >= stars
        && (!f['is-official']?.length || String(r.is_official) === f['is-official'][0])
        && (!f['is-automated']?.length || String(r.is_automated) === f['is-automated'][0]));
    } catch (err) {
      if (err instanceof RegistryError) return sendError(reply, err.status === 401 ? 401 : err.status === 404 ? 404 : 500, err.message);
      throw err;
    }
  });

  // Names hold slashes: a wildcard, ending in /json.
  app.get('/distribution/*', async (request) => {
    const rest = (request.params as { '*': string })['*'];
    if (!rest.endsWith('/json')) throw notFound('page not found');
    return distributionInspect(rest.slice(0, -'/json'.length), { credentials: decodeAuthHeader(request.headers['x-registry-auth'] as string | undefined), registry: options() });
  });
};
