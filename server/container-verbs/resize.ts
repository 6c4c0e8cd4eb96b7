// resize: a running container's terminal size. 200 with no body in both families (podman keeps Docker's).
// podman's also takes a created container's (its attach has made the terminal): kept for the start.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ContainerIdParams as params, ResizeQuery } from '../../openapi/containers.js';
import type { VerbOptions } from './family.js';

export const resizeRoutes: FastifyPluginAsyncTypebox<VerbOptions> = async (app, { api, family }) => {
  app.post('/containers/:id/resize', { schema: { params, querystring: ResizeQuery } }, async (request, reply) => {
    const { h, w } = request.query;
    await api.containers.resize(request.params.id, Number(h ?? 0), Number(w ?? 0), { libpod: family === 'libpod' });
    return reply.code(200).send();
  });
};
