// libpod: images (list, inspect, exists, history, tree, tag, untag, remove, prune, load, save, import).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Api } from '../../../runtime/api.js';

export const imageRoutes: FastifyPluginAsyncTypebox<{ api: Api }> = async (_app, _options) => {};
