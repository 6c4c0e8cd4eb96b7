// libpod: play kube and kube down.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Api } from '../../../runtime/api.js';

export const playKubeRoutes: FastifyPluginAsyncTypebox<{ api: Api }> = async (_app, _o) => {};
