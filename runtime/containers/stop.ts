// docker kill, stop, restart, pause, unpause: signals through the OCI runtime; a stop or a SIGKILL
// answers once the exit is recorded (exit.ts), as dockerd's does.
import { refuseRootlessPause } from '../rootless/cgroups.js';
import { conflict } from '../errors.js';
import { freeingSpace } from '../state/reserve.js';
import { RUNNING, type ContainerContext } from './context.js';
import { stoppedHealth } from './health-state.js';
import { parseSignal } from './signals.js';
import type { Container } from './store.js';

/** Kill, stop and rm free space: on a full disk their DB writes use the reserve (state/reserve.ts). */
export function kill(ctx: ContainerContext, nameOrId: string, signal?: string): Promise<void> {
  return freeingSpace(() => signalNow(ctx, nameOrId, signal));
}

async function signalNow(ctx: ContainerContext, nameOrId: string, signal?: string): Promise<void> {
  const c = ctx.store.resolve(nameOrId);
  if (!RUNNING.has(c.state)) throw conflict(`Cannot kill container: ${nameOrId}: Container ${c.id} is not running`);
  const sig = parseSignal(signal);
  if (sig === 9 || sig === 15) ctx.store.update(c.id, { stopped_by_user: 1 });
  ctx.record(c, 'kill', { signal: String(sig) });
  if (c.state === 'restarting') {
    ctx.store.update(c.id, { state: 'exited' });
    return ctx.changed(c.id);
  }
  await ctx.runtimeOf(c).kill(c.id, sig);
  // As dockerd: a SIGKILL answers once the container is stopped and its exit recorded, so a `rm` or
  // `commit` right after sees it stopped; other signals answer at once.
  if (sig === 9) await ctx.exitedWithin(c.id, 30_000);
}

/** StopSignal (or the given one), then SIGKILL after the timeout; returns once the exit is recorded. */
export function stop(ctx: ContainerContext, nameOrId: string, timeout?: number, signal?: string): Promise<boolean> {
  return freeingSpace(() => stopNow(ctx, nameOrId, timeout, signal));
}

async function stopNow(ctx: ContainerContext, nameOrId: string, timeout?: number, signal?: string): Promise<boolean> {
  const c = ctx.store.resolve(nameOrId);
  if (c.state === 'restarting') {
    ctx.store.update(c.id, { state: 'exited', stopped_by_user: 1 });
    ctx.changed(c.id);
    return true;
  }
  if (c.state === 'initialized') return stopInitialized(ctx, c, timeout, signal);
  if (!RUNNING.has(c.state)) return false;
  ctx.store.update(c.id, { stopped_by_user: 1 });
  const runtime = ctx.runtimeOf(c);
  if (c.state === 'paused') await runtime.resume(c.id).catch(() => undefined);
  const wait = timeout ?? c.spec.process.stopTimeout ?? 10;
  const sig = parseSignal(signal || c.spec.process.stopSignal, 'SIGTERM');
  ctx.record(c, 'kill', { signal: String(sig) });
  await runtime.kill(c.id, sig).catch(() => undefined);
  if (!(await ctx.exitedWithin(c.id, wait < 0 ? Infinity : wait * 1000))) {
    ctx.record(c, 'kill', { signal: '9' });
    await runtime.kill(c.id, 9, true).catch(() => undefined);
    await ctx.exitedWithin(c.id, 30_000);
  }
  ctx.record(ctx.store.get(c.id) ?? c, 'stop');
  return true;
}

/**
 * libpod's stop of an initialized container: its waiting process is killed as a running one's would be
 * and the exit handled (exited, the run undone); podman records no kill or stop, only died and cleanup.
 */
async function stopInitialized(ctx: ContainerContext, c: Container, timeout?: number, signal?: string): Promise<boolean> {
  ctx.store.update(c.id, { stopped_by_user: 1 });
  const runtime = ctx.runtimeOf(c);
  const wait = timeout ?? c.spec.process.stopTimeout ?? 10;
  await runtime.kill(c.id, parseSignal(signal || c.spec.process.stopSignal, 'SIGTERM')).catch(() => undefined);
  if (!(await ctx.exitedWithin(c.id, wait < 0 ? Infinity : wait * 1000))) {
    await runtime.kill(c.id, 9, true).catch(() => undefined);
    await ctx.exitedWithin(c.id, 30_000);
  }
  return true;
}

export async function restart(ctx: ContainerContext, nameOrId: string, timeout?: number, signal?: string): Promise<void> {
  const c = ctx.store.resolve(nameOrId);
  // podman reports a restart before its stop and start, dockerd after them (each view shows its own):
  // cockpit-podman shows a container as restarting from its restart event until the next one.
  ctx.record(c, 'restart-begin');
  await stop(ctx, c.id, timeout, signal);
  const fresh = ctx.store.get(c.id)!;
  await ctx.run(fresh);
  ctx.record(fresh, 'restart');
}

export async function pause(ctx: ContainerContext, nameOrId: string): Promise<void> {
  const c = ctx.store.resolve(nameOrId);
  if (c.state === 'paused') throw conflict(`Container ${c.id} is already paused`);
  if (c.state !== 'running') throw conflict(`Container ${c.id} is not running`);
  refuseRootlessPause(); // no freezer without a cgroup
  await ctx.runtimeOf(c).pause(c.id);
  // No probes while paused: dockerd then says unhealthy until the next probe after unpause.
  ctx.store.update(c.id, { state: 'paused', health: stoppedHealth(ctx.store.get(c.id)?.health ?? null) });
  ctx.changed(c.id);
  ctx.record(c, 'pause');
}

export async function unpause(ctx: ContainerContext, nameOrId: string): Promise<void> {
  const c = ctx.store.resolve(nameOrId);
  if (c.state !== 'paused') throw conflict(`Container ${c.id} is not paused`);
  await ctx.runtimeOf(c).resume(c.id);
  ctx.store.update(c.id, { state: 'running' });
  ctx.changed(c.id);
  ctx.record(c, 'unpause');
}
