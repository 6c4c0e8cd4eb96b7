// One berth engine for a test file: started (with image archives loaded) before its tests, destroyed
// after. The returned object stands for the engine once it has started.
import { afterAll, beforeAll, expect } from 'vitest';
import { TestEngine } from './engine.js';

export function suiteEngine(o: { load?: string[]; args?: string[] } = {}): TestEngine {
  let current: TestEngine | undefined;
  beforeAll(async () => {
    current = await TestEngine.start(o.args ?? []);
    for (const archive of o.load ?? []) expect((await current.docker(['load', '-i', archive])).code).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await current?.destroy();
  });
  return new Proxy({} as TestEngine, {
    get(_target, key) {
      if (!current) throw new Error('the suite engine has not started');
      const value = (current as unknown as Record<string | symbol, unknown>)[key];
      return typeof value === 'function' ? value.bind(current) : value;
    },
  });
}
