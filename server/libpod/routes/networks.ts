// libpod: networks.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Api } from '../../../runtime/api.js';

export const networkRoutes: FastifyPluginAsyncTypebox<{ api: Api }> = async (_app, _options) => {};
