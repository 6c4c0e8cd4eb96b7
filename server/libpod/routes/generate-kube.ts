// libpod: generate kube. The YAML text comes back as podman sends it, `Content-Type: application/x-tar`
// (sic); podman's failures are 500s whose message wraps the cause in `generating YAML: `.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EngineError, invalid, type Api } from '../../../runtime/api.js';
import { sendErrorBody } from '../../app.js';
import { GenerateKubeQuery } from '../../../openapi/libpod-generate-kube.js';

const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

export const generateKubeRoutes: FastifyPluginAsyncTypebox<{ api: Api }> = async (app, { api }) => {
  app.get(
    '/generate/kube',
    { schema: { summary: 'Kubernetes YAML for containers, pods and volumes (libpod)', querystring: GenerateKubeQuery } },
    async (request, reply) => {
      const { names: given = [], service = '' } = request.query;
      const names = Array.isArray(given) ? given : [given];
      if (service !== '' && !GO_TRUE.has(service) && !GO_FALSE.has(service))
        throw invalid(`failed to parse parameters for ${request.originalUrl}: schema: error converting value for "service"`);
      let yaml: string;
      try {
        yaml = await api.kube.generateKube(names, { service: GO_TRUE.has(service) });
      } catch (err) {
        if (!(err instanceof EngineError)) throw err;
        // podman's ErrNotImplemented is wrapped: the cause is its own words, at the end.
        const cause = err.kind === 'not-implemented' ? err.message.slice(err.message.lastIndexOf(': ') + 2) : err.message;
        return sendErrorBody(reply, 500, { cause, message: `generating YAML: ${err.message}`, response: 500 });
      }
      return reply.type('application/x-tar').send(yaml);
    },
  );
};
