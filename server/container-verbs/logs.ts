// logs: the container's log. Docker's frames it as attach does (raw with a TTY, multiplexed without);
// libpod's always multiplexes, a frame per line (a TTY's output as stdout), and stamps lines to the
// second (Go's RFC 3339), where Docker gives nanoseconds.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Readable } from 'node:stream';
import { ContainerIdParams as params, LogsQuery } from '../../openapi/containers.js';
import { encodeEntries } from '../framing.js';
import { parseBool } from '../query.js';
import type { VerbOptions } from './family.js';

/** A log time (RFC 3339 with nanoseconds) as Go's time.RFC3339 writes it: the fraction cut, not rounded. */
const toSeconds = (time: string) => time.replace(/\.\d+/, '');

export const logsRoutes: FastifyPluginAsyncTypebox<VerbOptions> = async (app, { api, family }) => {
  app.get('/containers/:id/logs', { schema: { params, querystring: LogsQuery } }, async (request, reply) => {
    const q = request.query;
    const timestamps = parseBool(q.timestamps);
    const abort = new AbortController();
    reply.raw.on('close', () => abort.abort());
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
    const libpod = family === 'libpod';
    const tty = logs.tty && !libpod;
    const body = Readable.from(
      (async function* () {
        for await (const batch of logs)
          yield encodeEntries(libpod && timestamps ? batch.map((e) => ({ ...e, time: toSeconds(e.time) })) : batch, { tty, timestamps, perLine: true });
      })(),
      { highWaterMark: 1 }, // batches are up to a MiB each: read ahead one, not sixteen
    );
    const type = libpod ? 'application/octet-stream' : tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream';
    return reply.header('content-type', type).send(body);
  });
};
