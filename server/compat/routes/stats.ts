// GET /containers/{id}/stats: Docker's stats documents, one a second on a stream, or a single one.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { invalid, notFound, type Api } from '../../../runtime/api.js';
import { ContainerStatsResponse, StatsQuery, type ContainerStats } from '../../../openapi/stats.js';
import { ContainerIdParams } from '../../../openapi/containers.js';
import { apiVersion, commonHeaders } from '../../app.js';
import { parseBool } from '../../query.js';
import { versionBefore } from '../../versioning.js';

/**
 * JSON as Go prints uint64s: integers above 2^53 in full. JSON.stringify would print v1's "no limit"
 * 9223372036854771712 (exact as a double) as 9223372036854772000.
 */
const toJson = (doc: object) =>
  JSON.stringify(doc, (_key, v) => (typeof v === 'number' && v > Number.MAX_SAFE_INTEGER && Number.isInteger(v) ? `\u0000${BigInt(v)}` : v)).replace(
    /"\\u0000(\d+)"/g,
    '$1',
  );

const NETWORK_COUNTERS = ['rx_bytes', 'rx_packets', 'rx_errors', 'rx_dropped', 'tx_bytes', 'tx_packets', 'tx_errors', 'tx_dropped'] as const;

/** dockerd 20.10's document for API < 1.21: no name or id, one `network` summing every interface. */
function legacyStats({ name: _name, id: _id, networks, ...stats }: ContainerStats): object {
  const nets = Object.values(networks ?? {});
  const network = Object.fromEntries(NETWORK_COUNTERS.map((k) => [k, nets.reduce((sum, n) => sum + n[k], 0)]));
  return { ...stats, network };
}

const schema = {
  summary: 'Get container resource usage statistics',
  params: ContainerIdParams,
  querystring: StatsQuery,
  response: { 200: ContainerStatsResponse },
};

export const statsRoutes: FastifyPluginAsyncTypebox<{ api: Api }> = async (app, { api }) => {
  app.get('/containers/:id/stats', { schema }, async (request, reply) => {
    const stream = parseBool(request.query.stream, true);
    // one-shot came with API 1.41: dockerd ignores it from older clients.
    const oneShot = !versionBefore(apiVersion(request), '1.41') && parseBool(request.query['one-shot']);
    const abort = new AbortController();
    const documents = api.containers.stats(request.params.id, { stream, oneShot, signal: abort.signal }); // a 404 first
    if (stream && oneShot) throw invalid('cannot have stream=true and one-shot=true');
    // The response closes early only when the client goes away: stop sampling then.
    reply.raw.on('close', () => abort.abort());
    const shape = versionBefore(apiVersion(request), '1.21') ? legacyStats : (doc: ContainerStats) => doc;

    if (!stream) {
      let last: ContainerStats | undefined;
      for await (const doc of documents) last = doc;
      // The version's shape and Go's uint64s: written here, not by the schema's serializer.
      if (!last) throw notFound(`No such container: ${request.params.id}`); // removed meanwhile
      return reply
        .header('content-type', 'application/json')
        .serializer((doc: ContainerStats) => toJson(shape(doc)) + '\n')
        .send(last);
    }
    // Headers at once, then a document a second: clients show the first one without waiting.
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { ...commonHeaders, 'Content-Type': 'application/json' });
    res.flushHeaders();
    try {
      for await (const doc of documents) res.write(toJson(shape(doc)) + '\n');
    } finally {
      res.end();
    }
  });
};
