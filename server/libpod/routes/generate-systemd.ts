// libpod: generate systemd.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Api } from '../../../runtime/api.js';

export const generateSystemdRoutes: FastifyPluginAsyncTypebox<{ api: Api }> = async (_app, _o) => {};
