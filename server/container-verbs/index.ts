// The container verbs both API families serve: start, stop, restart, kill, pause, unpause, wait, logs,
// top, archive (cp), attach, resize and exec. Registered by the compat plugin (server/app.ts) with
// family 'compat', and by the libpod plugin with family 'libpod' under its own prefix.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { archiveRoutes } from './archive.js';
import { attachRoutes } from './attach.js';
import { execRoutes } from './exec.js';
import { execWebsocketRoutes } from './exec-ws.js';
import type { VerbOptions } from './family.js';
import { lifecycleRoutes } from './lifecycle.js';
import { logsRoutes } from './logs.js';
import { resizeRoutes } from './resize.js';
import { topRoutes } from './top.js';
import { waitRoutes } from './wait.js';

export type { Family, VerbOptions } from './family.js';

export const containerVerbRoutes: FastifyPluginAsyncTypebox<VerbOptions> = async (app, { api, family }) => {
  // Only these options go down: a `prefix` given to this plugin already applies to what it registers.
  for (const routes of [lifecycleRoutes, waitRoutes, logsRoutes, topRoutes, archiveRoutes, attachRoutes, resizeRoutes, execRoutes, execWebsocketRoutes])
    await app.register(routes, { api, family });
};
