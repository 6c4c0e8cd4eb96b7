// /networks: create, list (filters name, id, driver, label, type, dangling, scope), inspect, remove,
// connect, disconnect, prune (until, label).
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { Engine } from '../../../runtime/engine.js';
import { parseBool, parseFilters } from '../../query.js';
import { parseUntil } from '../../../runtime/filters.js';
import { networkView } from '../views/networks.js';
import { NetworkConnectBody, NetworkCreateBody, NetworkDisconnectBody } from '../../../openapi/networks.js';
import type { Network } from '../../../runtime/network/store.js';
import { PREDEFINED } from '../../../runtime/network/service.js';
import { apiVersion, sendError } from '../../app.js';
import { versionBefore } from '../../versioning.js';
import { validated } from '../../validate.js';

const FiltersQuery = Type.Object({ filters: Type.Optional(Type.String()) });

const labelled = (n: Network, wanted: string[]) => wanted.every((l) => {
  const eq = l.indexOf('=');
  return eq < 0 ? l in n.labels : n.labels[l.slice(0, eq)] === l.slice(eq + 1);
});

export const networkRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  const { networks } = engine;
  const attachments = engine.containers.network!;
  const inUse = (n: Network) => networks.store.endpointsOn(n.id).length > 0;

  app.post('/networks/create', { schema: { summary: 'Create a network', body: NetworkCreateBody } }, async (request, reply) => {
    const body = request.body as NetworkCreateBody;
    // Below API 1.44 dockerd checks for a duplicate name only when asked to; from 1.44 always.
    const { id, warning } = await networks.create(body, !!body.CheckDuplicate || !versionBefore(apiVersion(request), '1.44'));
    return reply.code(201).send({ Id: id, Warning: warning });
  });

  const listSchema = { summary: 'List networks', querystring: FiltersQuery };
  const list = async (request: FastifyRequest) => {
    const f = parseFilters((request.query as { filters?: string }).filters, ['name', 'id', 'driver', 'label', 'type', 'dangling', 'scope']);
    return networks.list().filter((n) =>
      (!f.name?.length || f.name.some((v) => n.name.includes(v)))
      && (!f.id?.length || f.id.some((v) => n.id.includes(v)))
      && (!f.driver?.length || f.driver.includes(n.driver))
      && (!f.scope?.length || f.scope.includes('local'))
      && labelled(n, f.label ?? [])
      && (!f.type?.length || f.type.includes(PREDEFINED.includes(n.name) ? 'builtin' : 'custom'))
      && (!f.dangling?.length || f.dangling.some((d) => parseBool(d) === (!inUse(n) && !PREDEFINED.includes(n.name)))))
      .map((n) => networkView(engine, n, false));
  };
  app.get('/networks', { schema: listSchema }, list);
  // dockerd routes the trailing-slash form to the list too (some clients build it).
  app.get('/networks/', { schema: listSchema }, list);

  // Names may contain "/" (dockerd routes `{id:.+}`): a wildcard carries them.
  const idOf = (request: FastifyRequest) => (request.params as { '*': string })['*'];

  app.get('/networks/*', async (request) => networkView(engine, networks.resolve(idOf(request), 'inspect'), true));

  app.delete('/networks/*', async (request, reply) => {
    networks.remove(idOf(request), (id) => {
      const c = engine.containers.store.get(id);
      return !!c && (c.state === 'running' || c.state === 'paused');
    });
    return reply.code(204).send();
  });

  const connect = async (ref: string, body: Static<typeof NetworkConnectBody>) => attachments.connect(ref, body.Container, body.EndpointConfig as never);
  const disconnect = async (ref: string, body: Static<typeof NetworkDisconnectBody>) => attachments.disconnect(ref, body.Container, !!body.Force);

  app.post('/networks/:id/connect', { schema: { summary: 'Connect a container to a network', body: NetworkConnectBody } }, async (request, reply) => {
    await connect((request.params as { id: string }).id, request.body as Static<typeof NetworkConnectBody>);
    return reply.code(200).send();
  });

  app.post('/networks/:id/disconnect', { schema: { summary: 'Disconnect a container from a network', body: NetworkDisconnectBody } }, async (request, reply) => {
    await disconnect((request.params as { id: string }).id, request.body as Static<typeof NetworkDisconnectBody>);
    return reply.code(200).send();
  });

  // connect/disconnect of a network whose name has a "/": `/networks/a/b/connect`.
  app.post('/networks/*', async (request, reply) => {
    const rest = idOf(request);
    const slash = rest.lastIndexOf('/');
    const [ref, operation] = [rest.slice(0, slash), rest.slice(slash + 1)];
    if (slash <= 0 || (operation !== 'connect' && operation !== 'disconnect')) return sendError(reply, 404, 'page not found');
    if (operation === 'connect') await connect(ref, validated(NetworkConnectBody, request.body));
    else await disconnect(ref, validated(NetworkDisconnectBody, request.body));
    return reply.code(200).send();
  });

  app.post('/networks/prune', { schema: { summary: 'Remove unused networks', querystring: FiltersQuery } }, async (request) => {
    const f = parseFilters((request.query as { filters?: string }).filters, ['until', 'label', 'label!']);
    const until = f.until?.[0] ? parseUntil(f.until[0]) : undefined;
    const removed = networks.prune((n) =>
      (until !== undefined && Date.parse(n.createdAt) >= until)
      || !labelled(n, f.label ?? [])
      || (f['label!'] ?? []).some((l) => labelled(n, [l])));
    return { NetworksDeleted: removed };
  });
};
