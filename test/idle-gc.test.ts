// The engine hands memory back once it goes quiet after work (runtime/util/idle-gc.ts): when to
// collect, and that the collection really returns a burst's garbage.
import { describe, expect, it } from 'vitest';
import { getHeapStatistics } from 'node:v8';
import { collectGarbage, IdleGcPolicy } from '../runtime/util/idle-gc.js';

const MiB = 2 ** 20;

describe('idle collection', () => {
  const options = { idleBelow: 0.02, idleIntervals: 2, minGrowth: 8 * MiB };

  it('collects once after growth, only after idle intervals in a row, and not again until the heap grows again', () => {
    const policy = new IdleGcPolicy(40 * MiB, options);
    expect(policy.due(0.01, 44 * MiB)).toBe(false);
    expect(policy.due(0.01, 44 * MiB)).toBe(false); // idle, but little growth
    expect(policy.due(0.6, 80 * MiB)).toBe(false); // grown, but busy
    expect(policy.due(0.01, 80 * MiB)).toBe(false); // one idle interval is not enough
    expect(policy.due(0.3, 80 * MiB)).toBe(false);
    expect(policy.due(0.01, 80 * MiB)).toBe(false);
    expect(policy.due(0.01, 80 * MiB)).toBe(true);
    policy.collected(42 * MiB);
    expect(policy.due(0.01, 42 * MiB)).toBe(false);
    expect(policy.due(0.01, 49 * MiB)).toBe(false);
    expect(policy.due(0.01, 50 * MiB)).toBe(true);
  });

  it('counts growth from where V8 shrank the heap itself', () => {
    const policy = new IdleGcPolicy(60 * MiB, options);
    expect(policy.due(0.01, 30 * MiB)).toBe(false);
    expect(policy.due(0.01, 39 * MiB)).toBe(true);
  });

  it("returns a burst's garbage, the young generation's growth included", async () => {
    let keep: unknown[] = [];
    const live: unknown[][] = [];
    for (let i = 0; i < 2_000_000; i++) {
      keep.push({ i, s: `x${i}` });
      if (keep.length === 50_000) {
        live.push(keep);
        keep = [];
      }
    }
    live.length = 0;
    const before = getHeapStatistics().total_heap_size;
    expect(await collectGarbage()).toBe(true);
    const after = getHeapStatistics().total_heap_size;
    expect(before - after).toBeGreaterThan(50 * MiB);
  });
});

describe('the bundled engine', () => {
  // dist/server/main.js runs dist/server/berth.cjs as a vm.Script (scripts/bundle.mjs), where import() has no
  // loader: the idle collection's import('node:inspector') failed there, and the engine never collected.
  it('has no dynamic import() (it fails in the launcher), so the idle collection can load the inspector', async () => {
    const { readFile } = await import('node:fs/promises');
    const bundle = await readFile(new URL('../dist/server/berth.cjs', import.meta.url), 'utf8');
    // import( as a call, not a method named import (`layers.import(`, `async import(`).
    expect(bundle.match(/(?<![.\w$]|async )import\(/g) ?? []).toEqual([]);
  });
});
