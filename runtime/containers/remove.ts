// docker rm [-f] [-v] and container prune: the row first, then the files.
import { rm } from 'node:fs/promises';
import { conflict } from '../errors.js';
import { freeingSpace } from '../state/reserve.js';
import { RUNNING, type ContainerContext } from './context.js';
import type { Container } from './store.js';
import type { OciRuntime } from '../oci/runtime.js';

/** docker rm [-f] [-v]: `volumes` also removes the container's anonymous volumes. */
export function remove(ctx: ContainerContext, nameOrId: string, force: boolean, volumes = false): Promise<void> {
  return freeingSpace(() => removeNow(ctx, nameOrId, force, volumes));
}

async function removeNow(ctx: ContainerContext, nameOrId: string, force: boolean, volumes: boolean): Promise<void> {
  const c = ctx.store.resolve(nameOrId);
  // As dockerd, a restarting container counts as running: only a forced rm takes it (docker-py's suite).
  if (RUNNING.has(c.state)) {
    if (!force) {
      throw conflict(`You cannot remove a ${c.state} container ${c.id}. Stop the container before attempting removal or force remove`);
    }
    ctx.store.update(c.id, { stopped_by_user: 1 });
    if (c.state !== 'restarting') {
      ctx.record(c, 'kill', { signal: '9' });
      await ctx
        .runtimeOf(c)
        .kill(c.id, 9, true)
        .catch(() => undefined);
      await ctx.exitedWithin(c.id, 30_000);
    }
  }
  const fresh = ctx.store.get(c.id);
  if (fresh) await ctx.removeFiles(fresh, true, volumes);
}

/**
 * Row first, files after: a `wait condition=removed` (docker run --rm) answers at once, and a crash
 * in between leaves a directory without a row, which reconcile() removes.
 */
export async function removeFiles(ctx: ContainerContext, c: Container, runtimeState = true, anonymousVolumes = c.spec.restart.autoRemove): Promise<void> {
  const sessions = ctx.execs.ofContainer(c.id);
  // Networking first, while the record still says what was set up (the row takes its endpoints along).
  if (ctx.network.holdsResources(c)) await ctx.network.release(c);
  // rm -v, and --rm: the anonymous volumes go too, unless another container mounts them (VolumesFrom);
  // as moby, not one mounted by its name, though created without one.
  // Their rows go in the same tick as the container's, so whoever sees it removed sees them removed too.
  const anonymous = anonymousVolumes ? c.mounts.filter((m) => m.type === 'volume' && m.anonymous && m.name && ctx.volumes.find(m.name)?.anonymous) : [];
  const volumeNames = anonymous.map((m) => m.name!).filter((name) => ctx.volumes.users(name).every((user) => user === c.id));
  ctx.store.remove(c.id);
  const volumesGone = Promise.all(volumeNames.map((name) => ctx.volumes.remove(name, []).catch(() => undefined)));
  ctx.execs.removeOfContainer(c.id);
  ctx.changed(c.id);
  ctx.record(c, 'destroy');
  // The runtime's container only when the runtime has one (a `runc delete` is a Go binary's start, ~10–30 ms):
  // a container never started, or whose exit was settled (which deleted it), has none.
  await Promise.all([runtimeState ? deleteIfKnown(ctx.runtimeOf(c), c.id) : undefined, ctx.rootfs.unmount(c.id)]);
  await rm(ctx.paths.dir(c.id), { recursive: true, force: true });
  // conmon's links to the attach sockets (the container's, its exec sessions'), named by short IDs.
  for (const id of [c.id, ...sessions.map((s) => s.id)]) await rm(ctx.paths.attachLink(id), { force: true });
  await volumesGone;
  // The exit file stays (it is small, under the run root): a `wait` that sees the container gone reads its code there.
}

async function deleteIfKnown(runtime: OciRuntime, id: string): Promise<void> {
  if (await runtime.has(id)) await runtime.delete(id);
}

/**
 * docker container prune: every container that is not running, with label and until filters.
 * `sizeOf` measures each one's writable layer before it goes: SpaceReclaimed, as dockerd counts it.
 */
export function prune(
  ctx: ContainerContext,
  filter: (c: Container) => boolean,
  sizeOf: (c: Container) => Promise<number>,
): Promise<{ removed: string[]; reclaimed: number; sizes: number[] }> {
  return freeingSpace(async () => {
    const removed: string[] = [];
    const sizes: number[] = [];
    let reclaimed = 0;
    for (const c of ctx.store.all()) {
      if (RUNNING.has(c.state) || !filter(c)) continue;
      const size = await sizeOf(c).catch(() => 0);
      await ctx.removeFiles(c);
      removed.push(c.id);
      sizes.push(size);
      reclaimed += size;
    }
    return { removed, reclaimed, sizes };
  });
}
