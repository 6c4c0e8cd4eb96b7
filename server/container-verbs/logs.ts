// logs: the container's log, framed as attach frames it (raw with a TTY, multiplexed without).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Readable } from 'node:stream';
import { ContainerIdParams as params, LogsQuery } from '../../openapi/containers.js';
import { encodeEntries } from '../framing.js';
import { parseBool } from '../query.js';
import type { VerbOptions } from './family.js';

export const logsRoutes: FastifyPluginAsyncTypebox<VerbOptions> = async (app, { api }) => {
  app.get('/containers/:id/logs', { schema: { params, querystring: LogsQuery } }, async (request, reply) => {
    const q = request.query;
    const timestamps = parseBool(q.timestamps);
    const abort = new AbortController();
    request.raw.socket.on('close', () => abort.abort());
    const logs = api.containers.logs(request.params.id, {
      stdout: parseBool(q.stdout),
      stderr: parseBool(q.stderr),
      since: q.since,
      until: q.until,
      follow: parseBool(q.follow),
      timestamps,
      signal: abort.signal,
      tail: q.tail === undefined || q.tail === 'all' || Number(q.tail) < 0 ? undefined : Number(q.tail),
    });
    const { tty } = logs;
    const body = Readable.from(
      (async function* () {
        for await (const batch of logs) yield encodeEntries(batch, { tty, timestamps, perLine: true });
      })(),
      { highWaterMark: 1 }, // batches are up to a MiB each: read ahead one, not sixteen
    );
    return reply.header('content-type', tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream').send(body);
  });
};
