// GET /events: the history from `since` (kept in the DB), then live events, until `until` or the
// client goes. Headers go out at once: clients wait for them before doing what they watch.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { EVENT_FILTERS, parseEventTime, type Api } from '../../../runtime/api.js';
import { EventsQuery } from '../../../openapi/events.js';
import { commonHeaders } from '../../app.js';
import { parseFilters } from '../../query.js';
import { eventMessage } from '../views/events.js';

export const eventRoutes: FastifyPluginAsync<{ api: Api }> = async (plain, { api }) => {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/events', { schema: { summary: 'Monitor events', querystring: EventsQuery } }, async (request, reply) => {
    const q = request.query;
    const res = reply.raw;
    const stop = api.events.watch(
      {
        filters: parseFilters(q.filters, EVENT_FILTERS),
        since: q.since ? parseEventTime(q.since, 'since') : undefined,
        until: q.until ? parseEventTime(q.until, 'until') : undefined,
      },
      {
        start: () => {
          reply.hijack();
          res.writeHead(200, { ...commonHeaders, 'Content-Type': 'application/json' });
          res.flushHeaders();
        },
        event: (e) => res.write(JSON.stringify(eventMessage(e)) + '\n'),
        end: () => res.end(),
      },
    );
    reply.raw.on('close', () => {
      stop();
      res.end();
    });
  });
};
