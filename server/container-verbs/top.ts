// top: `ps` narrowed to the container's processes.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ContainerIdParams as params, TopQuery, TopResponse } from '../../openapi/containers.js';
import type { VerbOptions } from './family.js';

export const topRoutes: FastifyPluginAsyncTypebox<VerbOptions> = async (app, { api }) => {
  app.get('/containers/:id/top', { schema: { params, querystring: TopQuery, response: { 200: TopResponse } } }, async (request) => {
    const { titles, processes } = await api.containers.top(request.params.id, request.query.ps_args);
    return { Titles: titles, Processes: processes };
  });
};
