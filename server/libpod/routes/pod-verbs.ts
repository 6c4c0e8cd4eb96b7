// libpod: the verbs on a pod's members (start, stop, restart, kill, pause, unpause, top, stats).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Api } from '../../../runtime/api.js';

export const podVerbRoutes: FastifyPluginAsyncTypebox<{ api: Api }> = async (_app, _o) => {};
