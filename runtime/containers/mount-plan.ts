// The mount points a create (or a start before Docker API 1.24) asks for, planned as volumes/mounts.ts
// plans them, with the volumes they name made. Shared by create.ts and start.ts.
import { randomBytes } from 'node:crypto';
import { EngineError, invalid } from '../errors.js';
import { planMounts as planMountPoints, type MountPoint } from '../volumes/mounts.js';
import type { ContainerContext } from './context.js';
import type { ContainerSpec } from './spec.js';
import type { Container } from './store.js';

/** A container another one's create names (VolumesFrom, container:<id> modes): dockerd answers 400 when missing. */
export function resolveReferenced(ctx: ContainerContext, ref: string): Container {
  try {
    return ctx.store.resolve(ref);
  } catch (err) {
    throw err instanceof EngineError && err.kind === 'not-found' ? invalid(err.message) : err;
  }
}

/**
 * The mount points of a new container (volumes/mounts.ts), with its volumes made: named ones that do
 * not exist yet, and a generated name for each anonymous one, as dockerd does at create (with
 * the spec's volume driver as their driver).
 */
export async function planMounts(ctx: ContainerContext, spec: ContainerSpec): Promise<MountPoint[]> {
  const from = (spec.mounts.volumesFrom ?? []).map((entry) => {
    const [ref = '', mode = 'rw'] = entry.split(':');
    return { mounts: resolveReferenced(ctx, ref).mounts, mode };
  });
  const mounts = planMountPoints(spec.mounts, from);
  const driver = spec.mounts.volumeDriver;
  for (const m of mounts) {
    if (m.type !== 'volume') continue;
    if (m.anonymous) m.name = randomBytes(32).toString('hex');
    // --volume-driver: the driver of the volumes this create makes (a plugin berth has not, unless local).
    if (driver && !m.create?.driver && !ctx.volumes.find(m.name!)) m.create = { ...m.create, driver };
    await ctx.volumes.forMount(m);
  }
  return mounts;
}
