// top: the container's processes. Docker's: `ps` narrowed to them. libpod's: psgo's descriptors (or ps
// run in the container), answered without Content-Type; once the container is found podman's service
// has committed to 200, so a failure then is an empty 200 (the client says "unexpected end of JSON input").
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ContainerIdParams as params, TopQuery, TopResponse } from '../../openapi/containers.js';
import { LibpodTopQuery } from '../../openapi/libpod-container-tools.js';
import { rawHead } from '../raw-reply.js';
import type { VerbOptions } from './family.js';

export const topRoutes: FastifyPluginAsyncTypebox<VerbOptions> = async (app, { api, family }) => {
  if (family === 'libpod') {
    app.get(
      '/containers/:id/top',
      { schema: { summary: 'List processes in a container (libpod)', params, querystring: LibpodTopQuery } },
      async (request, reply) => {
        const id = api.containers.idOf(request.params.id); // a 404 first
        const given = request.query.ps_args;
        const args = (Array.isArray(given) ? given : [given ?? '']).filter(Boolean);
        let body = '';
        try {
          const { titles, processes } = await api.containers.topDescribed(id, args);
          body = `${JSON.stringify({ Processes: processes, Titles: titles })}\n`;
        } catch (err) {
          request.log.info({ err }, 'libpod top failed after the answer was committed');
        }
        rawHead(reply, 200).end(body);
      },
    );
    return;
  }
  app.get('/containers/:id/top', { schema: { params, querystring: TopQuery, response: { 200: TopResponse } } }, async (request) => {
    const { titles, processes } = await api.containers.top(request.params.id, request.query.ps_args);
    return { Titles: titles, Processes: processes };
  });
};
