// libpod: images to and from registries and builds (pull, push, search, build).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Api } from '../../../runtime/api.js';

export const imageTransferRoutes: FastifyPluginAsyncTypebox<{ api: Api }> = async (_app, _options) => {};
