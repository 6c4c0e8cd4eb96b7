// When a container's process ends: the exit recorded, the run undone (runtime state, rootfs, network,
// option volumes), then --rm or the restart policy. Runs in the API server (watchExits) and in
// `berth cleanup` (conmon's exit command); whichever comes first does the work. And docker wait.
import { existsSync, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { freeingSpace } from '../state/reserve.js';
import { now, RUNNING, sleep, type ContainerContext } from './context.js';
import { stoppedHealth } from './health-state.js';
import { logLimitsOf } from './log-driver.js';
import { rotateIfNeeded } from './log-rotation.js';
import type { Container } from './store.js';

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

/**
 * In the API server: handle exits as soon as conmon writes them (conmon's exit command defers to a
 * running server). A sweep every few seconds catches what a coalesced watch event might miss.
 */
export function watchExits(ctx: ContainerContext): () => void {
  const watcher = watch(ctx.paths.exitDir(), (_event, file) => {
    if (file) void ctx.handleExit(String(file)).catch(() => undefined);
  });
  const sweep = setInterval(() => {
    for (const c of ctx.store.live()) {
      if (existsSync(ctx.paths.exitFile(c.id))) void ctx.handleExit(c.id).catch(() => undefined);
      else void rotateIfNeeded(ctx.paths, c.id, logLimitsOf(c.spec.log)).catch(() => undefined);
    }
  }, 500);
  return () => {
    watcher.close();
    clearInterval(sweep);
  };
}

/** Records the exit and settles the run; then the restart policy, unless --rm removed it. */
export async function handleExit(ctx: ContainerContext, id: string): Promise<void> {
  // A second caller (the exit-dir watcher beside `stop`) waits for the first one's cleanup.
  const inFlight = ctx.exiting.get(id);
  if (inFlight) return void (await inFlight);
  // A full disk must not keep an exit unrecorded: settling may use the space reserve (a restart may not).
  const settling = freeingSpace(() => settleExit(ctx, id)).finally(() => ctx.exiting.delete(id));
  ctx.exiting.set(id, settling);
  const after = await settling;
  if (after && !after.spec.restart.autoRemove) await maybeRestart(ctx, after);
}

/** Records the exit and undoes the run (runtime state, rootfs, network); the container if this call claimed it. */
async function settleExit(ctx: ContainerContext, id: string): Promise<Container | undefined> {
  const c = ctx.store.get(id);
  // An initialized container's waiting process can end too (libpod's stop kills it).
  if (!c || !(RUNNING.has(c.state) || c.state === 'initialized') || c.state === 'restarting') return undefined;
  const runtime = ctx.runtimeOf(c);
  const code = await readExitCode(ctx.paths.exitFile(id));
  if (code === undefined) {
    const state = await runtime.state(id);
    if (state && state.status !== 'stopped') return undefined; // still running
  }
  const oom = existsSync(`${ctx.paths.bundle(id)}/oom`);
  // Health as of now (a probe may have recorded meanwhile): no monitor runs any more, so "unhealthy".
  const health = stoppedHealth(ctx.store.get(id)?.health ?? null);
  const claimed = ctx.store.transition(id, c.run_id, {
    state: 'exited',
    pid: 0,
    exit_code: code ?? 255,
    finished_at: now(),
    oom_killed: oom ? 1 : 0,
    health,
  });
  if (!claimed) return undefined;
  ctx.changed(id);
  const after = ctx.store.get(id)!;
  if (oom) ctx.record(after, 'oom');
  const ranFor = after.started_at ? (Date.now() - Date.parse(after.started_at)) / 1000 : 0;
  // 'die' once the exit is handled, when a wait answers too: docker-compose's `up` drops a container's
  // log tail on its die event, and would lose the "exited with code" line its wait was still fetching.
  const die = () => ctx.record(after, 'die', { exitCode: String(code ?? 255), execDuration: String(Math.max(0, Math.round(ranFor))) });
  await ctx.volumes.release(after).catch(() => undefined); // option volumes nothing else runs on are unmounted
  // libpod's `cleanup` follows its `died` once the run is undone (the Docker view hides it).
  const cleanup = () => ctx.record(after, 'cleanup');
  if (after.spec.restart.autoRemove) {
    die();
    cleanup();
    await ctx.removeFiles(after);
    return after;
  }
  await Promise.all([runtime.delete(id), ctx.rootfs.unmount(id), ctx.network.release(after)]);
  die();
  cleanup();
  return after;
}

/** Docker's restart policies, with its back-off: 100 ms doubling per restart, reset after 10 s up. */
async function maybeRestart(ctx: ContainerContext, c: Container): Promise<void> {
  const { policy, maxRetries: max } = c.spec.restart;
  if (c.stopped_by_user || policy === 'no' || policy === '') return;
  if (policy === 'on-failure') {
    if (c.exit_code === 0 || (max > 0 && c.restart_count >= max)) return;
  }
  const ranFor = c.started_at ? Date.now() - Date.parse(c.started_at) : 0;
  const count = ranFor > 10_000 ? 0 : c.restart_count;
  const delay = Math.min(100 * 2 ** count, 60_000);
  ctx.store.update(c.id, { state: 'restarting' });
  ctx.changed(c.id);
  await sleep(delay);
  const fresh = ctx.store.get(c.id);
  if (!fresh || fresh.state !== 'restarting' || fresh.stopped_by_user) return;
  // Still `restarting` until run() moves it to running (or, failing, to exited): never a false "exited".
  ctx.store.update(c.id, { restart_count: count + 1 });
  await ctx.run({ ...fresh, restart_count: count + 1 }).catch(() => undefined);
}

/** Resolves once an exit being handled now (its rootfs, network, runtime state) is done with. */
export async function settled(ctx: ContainerContext, id: string): Promise<void> {
  await ctx.exiting.get(id)?.catch(() => undefined);
}

/** Whether the container ended (and its exit was handled) within `ms`. */
export async function exitedWithin(ctx: ContainerContext, id: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (existsSync(ctx.paths.exitFile(id))) {
      await ctx.handleExit(id);
      return true;
    }
    const c = ctx.store.get(id);
    if (!c || !(RUNNING.has(c.state) || c.state === 'initialized')) {
      await ctx.settled(id);
      return true;
    }
    await sleep(20);
  }
  return false;
}

/** Resolves with the exit code once the condition holds; `removed` answers with the last exit code. */
export function wait(ctx: ContainerContext, nameOrId: string, condition: WaitCondition, signal?: AbortSignal): Promise<{ code: number; error?: string }> {
  const start = ctx.store.resolve(nameOrId);
  const startRun = start.run_id;
  let last = start;
  return new Promise((resolve, reject) => {
    let finished = false;
    const check = async () => {
      if (finished) return;
      const c = ctx.store.get(start.id);
      if (!c) {
        // Gone (--rm, or removed by another process): its exit code outlives it in the exit file.
        const code = RUNNING.has(last.state) || last.state === 'created' ? await readExitCode(ctx.paths.exitFile(start.id)) : undefined;
        return done({ code: code ?? last.exit_code, error: last.error || undefined });
      }
      last = c;
      const stopped = !RUNNING.has(c.state);
      if (condition === 'not-running' && stopped) return done({ code: c.exit_code, error: c.error || undefined });
      if (condition === 'next-exit' && stopped && (c.run_id > startRun || RUNNING.has(start.state)))
        return done({ code: c.exit_code, error: c.error || undefined });
    };
    const onChange = (id: string) => void (id === start.id && check());
    // Other processes (`berth cleanup`) change the DB too: look every so often besides the events.
    const timer = setInterval(() => void check(), 250);
    const stop = () => {
      finished = true;
      clearInterval(timer);
      ctx.events.off('changed', onChange);
    };
    // The answer goes once the exit is wholly handled: a client's next request (rm, commit) finds
    // the container settled, as after dockerd's wait.
    const done = (result: { code: number; error?: string }) => {
      if (finished) return;
      stop();
      void ctx.settled(start.id).then(() => resolve(result));
    };
    signal?.addEventListener('abort', () => {
      stop();
      reject(new Error('aborted'));
    });
    ctx.events.on('changed', onChange);
    void check();
  });
}

/** The exit code conmon wrote; undefined when there is no file. A file still being written is waited for. */
async function readExitCode(file: string): Promise<number | undefined> {
  for (let attempt = 0; attempt < 50; attempt++) {
    let text: string;
    try {
      text = (await readFile(file, 'utf8')).trim();
    } catch {
      return undefined;
    }
    if (text !== '') return Number(text);
    await sleep(10);
  }
  return undefined;
}
