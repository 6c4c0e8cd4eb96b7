// libpod: generate kube.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Api } from '../../../runtime/api.js';

export const generateKubeRoutes: FastifyPluginAsyncTypebox<{ api: Api }> = async (_app, _o) => {};
