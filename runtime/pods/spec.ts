// PodSpec: berth's model of a pod to create (libpod's PodSpecGenerator converts into it). A pod is a
// group of containers that share namespaces through an infra container, under one cgroup parent.
import type { ContainerSpec } from '../containers/spec.js';

/** The namespaces members share (podman's `--share`): held by the infra container. */
export type SharedNamespace = 'net' | 'ipc' | 'uts' | 'pid' | 'cgroup';

/** The pod cgroup's limits (podman's --memory, --cpus...): they bound all members together. */
export interface PodResources {
  memory?: number;
  memorySwap?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  cpusetCpus?: string;
}

export interface PodSpec {
  labels: Record<string, string>;
  /** The pod's hostname (the infra's, when uts is shared); absent: the pod's name. */
  hostname?: string;
  /** As given, in order (podman's default: ipc, net, uts). Without infra, none are shared. */
  share: SharedNamespace[];
  /**
   * The infra container (absent: none, `--infra=false`): a container spec with the pod's ports,
   * networks, DNS, hosts and volumes; an empty image is the pause image, built locally.
   */
  infra?: ContainerSpec;
  /** The infra container's name (default `<pod ID 12>-infra`). */
  infraName?: string;
  resources: PodResources;
  /**
   * false: the pod has no cgroup of its own and its members keep the default parent (podman's
   * `--share-parent=false`, needed to share the cgroup namespace). Absent: it has one when it has an
   * infra container.
   */
  shareParent?: false;
  /** `stop`: the pod stops when its last member exits (podman's --exit-policy); `continue`: it does not. */
  exitPolicy: 'continue' | 'stop';
}
