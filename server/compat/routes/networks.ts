// /networks: create, list (filters name, id, driver, label, type, dangling, scope), inspect, remove,
// connect, disconnect, prune (until, label).
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { NETWORK_LIST_FILTERS, NETWORK_PRUNE_FILTERS, type Api } from '../../../runtime/api.js';
import { parseFilters } from '../../query.js';
import { networkView } from '../views/networks.js';
import {
  Network,
  NetworkConnectBody,
  NetworkCreateBody,
  NetworkCreateResponse,
  NetworkDisconnectBody,
  NetworkPruneResponse,
} from '../../../openapi/networks.js';
import { apiVersion, sendError } from '../../app.js';
import { versionBefore } from '../../versioning.js';
import { validated } from '../../validate.js';

const FiltersQuery = Type.Object({ filters: Type.Optional(Type.String()) });
const IdParams = Type.Object({ id: Type.String() });
// Names may contain "/" (dockerd routes `{id:.+}`): a wildcard carries them.
const RestParams = Type.Object({ '*': Type.String() });

export const networkRoutes: FastifyPluginAsync<{ api: Api }> = async (plain, { api }) => {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/networks/create',
    { schema: { summary: 'Create a network', body: NetworkCreateBody, response: { 201: NetworkCreateResponse } } },
    async (request, reply) => {
      const body = request.body;
      // Below API 1.44 dockerd checks for a duplicate name only when asked to; from 1.44 always.
      const { id, warning } = await api.networks.create(body, !!body.CheckDuplicate || !versionBefore(apiVersion(request), '1.44'));
      return reply.code(201).send({ Id: id, Warning: warning });
    },
  );

  const list = { schema: { summary: 'List networks', querystring: FiltersQuery, response: { 200: Type.Array(Network) } } };
  const listHandler = async (request: { query: Static<typeof FiltersQuery> }) =>
    api.networks.list(parseFilters(request.query.filters, NETWORK_LIST_FILTERS)).map((n) => networkView(n));
  app.get('/networks', list, listHandler);
  // dockerd routes the trailing-slash form to the list too (some clients build it).
  app.get('/networks/', list, listHandler);

  app.get('/networks/*', { schema: { summary: 'Inspect a network', params: RestParams, response: { 200: Network } } }, async (request) => {
    const { network, members } = api.networks.inspect(request.params['*']);
    return networkView(network, members);
  });

  app.delete('/networks/*', { schema: { summary: 'Remove a network', params: RestParams } }, async (request, reply) => {
    await api.networks.remove(request.params['*']);
    return reply.code(204).send();
  });

  const connect = (ref: string, body: Static<typeof NetworkConnectBody>) => api.networks.connect(ref, body.Container, body.EndpointConfig);
  const disconnect = (ref: string, body: Static<typeof NetworkDisconnectBody>) => api.networks.disconnect(ref, body.Container, !!body.Force);

  app.post(
    '/networks/:id/connect',
    { schema: { summary: 'Connect a container to a network', params: IdParams, body: NetworkConnectBody } },
    async (request, reply) => {
      await connect(request.params.id, request.body);
      return reply.code(200).send();
    },
  );

  app.post(
    '/networks/:id/disconnect',
    { schema: { summary: 'Disconnect a container from a network', params: IdParams, body: NetworkDisconnectBody } },
    async (request, reply) => {
      await disconnect(request.params.id, request.body);
      return reply.code(200).send();
    },
  );

  // connect/disconnect of a network whose name has a "/": `/networks/a/b/connect`.
  app.post('/networks/*', { schema: { params: RestParams } }, async (request, reply) => {
    const rest = request.params['*'];
    const slash = rest.lastIndexOf('/');
    const [ref, operation] = [rest.slice(0, slash), rest.slice(slash + 1)];
    if (slash <= 0 || (operation !== 'connect' && operation !== 'disconnect')) return sendError(reply, 404, 'page not found');
    if (operation === 'connect') await connect(ref, validated(NetworkConnectBody, request.body));
    else await disconnect(ref, validated(NetworkDisconnectBody, request.body));
    return reply.code(200).send();
  });

  app.post(
    '/networks/prune',
    { schema: { summary: 'Remove unused networks', querystring: FiltersQuery, response: { 200: NetworkPruneResponse } } },
    async (request) => {
      return { NetworksDeleted: await api.networks.prune(parseFilters(request.query.filters, NETWORK_PRUNE_FILTERS)) };
    },
  );
};
