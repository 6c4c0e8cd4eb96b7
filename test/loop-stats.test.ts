// The opt-in event-loop monitor the speed bench reads (server/loop-stats.ts): GET /_berth/loop answers only
// when the engine runs with BERTH_LOOP_STATS=1, and is never in the OpenAPI document.
import { afterEach, describe, expect, it } from 'vitest';
import { TestEngine } from './helpers/engine.js';

const engines: TestEngine[] = [];
afterEach(async () => {
  while (engines.length) await engines.pop()!.destroy();
});

async function engineWith(env: NodeJS.ProcessEnv): Promise<TestEngine> {
  const engine = await TestEngine.create();
  engines.push(engine);
  await engine.start([], env);
  return engine;
}

describe('GET /_berth/loop', () => {
  it('with BERTH_LOOP_STATS=1 answers the loop delay in ms, and ?reset=1 starts it over', async () => {
    const engine = await engineWith({ BERTH_LOOP_STATS: '1' });
    await new Promise((r) => setTimeout(r, 50)); // a few samples
    const res = await engine.http('GET', '/_berth/loop?reset=1');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    const stats = res.json();
    expect(Object.keys(stats).sort()).toEqual(['max_ms', 'mean_ms', 'p50_ms', 'p99_ms']);
    for (const v of Object.values(stats)) expect(typeof v).toBe('number');
    expect(stats.max_ms).toBeGreaterThan(0);
    expect(stats.max_ms).toBeGreaterThanOrEqual(stats.p99_ms);
    expect(stats.p99_ms).toBeGreaterThanOrEqual(stats.p50_ms);
    // Also under a version prefix, as clients send paths.
    const again = await engine.http('GET', '/v1.41/_berth/loop');
    expect(again.status).toBe(200);
    expect(typeof again.json().max_ms).toBe('number');
    const doc = (await engine.http('GET', '/openapi.json')).json();
    expect(Object.keys(doc.paths).filter((p) => p.includes('_berth'))).toEqual([]);
  });

  it('without it is an unknown path', async () => {
    const engine = await engineWith({ BERTH_LOOP_STATS: undefined });
    const res = await engine.http('GET', '/_berth/loop');
    expect(res.status).toBe(404);
    expect(res.json()).toEqual({ message: 'page not found' });
    expect((await engine.http('GET', '/_berth/loop?reset=1')).status).toBe(404);
  });
});
