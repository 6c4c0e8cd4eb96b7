// libpod: system (events, df, prune).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Api } from '../../../runtime/api.js';

export const systemRoutes: FastifyPluginAsyncTypebox<{ api: Api }> = async (_app, _options) => {};
