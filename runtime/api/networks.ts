// The networks verbs the server may call: options in, results out; no store, path or process leaks out.
import type { Engine } from '../engine.js';
import type { Attachments } from '../network/attachments.js';
import type { NetworkService } from '../network/service.js';
import { PREDEFINED } from '../network/service.js';
import type { Network } from '../network/store.js';
import { networkFilter, networkPruneFilter, type Filters } from '../filters.js';
import { isLive } from '../containers/state.js';

export type NetworkCreateOptions = Parameters<NetworkService['create']>[0];
export type EndpointOptions = Parameters<Attachments['connect']>[2];

/** A container on a network, as network inspect shows it: only running ones with an address. */
export interface NetworkMember {
  id: string;
  name: string;
  endpointId: string;
  mac: string;
  ip: string;
  ip6: string;
}

export function networkApi(engine: Engine) {
  const { networks } = engine;
  const attachments = engine.containers.network!;
  const builtin = (n: { name: string }) => PREDEFINED.includes(n.name);
  const inUse = (n: { id: string }) => networks.store.endpointsOn(n.id).length > 0;
  return {
    /** Below API 1.44 dockerd checks for a duplicate name only when asked to (`checkDuplicate`). */
    create: (options: NetworkCreateOptions, checkDuplicate: boolean) => networks.create(options, checkDuplicate),
    /** `docker network ls` with its filters (name, id, driver, label, type, dangling, scope). */
    list: (filters: Filters = {}): Network[] => networks.list().filter(networkFilter(filters, builtin, inUse)),
    /** The network and the running containers with an address on it. */
    inspect: (ref: string): { network: Network; members: NetworkMember[] } => {
      const network = networks.resolve(ref, 'inspect');
      const members: NetworkMember[] = [];
      for (const e of networks.store.endpointsOn(network.id)) {
        const c = engine.containers.store.get(e.containerId);
        if (!c || !e.ip || !isLive(c)) continue;
        members.push({ id: c.id, name: c.name, endpointId: e.endpointId, mac: e.mac, ip: e.ip, ip6: e.ip6 ?? '' });
      }
      return { network, members };
    },
    /** Refused for the predefined networks and while a live container is on it; then its bridge and rules go. */
    remove: async (ref: string): Promise<void> => {
      const n = networks.remove(ref, (id) => {
        const c = engine.containers.store.get(id);
        return !!c && isLive(c);
      });
      await attachments.dropNetwork(n);
    },
    /** The containers (IDs) on a network, running or not (podman's rule for rm without force). */
    containersOn: (ref: string): string[] => networks.store.endpointsOn(networks.resolve(ref).id).map((e) => e.containerId),
    /** podman network rm -f: the containers on it are removed (forced), then the network. */
    removeWithContainers: async (ref: string) => {
      const n = networks.resolve(ref);
      for (const e of networks.store.endpointsOn(n.id)) await engine.containers.remove(e.containerId, true, false);
      await attachments.dropNetwork(networks.remove(n.id, () => false));
    },
    connect: (ref: string, container: string, settings: EndpointOptions) => attachments.connect(ref, container, settings),
    disconnect: (ref: string, container: string, force: boolean) => attachments.disconnect(ref, container, force),
    /** `docker network prune`: unused user networks created before `until`, with the labels asked; their names. */
    prune: async (filters: Filters): Promise<string[]> => {
      const matches = networkPruneFilter(filters);
      const removed = networks.prune((n) => !matches(n));
      for (const n of removed) await attachments.dropNetwork(n);
      return removed.map((n) => n.name);
    },
  };
}
