// wait. Docker's: the head at once (the docker CLI sends /start only once it has arrived), then
// {"Error","StatusCode"} when the condition holds. libpod's: conditions named by container state
// (repeatable; `stopped` and `exited` by default), and the exit code alone as text.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EngineError, type WaitCondition } from '../../runtime/api.js';
import { ContainerIdParams as params, LibpodWaitQuery, WaitQuery, WaitResponse } from '../../openapi/containers.js';
import { commonHeaders } from '../app.js';
import type { VerbOptions } from './family.js';

/** libpod's state names, as the engine's conditions; the states berth cannot wait for yet are refused. */
function libpodCondition(given: string | string[] | undefined): WaitCondition {
  const names = (Array.isArray(given) ? given : given ? [given] : []).filter(Boolean);
  const unsupported = names.filter((n) => n !== 'stopped' && n !== 'exited');
  if (unsupported.length) throw new EngineError('not-implemented', `waiting for condition ${unsupported.join(', ')} is not supported`);
  return 'not-running';
}

export const waitRoutes: FastifyPluginAsyncTypebox<VerbOptions> = async (app, { api, family }) => {
  if (family === 'libpod') {
    app.post('/containers/:id/wait', { schema: { params, querystring: LibpodWaitQuery } }, async (request, reply) => {
      const condition = libpodCondition(request.query.condition);
      const abort = new AbortController();
      request.raw.socket.on('close', () => abort.abort());
      const { code } = await api.containers.wait(request.params.id, condition, abort.signal);
      return reply.header('content-type', 'text/plain; charset=us-ascii').send(`${code}\n`);
    });
    return;
  }

  app.post('/containers/:id/wait', { schema: { params, querystring: WaitQuery, response: { 200: WaitResponse } } }, async (request, reply) => {
    const condition = request.query.condition || 'not-running';
    const abort = new AbortController();
    const result = api.containers.wait(request.params.id, condition, abort.signal);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { ...commonHeaders, 'Content-Type': 'application/json' });
    res.flushHeaders();
    request.raw.socket.on('close', () => abort.abort());
    try {
      const { code, error } = await result;
      res.end(JSON.stringify({ Error: error ? { Message: error } : null, StatusCode: code }) + '\n');
    } catch {
      res.end();
    }
  });
};
