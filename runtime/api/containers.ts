// The containers verbs the server may call: options in, results out; no store, path or process leaks out.
import type { Engine } from '../engine.js';
import type { Container } from '../containers/store.js';
import type { Filters } from '../filters.js';
import { listContainers, pruneFilter, type ContainerListOptions } from '../containers/list.js';
import { networkMode } from '../network/attachments.js';

export function containerApi(engine: Engine) {
  return {
    ...containerListVerbs(engine),
  };
}

/** docker ps and docker container prune. */
function containerListVerbs(engine: Engine) {
  const { containers } = engine;
  const sizeOf = (c: Container) => engine.diskUsage.containerSize(c);
  const deps = {
    all: () => containers.store.all(),
    resolve: (ref: string) => containers.store.resolve(ref),
    imageId: (ref: string) => {
      try {
        return engine.images.store.resolve(ref).id;
      } catch {
        return undefined;
      }
    },
    networksOf: (c: Container) => networksOf(engine, c),
    sizeOf,
  };
  return {
    /** The full ID of the container named (or ID-prefixed) `ref`; its not-found otherwise. */
    idOf: (ref: string) => containers.store.resolve(ref).id,
    list: (options: ContainerListOptions) => listContainers(deps, options),
    /** Removes containers that are not up and match `filters`; SpaceReclaimed counts their writable layers. */
    prune: (filters: Filters) => containers.prune(pruneFilter(filters), async (c) => (await sizeOf(c)).sizeRw),
  };
}

/** Names and IDs of the networks a container is on: its mode's network, or its endpoints and the ones pending. */
function networksOf(engine: Engine, c: Container): string[] {
  const mode = networkMode(c.hostConfig);
  if (mode.kind === 'host' || mode.kind === 'none') {
    const n = engine.networks.store.byName(mode.name);
    return n ? [n.name, n.id] : [];
  }
  if (mode.kind === 'container') return [];
  return [
    ...engine.containers.network!.endpointsOf(c.id).flatMap(({ network }) => [network.name, network.id]),
    ...engine.networks.store.pendingOf(c.id).flatMap(({ name }) => [name, '']),
  ];
}
