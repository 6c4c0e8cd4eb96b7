// docker update, rename, and `rm --link`: changes to a container's record (applied to a running one).
import { readFile, writeFile } from 'node:fs/promises';
import type { HostConfig } from '../../openapi/containers.js';
import { conflict, EngineError, invalid, notFound } from '../errors.js';
import { buildResources } from '../oci/spec.js';
import { asList } from '../util/list.js';
import { RUNNING, type ContainerContext } from './context.js';
import { etcFilesIn } from './etc-files.js';
import { bridgeIp, linkHostsLine, linksOf, renameLinkTarget } from './links.js';
import { validateName } from './names.js';
import { validateUpdate } from './validate.js';

/** The limits docker update changes. */
const LIMITS = ['Memory', 'MemorySwap', 'MemoryReservation', 'NanoCpus', 'CpuShares', 'CpuPeriod', 'CpuQuota', 'CpusetCpus', 'CpusetMems', 'PidsLimit', 'BlkioWeight'] as const;

/** docker update: new limits (and restart policy) recorded, and applied at once to a running container. */
export async function update(ctx: ContainerContext, nameOrId: string, changes: Partial<HostConfig>): Promise<void> {
  const c = ctx.store.resolve(nameOrId);
  validateUpdate(changes);
  const next: HostConfig = { ...c.hostConfig };
  for (const key of LIMITS) if (changes[key] !== undefined && changes[key] !== null) (next as Record<string, unknown>)[key] = changes[key];
  if (changes.RestartPolicy?.Name) {
    if (next.AutoRemove && changes.RestartPolicy.Name !== 'no') throw conflict('Restart policy cannot be updated because AutoRemove is enabled for the container');
    next.RestartPolicy = changes.RestartPolicy;
  }
  if (next.Memory && next.MemorySwap && next.MemorySwap > 0 && next.MemorySwap < next.Memory) {
    throw invalid('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (RUNNING.has(c.state) && c.state !== 'restarting') {
    // runc update takes limits only; device rules stay as the container started with them.
    const { devices: _devices, ...limits } = buildResources(next) as { devices?: unknown };
    await ctx.runtimeOf(c).update(c.id, limits);
  }
  ctx.store.setHostConfig(c.id, next);
  ctx.changed(c.id);
  ctx.record(c, 'update');
}

export function rename(ctx: ContainerContext, nameOrId: string, newName: string): void {
  const c = ctx.store.resolve(nameOrId);
  const name = validateName(newName);
  if (name === c.name) throw conflict(`Renaming a container with the same name as its current name`);
  const holder = ctx.store.byName(name);
  if (holder) throw conflict(`Conflict. The container name "/${name}" is already in use by container "${holder.id}". You have to remove (or rename) that container to be able to reuse that name.`);
  ctx.store.transaction(() => {
    ctx.store.update(c.id, { name });
    // Links name their container: they follow it, as dockerd's link graph does.
    for (const parent of ctx.store.all()) {
      const links = renameLinkTarget(parent.hostConfig, c.name, name);
      if (links) ctx.store.setHostConfig(parent.id, { ...parent.hostConfig, Links: links });
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
  const links = parent ? linksOf(parent.hostConfig) : [];
  const gone = links.find((l) => l.alias === alias);
  if (!parent || !gone) throw notFound(`No such container: ${name}`);
  ctx.store.setHostConfig(parent.id, { ...parent.hostConfig, Links: asList(parent.hostConfig.Links).filter((_, i) => links[i] !== gone) });
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
