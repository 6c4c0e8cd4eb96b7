// docker ps and docker container prune: which containers, in what order, with what sizes. The
// filters themselves are runtime/filters.ts; this adapts a container record to what they read.
import { containerFilter, containerPruneFilter, type FilteredContainer, type Filters } from '../filters.js';
import { isUp } from './state.js';
import type { Container } from './store.js';

export interface ContainerListOptions {
  /** Stopped and created containers too (`docker ps -a`). */
  all?: boolean;
  /** The newest N; a positive limit lists every state, as dockerd. */
  limit?: number;
  /** Measure each one's writable layer and rootfs (`docker ps -s`). */
  size?: boolean;
  filters?: Filters;
}

export interface ContainerSizes {
  sizeRw: number;
  sizeRootFs: number;
}

export interface ListedContainer {
  container: Container;
  size?: ContainerSizes;
}

/** What listing reads of the engine. */
export interface ContainerListDeps {
  /** Newest first. */
  all(): Container[];
  resolve(nameOrId: string): Container;
  imageId(ref: string): string | undefined;
  /** Names and IDs of the networks a container is on. */
  networksOf(c: Container): string[];
  sizeOf(c: Container): Promise<ContainerSizes>;
}

export async function listContainers(deps: ContainerListDeps, o: ContainerListOptions): Promise<ListedContainer[]> {
  const f = o.filters ?? {};
  const matches = containerFilter(f, { imageId: deps.imageId, createdOf: (ref) => deps.resolve(ref).created });
  const limit = o.limit ?? -1;
  // As dockerd: a positive limit, or a status or exited filter, lists stopped and created containers too.
  const all = !!o.all || limit > 0 || (f.status?.length ?? 0) > 0 || (f.exited?.length ?? 0) > 0;
  let list = deps.all().filter((c) => (all || isUp(c)) && matches(filtered(c, deps)));
  if (limit > 0) list = list.slice(0, limit);
  if (!o.size) return list.map((container) => ({ container }));
  return Promise.all(list.map(async (container) => ({ container, size: await deps.sizeOf(container) })));
}

/** The prune predicate over container records (the service keeps containers that are up). */
export function pruneFilter(f: Filters): (c: Container) => boolean {
  const matches = containerPruneFilter(f);
  return (c) => matches({ created: c.created, labels: c.spec.labels });
}

function filtered(c: Container, deps: ContainerListDeps): FilteredContainer {
  return {
    id: c.id,
    name: c.name,
    state: c.state,
    exit_code: c.exit_code,
    created: c.created,
    image_id: c.image_id,
    labels: c.spec.labels,
    health: c.health?.Status ?? 'none',
    networks: () => deps.networksOf(c),
    published: c.ports.map((p) => ({ port: p.HostPort, protocol: p.Protocol })),
    exposed: c.spec.ports.expose.map((k) => ({ port: Number(k.split('/')[0]), protocol: k.split('/')[1] ?? 'tcp' })),
    binds: (c.spec.mounts.volumes ?? []).flatMap((b) => b.split(':').slice(0, 2)),
  };
}
