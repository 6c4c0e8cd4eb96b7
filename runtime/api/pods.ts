// The pods verbs (libpod) the server may call.
import type { Engine } from '../engine.js';
import type { Container } from '../containers/store.js';
import { DEFAULT_CGROUP_PARENT } from '../oci/cgroups.js';
import { podCgroupParent } from '../pods/cgroup.js';
import type { Filters } from '../filters.js';
import { podFilter } from '../pods/filters.js';
import type { PodSpec } from '../pods/spec.js';
import type { Pod } from '../pods/store.js';
import { hasCgroup, type PodStatus, type PodVerbReport } from '../pods/service.js';

/** A pod as views show it: its record, its members (infra first) and its derived state. */
export interface PodDetails {
  pod: Pod;
  members: Container[];
  status: PodStatus;
  /** The cgroup pods are made under (podman's CgroupParent), and the pod's own (its CgroupPath; '' without one). */
  cgroupParent: string;
  cgroupPath: string;
}

export function podApi(engine: Engine) {
  const { pods } = engine;
  /** `all`: the containers, read once for a list of pods. */
  const details = (pod: Pod, all?: Container[]): PodDetails => {
    const members = pods.members(pod, all);
    return {
      pod,
      members,
      status: pods.status(members),
      cgroupParent: DEFAULT_CGROUP_PARENT,
      cgroupPath: hasCgroup(pod.spec) ? podCgroupParent(pod.id) : '',
    };
  };
  return {
    create: (spec: PodSpec, echo: Record<string, unknown>, name?: string): Promise<string> => pods.create(spec, echo, name),
    /** 404 (podman's words) for an unknown name or ID. */
    inspect: (ref: string): PodDetails => details(pods.store.resolve(ref)),
    exists: (ref: string): boolean => !!pods.store.find(ref),
    /** Oldest first; `filters` as podman's pod ps (see runtime/pods/filters.ts). */
    list: (filters: Filters = {}, networksOf: (d: PodDetails) => string[] = () => []): PodDetails[] => {
      const keep = podFilter(filters, networksOf);
      const all = engine.containers.store.all();
      return pods.store
        .all()
        .map((pod) => details(pod, all))
        .filter(keep);
    },
    start: (ref: string): Promise<PodVerbReport> => pods.start(ref),
    stop: (ref: string, timeout?: number): Promise<PodVerbReport> => pods.stop(ref, timeout),
    restart: (ref: string, timeout?: number): Promise<PodVerbReport> => pods.restart(ref, timeout),
    kill: (ref: string, signal?: string): Promise<PodVerbReport> => pods.kill(ref, signal),
    pause: (ref: string): Promise<PodVerbReport> => pods.pause(ref),
    unpause: (ref: string): Promise<PodVerbReport> => pods.unpause(ref),
    /** podman pod top (PodService.top): undefined when podman's service answers an empty 200. */
    top: (ref: string, args: string[]) => pods.top(ref, args),
    /** The pods `pod stats` reports on: those named (404 for an unknown one), or all. */
    statsTargets: (refs: string[]): PodDetails[] => {
      const targets = refs.length ? refs.map((r) => pods.store.resolve(r)) : pods.store.all();
      const all = engine.containers.store.all();
      return targets.map((pod) => details(pod, all));
    },
    remove: (ref: string, o: { force?: boolean; timeout?: number } = {}) => pods.remove(ref, o),
    /** Removes the pods whose members have all exited (podman's pod prune); their IDs and errors. */
    prune: async (): Promise<{ id: string; error?: Error }[]> => {
      const out: { id: string; error?: Error }[] = [];
      const all = engine.containers.store.all();
      for (const pod of pods.store.all()) {
        if (pods.status(pods.members(pod, all)) !== 'Exited') continue;
        await pods.remove(pod.id, { force: true }).then(
          () => out.push({ id: pod.id }),
          (error: Error) => out.push({ id: pod.id, error }),
        );
      }
      return out;
    },
  };
}
