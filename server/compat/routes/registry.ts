// Registry-facing endpoints besides pull and push: POST /auth (docker login), GET /images/search,
// GET /distribution/{name}/json.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { EngineError, RegistryError, SEARCH_FILTERS, type Api } from '../../../runtime/api.js';
import { headerValue, parseFilters } from '../../query.js';
import { sendError } from '../../app.js';

const AuthBody = Type.Object(
  {
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    serveraddress: Type.Optional(Type.String()),
    identitytoken: Type.Optional(Type.String()),
    registrytoken: Type.Optional(Type.String()),
    email: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);
const AuthResponse = Type.Object({ Status: Type.String(), IdentityToken: Type.Optional(Type.String()) });

const SearchQuery = Type.Object({ term: Type.Optional(Type.String()), limit: Type.Optional(Type.String()), filters: Type.Optional(Type.String()) });
const SearchResult = Type.Object({
  name: Type.String(),
  description: Type.String(),
  star_count: Type.Integer(),
  is_official: Type.Boolean(),
  is_automated: Type.Boolean(),
});
/** A distribution inspect: the descriptor and the platforms (open: registries add fields). */
const DistributionInspect = Type.Object(
  { Descriptor: Type.Object({}, { additionalProperties: true }), Platforms: Type.Array(Type.Object({}, { additionalProperties: true })) },
  { additionalProperties: true },
);
const RestParams = Type.Object({ '*': Type.String() });

/** A registry's refusal, with the statuses dockerd passes on (`others` for the rest). */
const registryFailure = (reply: FastifyReply, err: unknown, passed: number[]) => {
  if (!(err instanceof RegistryError)) throw err;
  return sendError(reply, passed.includes(err.status) ? err.status : 500, err.message);
};

export const registryRoutes: FastifyPluginAsync<{ api: Api }> = async (plain, { api }) => {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/auth',
    { schema: { summary: 'Check registry credentials (docker login)', body: AuthBody, response: { 200: AuthResponse } } },
    async (request, reply) => {
      try {
        const { identityToken } = await api.registry.login(request.body ?? {});
        return { Status: 'Login Succeeded', IdentityToken: identityToken };
      } catch (err) {
        return registryFailure(reply, err, [401]);
      }
    },
  );

  app.get(
    '/images/search',
    { schema: { summary: 'Search images in a registry', querystring: SearchQuery, response: { 200: Type.Array(SearchResult) } } },
    async (request, reply) => {
      const q = request.query;
      if (!q.term) throw new EngineError('invalid', 'term is required');
      const filters = parseFilters(q.filters, SEARCH_FILTERS);
      const limit = q.limit ? Number(q.limit) : 25;
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new EngineError('invalid', `Limit ${q.limit} is outside the range of [1, 100]`);
      try {
        return await api.registry.search(q.term, limit, filters, headerValue(request.headers['x-registry-auth']));
      } catch (err) {
        return registryFailure(reply, err, [401, 404]);
      }
    },
  );

  // Names hold slashes: a wildcard, ending in /json.
  app.get(
    '/distribution/*',
    { schema: { summary: 'Inspect an image in a registry', params: RestParams, response: { 200: DistributionInspect } } },
    async (request) => {
      const rest = request.params['*'];
      if (!rest.endsWith('/json')) throw new EngineError('not-found', 'page not found');
      return api.registry.distribution(rest.slice(0, -'/json'.length), headerValue(request.headers['x-registry-auth']));
    },
  );
};
