// Hands memory back once the engine goes quiet after work. V8 keeps what a burst grew — its young
// generation at up to 32 MiB, the old generation's garbage until allocation reaches its next limit — and
// an idle engine allocates nothing, so it would sit at its peak (measured: ~145–175 MiB after 200
// containers were created, listed and inspected, against ~100 MiB once collected). Shrinking the young
// generation with --max-semi-space-size instead tripled the time spent collecting under load.
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

export interface IdleGcOptions {
  /** How often the event loop's load is looked at, in ms. */
  intervalMs?: number;
  /** The event loop's utilization over one interval under which the interval counts as idle. */
  idleBelow?: number;
  /** How many idle intervals in a row make the engine idle. */
  idleIntervals?: number;
  /** How much the V8 heap (committed) must have grown since the last collection, in bytes. */
  minGrowth?: number;
  /** The heap size growth counts from (default: its size now); 0 makes start-up's own garbage count. */
  since?: number;
}

/** When to collect: the heap grew by `minGrowth` since the last collection, and `idleIntervals` passed idle. */
export class IdleGcPolicy {
  private baseline: number;
  private idle = 0;

  constructor(
    committed: number,
    private readonly o: Required<Pick<IdleGcOptions, 'idleBelow' | 'idleIntervals' | 'minGrowth'>>,
  ) {
    this.baseline = committed;
  }

  /** Whether to collect now, given the last interval's event-loop utilization and the heap's size. */
  due(utilization: number, committed: number): boolean {
    if (committed < this.baseline) this.baseline = committed; // V8 shrank it itself
    this.idle = utilization < this.o.idleBelow ? this.idle + 1 : 0;
    return this.idle >= this.o.idleIntervals && committed - this.baseline >= this.o.minGrowth;
  }

  /** The heap's size after a collection: growth counts from here. */
  collected(committed: number): void {
    this.baseline = committed;
    this.idle = 0;
  }
}

const committedHeap = () => getHeapStatistics().total_heap_size;

/**
 * A full collection that also shrinks the young generation and returns freed pages to the system (the
 * inspector's, as DevTools' "collect garbage"; `gc()` would need --expose-gc and keeps the young
 * generation's size). Resolves false where Node has no inspector.
 */
export async function collectGarbage(): Promise<boolean> {
  try {
    // require, not import(): the bundled engine runs as a vm.Script (scripts/bundle.mjs), where a dynamic
    // import() has no loader and fails.
    const { Session } = createRequire(import.meta.url)('node:inspector') as typeof import('node:inspector');
    const session = new Session();
    session.connect();
    try {
      await new Promise<void>((resolve, reject) => session.post('HeapProfiler.collectGarbage', (err) => (err ? reject(err) : resolve())));
    } finally {
      session.disconnect();
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Collects once the engine has been idle for a second (two intervals of 500 ms with the event loop busy
 * under 2 % of the time) after the heap grew 8 MiB; returns the stop function.
 * The timer does not keep the process alive. One collection of the engine's ~30 MiB heap blocks the
 * event loop some tens of ms, only after an idle interval and at most once per `minGrowth` of growth.
 */
export function collectWhenIdle(o: IdleGcOptions = {}, collect: () => Promise<boolean> = collectGarbage): () => void {
  const policy = new IdleGcPolicy(o.since ?? committedHeap(), {
    idleBelow: o.idleBelow ?? 0.02,
    idleIntervals: o.idleIntervals ?? 2,
    minGrowth: o.minGrowth ?? 8 * 2 ** 20,
  });
  let last = performance.eventLoopUtilization();
  let running = false;
  let stopped = false;
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(now, last);
    last = now;
    if (running || !policy.due(utilization, committedHeap())) return;
    running = true;
    void collect().then((available) => {
      running = false;
      policy.collected(committedHeap());
      last = performance.eventLoopUtilization(); // the collection's own time is not the engine's load
      if (!available) stop();
    });
  }, o.intervalMs ?? 500);
  timer.unref();
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
  };
  return stop;
}
