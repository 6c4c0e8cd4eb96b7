// libpod: networks (create, ls, inspect, exists, rm, prune, connect, disconnect) in netavark's JSON and
// podman's words. berth's one default network is `podman` here and `bridge` to the Docker API (a lookup
// by either name finds it: the runtime's network lookup). `network reload` the 4.3.1 client refuses
// remotely: nothing reaches the service.
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import { EngineError, parseEventTime, NETWORK_PRUNE_FILTERS, type Api, type Network } from '../../../runtime/api.js';
import { sendErrorBody } from '../../app.js';
import { parseBool, parseFilters } from '../../query.js';
import { isLibpodNetwork, libpodNetworkName, libpodNetworkView, LIBPOD_DEFAULT, DOCKER_DEFAULT, rangeCidr } from '../views/networks.js';
import {
  LibpodNetwork,
  LibpodNetworkConnectBody,
  LibpodNetworkCreateBody,
  LibpodNetworkDeleteQuery,
  LibpodNetworkDisconnectBody,
  LibpodNetworkFiltersQuery,
  LibpodNetworkPruneReport,
  LibpodNetworkRmReport,
} from '../../../openapi/libpod-networks.js';

const NameParams = Type.Object({ name: Type.String() });
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const LIST_FILTERS = ['name', 'id', 'driver', 'label', 'until', 'dangling'];

/** An error in podman's words: `message` ends with its `cause`, as Go's wrapped errors read. */
const fail = (reply: FastifyReply, status: number, cause: string, message: string) =>
  sendErrorBody(reply, status, { cause, message: message ? `${message}: ${cause}` : cause, response: status });

const isNotFound = (err: unknown) => err instanceof EngineError && err.kind === 'not-found';
const isV6 = (address: string) => address.includes(':');

/** A random unique local /64, as podman picks for --ipv6 without a subnet. */
const ula64 = () => {
  const b = randomBytes(7);
  const group = (i: number) => b.readUInt16BE(i).toString(16);
  return `fd${b[6]!.toString(16).padStart(2, '0')}:${group(0)}:${group(2)}:${group(4)}::/64`;
};

/** podman's name filter: a regular expression anywhere in the name (the name itself when not one). */
const nameMatches = (pattern: string, name: string) => {
  try {
    return new RegExp(pattern).test(name);
  } catch {
    return name.includes(pattern);
  }
};

export const networkRoutes: FastifyPluginAsyncTypebox<{ api: Api }> = async (app, { api }) => {
  /** The network libpod knows by that name or ID, or undefined (host and none are Docker's only). */
  const lookup = (ref: string): Network | undefined => {
    if (ref === DOCKER_DEFAULT) return undefined; // podman has no network of that name
    try {
      const { network } = api.networks.inspect(ref);
      return isLibpodNetwork(network) ? network : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };

  app.post(
    '/networks/create',
    { schema: { summary: 'Create a network (libpod)', body: LibpodNetworkCreateBody, response: { 200: LibpodNetwork } } },
    async (request, reply) => {
      const b = request.body;
      const name = b.name ?? '';
      if (name && !NAME.test(name)) return fail(reply, 500, 'invalid argument', `network name ${name} invalid: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*`);
      if (name === LIBPOD_DEFAULT || name === DOCKER_DEFAULT || api.networks.list({ name: [`^${name}$`] }).length)
        return fail(reply, 409, 'network already exists', `network name ${name} already used`);
      if (b.driver && b.driver !== 'bridge') return fail(reply, 500, 'invalid argument', `unsupported driver ${b.driver}`);
      const subnets = (b.subnets ?? []).map((s) => ({
        Subnet: s.subnet,
        Gateway: s.gateway,
        IPRange: s.lease_range?.start_ip && s.lease_range.end_ip ? rangeCidr(s.lease_range.start_ip, s.lease_range.end_ip) : undefined,
      }));
      // podman enables IPv6 for a v6 subnet given, and picks a v6 subnet for --ipv6 without one.
      const ipv6 = !!b.ipv6_enabled || subnets.some((s) => isV6(s.Subnet));
      if (ipv6 && !subnets.some((s) => isV6(s.Subnet))) subnets.push({ Subnet: ula64(), Gateway: undefined, IPRange: undefined });
      const options = { ...(b.options ?? {}) };
      if (b.network_interface) options['com.docker.network.bridge.name'] = b.network_interface;
      const { id } = await api.networks.create(
        {
          Name: name || `podman${randomBytes(3).toString('hex')}`,
          Driver: 'bridge',
          Internal: !!b.internal,
          EnableIPv6: ipv6,
          IPAM: { Config: subnets },
          Options: options,
          Labels: b.labels ?? {},
          dnsEnabled: b.dns_enabled ?? true,
        },
        true,
      );
      return libpodNetworkView(api.networks.inspect(id).network);
    },
  );

  app.get(
    '/networks/json',
    { schema: { summary: 'List networks (libpod)', querystring: LibpodNetworkFiltersQuery, response: { 200: Type.Array(LibpodNetwork) } } },
    async (request) => {
      const { name: names, ...rest } = parseFilters(request.query.filters, LIST_FILTERS);
      const { until, ...listed } = rest;
      let list = api.networks.list(listed).filter(isLibpodNetwork);
      if (names?.length) list = list.filter((n) => names.some((p) => nameMatches(p, libpodNetworkName(n))));
      if (until?.length) {
        const limit = Math.min(...until.map(untilMs));
        list = list.filter((n) => Date.parse(n.createdAt) < limit);
      }
      return list.map(libpodNetworkView);
    },
  );

  app.get(
    '/networks/:name/json',
    { schema: { summary: 'Inspect a network (libpod)', params: NameParams, response: { 200: LibpodNetwork } } },
    async (request, reply) => {
      const n = lookup(request.params.name);
      if (!n) return fail(reply, 404, 'network not found', '');
      return libpodNetworkView(n);
    },
  );

  app.get('/networks/:name/exists', { schema: { summary: 'Whether a network exists (libpod)', params: NameParams } }, async (request, reply) => {
    if (!lookup(request.params.name)) return fail(reply, 404, 'network not found', '');
    return reply.code(204).send();
  });

  app.delete(
    '/networks/:name',
    { schema: { summary: 'Remove a network (libpod)', params: NameParams, querystring: LibpodNetworkDeleteQuery, response: { 200: LibpodNetworkRmReport } } },
    async (request, reply) => {
      const ref = request.params.name;
      const n = lookup(ref);
      if (!n) return fail(reply, 404, 'network not found', `unable to find network with name or ID ${ref}`);
      // podman answers this one as a report with a string error, which its own client cannot read (exit 125).
      if (n.name === DOCKER_DEFAULT) return [{ Name: LIBPOD_DEFAULT, Err: `default network ${LIBPOD_DEFAULT} cannot be removed` }];
      if (parseBool(request.query.force)) await api.networks.removeWithContainers(n.id);
      else {
        // podman refuses while any container is on it, running or not.
        if (api.networks.containersOn(n.id).length)
          return fail(reply, 500, 'network is being used', `"${ref}" has associated containers with it. Use -f to forcibly delete containers and pods`);
        await api.networks.remove(n.id);
      }
      return [{ Name: n.name, Err: null }];
    },
  );

  app.post(
    '/networks/prune',
    { schema: { summary: 'Remove unused networks (libpod)', querystring: LibpodNetworkFiltersQuery, response: { 200: LibpodNetworkPruneReport } } },
    async (request) => (await api.networks.prune(parseFilters(request.query.filters, NETWORK_PRUNE_FILTERS))).map((name) => ({ Name: name, Error: null })),
  );

  // connect and disconnect answer 200 `OK\n` as text (podman's WriteResponse of a string).
  const ok = (reply: FastifyReply) => reply.code(200).header('content-type', 'text/plain; charset=us-ascii').send('OK\n');

  app.post(
    '/networks/:name/connect',
    { schema: { summary: 'Connect a container to a network (libpod)', params: NameParams, body: LibpodNetworkConnectBody } },
    async (request, reply) => {
      const n = lookup(request.params.name);
      if (!n) return fail(reply, 404, 'network not found', `unable to find network with name or ID ${request.params.name}`);
      const b = request.body;
      const ips = b.static_ips ?? [];
      try {
        await api.networks.connect(n.id, b.container, {
          Aliases: b.aliases ?? null,
          IPAMConfig: ips.length ? { IPv4Address: ips.find((ip) => !isV6(ip)) ?? null, IPv6Address: ips.find(isV6) ?? null } : null,
          ...(b.static_mac ? { MacAddress: b.static_mac } : {}),
        });
      } catch (err) {
        // dockerd's "endpoint with name … already exists" in podman's words (its 500, by the container's ID).
        if (!(err instanceof EngineError && /^endpoint with name .* already exists in network /.test(err.message))) throw err;
        const id = api.containers.inspect(b.container).id;
        return fail(reply, 500, 'network is already connected', `container ${id} is already connected to network "${libpodNetworkName(n)}"`);
      }
      return ok(reply);
    },
  );

  app.post(
    '/networks/:name/disconnect',
    { schema: { summary: 'Disconnect a container from a network (libpod)', params: NameParams, body: LibpodNetworkDisconnectBody } },
    async (request, reply) => {
      const n = lookup(request.params.name);
      if (!n) return fail(reply, 404, 'network not found', `unable to find network with name or ID ${request.params.name}`);
      await api.networks.disconnect(n.id, request.body.Container, !!request.body.Force);
      return ok(reply);
    },
  );
};

/** An `until` value (a unix time, a duration before now, a date) in milliseconds. */
const untilMs = (value: string) => Number(parseEventTime(value, 'until') / 1_000_000n);
