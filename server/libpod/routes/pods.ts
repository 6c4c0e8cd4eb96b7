// libpod: pods (create, list, inspect, exists, rm, prune).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Api } from '../../../runtime/api.js';
import { PodCreateResponse, PodSpecGenerator } from '../../../openapi/libpod-pods.js';
import { toPodSpec } from '../create/pod-spec.js';

export const podRoutes: FastifyPluginAsyncTypebox<{ api: Api }> = async (app, { api }) => {
  app.post(
    '/pods/create',
    { schema: { summary: 'Create a pod (libpod)', body: PodSpecGenerator, response: { 201: PodCreateResponse } } },
    async (request, reply) => {
      const { spec, echo } = toPodSpec(request.body);
      const id = await api.pods.create(spec, echo, request.body.name || undefined);
      return reply.code(201).send({ Id: id });
    },
  );
};
