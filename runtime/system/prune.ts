// `podman system prune`: stopped containers, then unused networks, then (when asked) unused volumes,
// then images no container uses any more (dangling ones only unless `all`), each with what it freed.
// One pass in that order frees what the earlier steps released (a pruned container's image).
import type { Filters } from '../filters.js';

export interface PruneItem {
  id: string;
  size: number;
}

export interface SystemPruneReport {
  containers: PruneItem[];
  networks: string[];
  volumes: PruneItem[];
  images: PruneItem[];
  reclaimed: number;
}

export interface SystemPruneOptions {
  all: boolean;
  volumes: boolean;
  filters: Filters;
}

/** The prunes of each kind, as their own verbs do them. */
export interface PruneSteps {
  containers(filters: Filters): Promise<PruneItem[]>;
  networks(filters: Filters): Promise<string[]>;
  volumes(filters: Filters): Promise<PruneItem[]>;
  images(all: boolean, filters: Filters): Promise<PruneItem[]>;
}

const only = (f: Filters, keys: string[]): Filters => Object.fromEntries(Object.entries(f).filter(([k]) => keys.includes(k)));

export async function systemPrune(steps: PruneSteps, o: SystemPruneOptions): Promise<SystemPruneReport> {
  const containers = await steps.containers(only(o.filters, ['until', 'label', 'label!']));
  const networks = await steps.networks(only(o.filters, ['until', 'label', 'label!']));
  const volumes = o.volumes ? await steps.volumes(only(o.filters, ['label', 'label!'])) : [];
  const images = await steps.images(o.all, only(o.filters, ['until', 'label']));
  const reclaimed = [...containers, ...volumes, ...images].reduce((a, i) => a + i.size, 0);
  return { containers, networks, volumes, images, reclaimed };
}
