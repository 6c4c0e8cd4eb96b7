// The pods verbs (libpod) the server may call.
import type { Engine } from '../engine.js';
import type { Container } from '../containers/store.js';
import type { PodSpec } from '../pods/spec.js';
import type { Pod } from '../pods/store.js';
import type { PodStatus, PodVerbReport } from '../pods/service.js';

/** A pod as views show it: its record, its members (infra first) and its derived state. */
export interface PodDetails {
  pod: Pod;
  members: Container[];
  status: PodStatus;
}

export function podApi(engine: Engine) {
  const { pods } = engine;
  const details = (pod: Pod): PodDetails => {
    const members = pods.members(pod.id);
    return { pod, members, status: pods.status(pod.id, members) };
  };
  return {
    create: (spec: PodSpec, echo: Record<string, unknown>, name?: string): Promise<string> => pods.create(spec, echo, name),
    /** 404 (podman's words) for an unknown name or ID. */
    inspect: (ref: string): PodDetails => details(pods.store.resolve(ref)),
    exists: (ref: string): boolean => !!pods.store.find(ref),
    list: (): PodDetails[] => pods.store.all().map(details),
    start: (ref: string): Promise<PodVerbReport> => pods.start(ref),
    stop: (ref: string, timeout?: number): Promise<PodVerbReport> => pods.stop(ref, timeout),
    restart: (ref: string, timeout?: number): Promise<PodVerbReport> => pods.restart(ref, timeout),
    kill: (ref: string, signal?: string): Promise<PodVerbReport> => pods.kill(ref, signal),
    pause: (ref: string): Promise<PodVerbReport> => pods.pause(ref),
    unpause: (ref: string): Promise<PodVerbReport> => pods.unpause(ref),
    /** podman pod top (PodService.top): undefined when podman's service answers an empty 200. */
    top: (ref: string, args: string[]) => pods.top(ref, args),
    /** The pods `pod stats` reports on: those named (404 for an unknown one), or all. */
    statsTargets: (refs: string[]): PodDetails[] => (refs.length ? refs.map((r) => details(pods.store.resolve(r))) : pods.store.all().map(details)),
    remove: (ref: string, o: { force?: boolean; timeout?: number } = {}) => pods.remove(ref, o),
  };
}
