// What a container's views show beyond its record: its networks' records and endpoints, the paths of its
// files and layers, the mount points of its volumes. Read-only lookups, so an API's views can render a
// container without holding a store, a path helper or a service.
import { readFileSync } from 'node:fs';
import type { Engine } from '../engine.js';
import { isLive } from './state.js';
import type { Endpoint, EndpointSettings, Network } from '../network/store.js';
import type { Container } from './store.js';

export interface ContainerFacts {
  /** A network by name (the host/none/bridge mode's own network). */
  networkByName(name: string): Network | undefined;
  /** The container's endpoints with their networks. */
  endpointsOf(id: string): { endpoint: Endpoint; network: Network }[];
  /** Networks it was created on before they existed: the settings as asked. */
  pendingOf(id: string): { name: string; settings: EndpointSettings | null }[];
  /** Its network namespace's path ('' when netavark is not in use). */
  netnsPath(id: string): string;
  /** Where a named volume's data is on the host. */
  volumeMountpoint(name: string): string;
  /** The files berth keeps for it (bind-mounted /etc files, its log) and its overlay's dirs. */
  files(c: Container): { resolvConf: string; hostname: string; hosts: string; log: string; lowerDirs: string[]; merged: string; upper: string; work: string };
  /** The runtime a container gets when its spec names none. */
  defaultRuntime: string;
  /** The PID of its monitor (conmon) while it runs; 0 otherwise. */
  conmonPid(c: Container): number;
  /**
   * The container whose network it shows: a pod member joined to its pod's infra container shows the
   * infra container's (podman's views of members, in both APIs); any other container its own.
   */
  networkHolder(c: Container): Container;
}

export function containerFacts(engine: Engine): ContainerFacts {
  const { containers, networks, volumes, images } = engine;
  const { paths } = containers;
  return {
    networkByName: (name) => networks.store.byName(name),
    endpointsOf: (id) => containers.network.endpointsOf(id),
    pendingOf: (id) => networks.store.pendingOf(id),
    netnsPath: (id) => containers.network.netavark?.netnsPath(id) ?? '',
    volumeMountpoint: (name) => volumes.mountpoint(name),
    files: (c) => ({
      resolvConf: `${paths.bundle(c.id)}/resolv.conf`,
      hostname: `${paths.bundle(c.id)}/hostname`,
      hosts: `${paths.bundle(c.id)}/hosts`,
      log: paths.log(c.id),
      lowerDirs: containers.shownLowerDirs(c),
      merged: paths.merged(c.id),
      upper: paths.upper(c.id),
      work: paths.work(c.id),
    }),
    defaultRuntime: engine.host.defaultRuntime,
    networkHolder: (c) => {
      const infraId = c.spec.pod ? engine.pods.store.get(c.spec.pod)?.infraId : undefined;
      const infra = infraId && c.spec.namespaces.network === `container:${infraId}` ? containers.store.get(infraId) : undefined;
      return infra ?? c;
    },
    conmonPid: (c) => {
      if (!isLive(c)) return 0;
      try {
        return Number(readFileSync(paths.conmonPid(c.id), 'utf8').trim()) || 0;
      } catch {
        return 0;
      }
    },
  };
}
