// docker update, rename, and `rm --link`: changes to a container's record (applied to a running one).
import { readFile, writeFile } from 'node:fs/promises';
import { conflict, EngineError, invalid, notFound } from '../errors.js';
import { buildResources } from '../oci/spec.js';
import { RUNNING, type ContainerContext } from './context.js';
import { etcFilesIn } from './etc-files.js';
import { bridgeIp, linkHostsLine, linksOf, renameLinkTarget } from './links.js';
import { validateName } from './names.js';
import type { ContainerSpec, ContainerUpdate } from './spec.js';
import { validateUpdate } from './validate.js';
import { refuseRootlessUpdate } from '../rootless/cgroups.js';
import { rootless } from '../rootless/mode.js';
import { hostControllers, limitSupport, supportedLimits } from '../oci/controllers.js';

/** The limits docker update changes. */
const LIMITS = [
  'memory',
  'memorySwap',
  'memoryReservation',
  'nanoCpus',
  'cpuShares',
  'cpuPeriod',
  'cpuQuota',
  'cpusetCpus',
  'cpusetMems',
  'pidsLimit',
  'blkioWeight',
] as const;

/**
 * docker update: new limits (and restart policy) recorded, and applied at once to a running container.
 * Returns dockerd's warnings for limits the host's cgroups cannot hold (dropped).
 */
export async function update(ctx: ContainerContext, nameOrId: string, changes: ContainerUpdate): Promise<{ warnings: string[] }> {
  const c = ctx.store.resolve(nameOrId);
  validateUpdate(changes);
  await refuseRootlessUpdate(changes.resources); // no cgroup to hold them (rootless/cgroups.ts)
  const wanted = rootless() ? { resources: changes.resources, warnings: [] } : supportedLimits(changes.resources, limitSupport(await hostControllers()));
  const resources = { ...c.spec.resources };
  for (const key of LIMITS) if (wanted.resources[key] != null) Object.assign(resources, { [key]: wanted.resources[key] });
  const next: ContainerSpec = { ...c.spec, resources };
  if (changes.restart?.policy) {
    if (next.restart.autoRemove && changes.restart.policy !== 'no')
      throw conflict('Restart policy cannot be updated because AutoRemove is enabled for the container');
    next.restart = { ...next.restart, ...changes.restart };
  }
  if (resources.memory && resources.memorySwap && resources.memorySwap > 0 && resources.memorySwap < resources.memory) {
    throw invalid('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (RUNNING.has(c.state) && c.state !== 'restarting') {
    // runc update takes limits only; device rules stay as the container started with them.
    const { devices: _devices, ...limits } = buildResources(resources, next.security.privileged) as { devices?: unknown };
    await ctx.runtimeOf(c).update(c.id, limits);
  }
  ctx.store.setSpec(c.id, next);
  ctx.changed(c.id);
  ctx.record(c, 'update');
  return { warnings: wanted.warnings };
}

export function rename(ctx: ContainerContext, nameOrId: string, newName: string): void {
  const c = ctx.store.resolve(nameOrId);
  const name = validateName(newName);
  if (name === c.name) throw conflict(`Renaming a container with the same name as its current name`);
  const holder = ctx.store.byName(name);
  if (holder)
    throw conflict(
      `Conflict. The container name "/${name}" is already in use by container "${holder.id}". You have to remove (or rename) that container to be able to reuse that name.`,
    );
  ctx.store.transaction(() => {
    ctx.store.update(c.id, { name });
    // Links name their container: they follow it, as dockerd's link graph does.
    for (const parent of ctx.store.all()) {
      const links = renameLinkTarget(parent.spec, c.name, name);
      if (links) ctx.store.setSpec(parent.id, { ...parent.spec, network: { ...parent.spec.network, links } });
    }
  });
  ctx.changed(c.id);
  ctx.record({ ...c, name }, 'rename', { oldName: `/${c.name}` });
}

/**
 * `docker rm --link /parent/alias`: the parent forgets that link; a running parent's /etc/hosts loses
 * its line, as dockerd rewrites it.
 */
export async function removeLink(ctx: ContainerContext, name: string): Promise<void> {
  const full = name.startsWith('/') ? name : `/${name}`;
  const at = full.lastIndexOf('/');
  if (at === 0) throw new EngineError('internal', 'Conflict, cannot remove the default link name of the container');
  const parent = ctx.store.byName(full.slice(1, at));
  const alias = full.slice(at + 1);
  const links = parent ? linksOf(parent.spec) : [];
  const gone = links.find((l) => l.alias === alias);
  if (!parent || !gone) throw notFound(`No such container: ${name}`);
  const kept = (parent.spec.network.links ?? []).filter((_, i) => links[i] !== gone);
  ctx.store.setSpec(parent.id, { ...parent.spec, network: { ...parent.spec.network, links: kept } });
  ctx.changed(parent.id);
  const target = ctx.store.byName(gone.target);
  const ip = target && bridgeIp(ctx.network.store, target);
  if (target && ip && (parent.state === 'running' || parent.state === 'paused')) {
    const file = etcFilesIn(ctx.paths.bundle(parent.id)).hosts;
    const line = linkHostsLine({ alias, container: target, ip });
    const hosts = await readFile(file, 'utf8').catch(() => undefined);
    if (hosts?.includes(line)) await writeFile(file, hosts.replace(line, ''));
  }
}
