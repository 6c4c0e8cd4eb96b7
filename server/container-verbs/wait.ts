// wait. Docker's: the head at once (the docker CLI sends /start only once it has arrived), then
// {"Error","StatusCode"} when the condition holds. libpod's: conditions named by container state
// (repeatable; `stopped` and `exited` by default), and the exit code alone as text.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EngineError, invalid, type Container } from '../../runtime/api.js';
import { ContainerIdParams as params, LibpodWaitQuery, WaitQuery, WaitResponse } from '../../openapi/containers.js';
import { commonHeaders } from '../app.js';
import type { VerbOptions } from './family.js';

type State = Container['state'];

/**
 * libpod's conditions: `stopped` and `exited` wait for the exit (the default); the others for a state,
 * as the engine's states that podman names so. `configured` and `stopping` podman's schema refuses.
 */
const STATES: Record<string, State[] | 'exit'> = {
  created: ['created', 'initialized'], // podman's created covers a container its init prepared
  running: ['running', 'restarting'],
  paused: ['paused'],
  removing: ['removing'],
  unknown: [],
  stopped: 'exit',
  exited: 'exit',
};

function libpodConditions(given: string | string[] | undefined, url: string): { exit: boolean; states: State[] } {
  const names = Array.isArray(given) ? given : given !== undefined ? [given] : [];
  if (names.length === 0) return { exit: true, states: [] };
  const states: State[] = [];
  let exit = false;
  names.forEach((name, i) => {
    const wanted = Object.hasOwn(STATES, name) ? STATES[name] : undefined;
    if (!wanted) throw invalid(`failed to parse parameters for ${url}: schema: error converting value for index ${i} of "condition"`);
    if (wanted === 'exit') exit = true;
    else states.push(...wanted);
  });
  return { exit, states };
}

const GO_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration, in milliseconds; its error otherwise (podman answers it with a 500). */
export function parseGoDuration(text: string): number {
  const fail = () => new EngineError('internal', `time: invalid duration ${JSON.stringify(text)}`);
  const m = /^([-+]?)(.*)$/s.exec(text)!;
  if (m[2] === '0') return 0;
  if (m[2] === '') throw fail();
  let total = 0;
  const part = /(\d*\.?\d*)(ns|us|µs|μs|ms|s|m|h)/y;
  let at = 0;
  while (at < m[2]!.length) {
    part.lastIndex = at;
    const p = part.exec(m[2]!);
    if (!p || p[1] === '' || p[1] === '.') throw fail();
    total += Number(p[1]) * GO_UNITS[p[2]!]!;
    at = part.lastIndex;
  }
  return m[1] === '-' ? -total : total;
}

export const waitRoutes: FastifyPluginAsyncTypebox<VerbOptions> = async (app, { api, family }) => {
  if (family === 'libpod') {
    app.post('/containers/:id/wait', { schema: { params, querystring: LibpodWaitQuery } }, async (request, reply) => {
      const { id } = request.params;
      const { exit, states } = libpodConditions(request.query.condition, request.originalUrl);
      const interval = request.query.interval === undefined ? 250 : parseGoDuration(request.query.interval);
      const abort = new AbortController();
      reply.raw.on('close', () => abort.abort());
      const answer = (code: number) => reply.header('content-type', 'text/plain; charset=us-ascii').send(`${code}\n`);
      // A container --rm removed before this wait came (`podman run --rm` waits once start has answered).
      const removed = await api.containers.removedExitCode(id);
      if (removed !== undefined) return answer(removed);
      // Either condition may come first: the exit gives its code, a state -1 (podman's).
      const waits: Promise<number>[] = [];
      if (exit) waits.push(api.containers.wait(id, 'not-running', abort.signal).then(({ code }) => code));
      if (states.length) waits.push(api.containers.waitForState(id, states, Math.max(interval, 10), abort.signal).then(() => -1));
      for (const w of waits) w.catch(() => undefined); // the one that loses is aborted below
      try {
        return answer(await Promise.race(waits));
      } catch (err) {
        // Removed while waited for: the code it exited with.
        const code = err instanceof EngineError && err.kind === 'not-found' ? await api.containers.removedExitCode(id) : undefined;
        if (code === undefined) throw err;
        return answer(code);
      } finally {
        abort.abort();
      }
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
    reply.raw.on('close', () => abort.abort());
    try {
      const { code, error } = await result;
      res.end(JSON.stringify({ Error: error ? { Message: error } : null, StatusCode: code }) + '\n');
    } catch {
      res.end();
    }
  });
};
