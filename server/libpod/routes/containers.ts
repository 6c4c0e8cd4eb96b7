// libpod: containers (create from a SpecGenerator, list, inspect, remove, rename, init, prune, exists and the rest of the container endpoints not in server/container-verbs).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Api } from '../../../runtime/api.js';

export const containerRoutes: FastifyPluginAsyncTypebox<{ api: Api }> = async (_app, _options) => {};
