// An opt-in view of the engine's event loop, for the speed bench (bench/speed.ts): with BERTH_LOOP_STATS=1,
// perf_hooks samples the loop's delay every millisecond and `GET /_berth/loop` answers its max, p99, p50
// and mean in ms since the start (or the last `?reset=1`, which resets after answering). Hidden: not a
// route, so not in the OpenAPI document; without the variable the path is unknown like any other.
import type { FastifyInstance } from 'fastify';
import { monitorEventLoopDelay } from 'node:perf_hooks';

export const LOOP_STATS_PATH = '/_berth/loop';

export function loopStats(app: FastifyInstance, env: NodeJS.ProcessEnv = process.env): void {
  if (env.BERTH_LOOP_STATS !== '1') return;
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  app.addHook('onClose', async () => histogram.disable());
  app.addHook('onRequest', async (request, reply) => {
    const [path, query] = request.url.split('?', 2);
    if (path !== LOOP_STATS_PATH || request.method !== 'GET') return;
    const ms = (ns: number) => (histogram.count ? Math.round(ns / 1e4) / 100 : 0); // ns → ms, 2 decimals
    const body = { max_ms: ms(histogram.max), p99_ms: ms(histogram.percentile(99)), p50_ms: ms(histogram.percentile(50)), mean_ms: ms(histogram.mean) };
    if (new URLSearchParams(query).get('reset') === '1') histogram.reset();
    return reply.code(200).header('content-type', 'application/json').send(JSON.stringify(body));
  });
}
