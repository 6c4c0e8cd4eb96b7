// Pods (libpod): a row per pod, an infra container holding the namespaces members share, a cgroup
// parenting them. A pod's state is derived from its members', as podman derives it. Verbs act on the
// members through the container service, infra first on the way up and last on the way down.
//
// Crash order: create writes the row (infra_id '') before the infra container and records the infra
// after; remove takes members, then the infra, then the row. A pod that wants an infra container but
// has none was cut off in either, and reconcile() finishes it (removes the row).
import { randomBytes } from 'node:crypto';
import { readlink } from 'node:fs/promises';
import type { ContainerService } from '../containers/service.js';
import type { ContainerSpec, MountsSpec } from '../containers/spec.js';
import type { Container } from '../containers/store.js';
import { generateName } from '../containers/names.js';
import { conflict, EngineError, invalid } from '../errors.js';
import { parseSignal } from '../containers/signals.js';
import { describeProcesses, parseDescriptors } from '../containers/top-descriptors.js';
import type { TopResult } from '../containers/top.js';
import type { EventLog } from '../events/log.js';
import type { ImageService } from '../images/service.js';
import { ensurePodCgroup, podCgroupParent, removePodCgroup } from './cgroup.js';
import { PAUSE_IMAGE, pauseImage } from './pause-image.js';
import type { PodSpec } from './spec.js';
import { sharesUserns } from './userns.js';
import type { Pod, PodStore } from './store.js';

/** Whether the pod has a cgroup parenting its members (podman's CreateCgroup). */
export const hasCgroup = (spec: PodSpec) => !!spec.infra && spec.shareParent !== false;

/** podman's rule for pod names. */
const POD_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** podman's pod states (libpod/define/podstate.go). */
export type PodStatus = 'Created' | 'Running' | 'Degraded' | 'Stopped' | 'Exited' | 'Paused' | 'Error';

/** Why a member's verb failed, as podman words it before the error (`starting container <id>: ...`). */
export type PodVerb = 'start' | 'stop' | 'restart' | 'kill' | 'pause' | 'unpause';

/**
 * What a verb on a pod did: the pod, and each member's error by container ID (podman's Errs, in member
 * order). `unchanged`: there was nothing to do (podman's 304: a start of a running pod, a stop of one
 * that runs nothing).
 */
export interface PodVerbReport {
  id: string;
  errors: Record<string, Error>;
  unchanged?: boolean;
}

/** Member states a stop acts on (and a start leaves alone). */
const STOPPABLE: ReadonlySet<string> = new Set(['running', 'paused', 'restarting']);

/** Errors in the members' order (the order podman's report lists them in). */
function ordered(members: Container[], errors: Record<string, Error>): Record<string, Error> {
  return Object.fromEntries(members.filter((c) => errors[c.id]).map((c) => [c.id, errors[c.id]!]));
}

export class PodService {
  constructor(
    readonly store: PodStore,
    private readonly containers: ContainerService,
    private readonly images: ImageService,
    private readonly eventLog: EventLog,
  ) {
    containers.events.on('changed', (id: string) => void this.applyExitPolicy(id).catch(() => undefined));
  }

  /** Pods whose infra container the exit policy is stopping now (one stop each). */
  private readonly exiting = new Set<string>();

  /**
   * podman's `--exit-policy stop`: when the last member other than the infra container has exited,
   * the infra container stops too (and the pod with it).
   */
  private async applyExitPolicy(containerId: string): Promise<void> {
    const c = this.containers.store.get(containerId);
    if (!c?.spec.pod || c.state !== 'exited') return;
    const pod = this.store.get(c.spec.pod);
    if (!pod || pod.spec.exitPolicy !== 'stop' || pod.infraId === c.id || this.exiting.has(pod.id)) return;
    const members = this.members(pod);
    const infra = members.find((m) => m.id === pod.infraId);
    if (!infra || infra.state !== 'running' || members.some((m) => m !== infra && STOPPABLE.has(m.state))) return;
    this.exiting.add(pod.id);
    try {
      await this.containers.stop(infra.id);
      this.record(pod, 'stop');
    } finally {
      this.exiting.delete(pod.id);
    }
  }

  /** podman's pod events carry the pod's name only. */
  record(pod: Pick<Pod, 'id' | 'name'>, action: string): void {
    this.eventLog.record('pod', action, pod.id, { name: pod.name });
  }

  /** The pod's containers: the infra container first, then by creation. */
  members(pod: Pod, all: Container[] = this.containers.store.all()): Container[] {
    const mine = all.filter((c) => c.spec.pod === pod.id);
    return mine.sort((a, b) => (a.id === pod.infraId ? -1 : b.id === pod.infraId ? 1 : a.created < b.created ? -1 : a.created > b.created ? 1 : 0));
  }

  /**
   * The pod's state from its members' (libpod's createPodStatusResults; the infra container counts):
   * any running → Running (all) or Degraded; else all paused → Paused, all exited → Exited, some
   * exited → Stopped, an odd state → Error, otherwise Created.
   */
  status(members: Container[]): PodStatus {
    if (members.length === 0) return 'Created';
    let running = 0;
    let paused = 0;
    let exited = 0;
    let errored = 0;
    for (const c of members) {
      if (c.state === 'running') running++;
      else if (c.state === 'paused') paused++;
      // A container between restarts is stopped to podman (its restarts happen within an exit).
      else if (c.state === 'exited' || c.state === 'dead' || c.state === 'restarting') exited++;
      else if (c.state !== 'created' && c.state !== 'initialized') errored++;
    }
    if (running > 0) return running === members.length ? 'Running' : 'Degraded';
    if (paused === members.length) return 'Paused';
    if (exited === members.length) return 'Exited';
    if (exited > 0) return 'Stopped';
    if (errored > 0) return 'Error';
    return 'Created';
  }

  async create(spec: PodSpec, echo: Record<string, unknown>, name?: string): Promise<string> {
    const taken = (n: string) => !!this.store.byName(n) || !!this.containers.store.byName(n);
    if (name && !POD_NAME.test(name)) throw invalid('running pod create option: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument');
    const podName = name || generateName(taken);
    if (this.store.byName(podName)) throw conflict(`adding pod to state: name "${podName}" is in use: pod already exists`);
    // Pods and containers share podman's namespace of names.
    if (this.containers.store.byName(podName)) throw conflict(`adding pod to state: name "${podName}" is in use: container already exists`);
    if (spec.share.length && !spec.infra) throw invalid('you must have an infra container to share namespaces');
    const id = randomBytes(32).toString('hex');
    const pod: Pod = { id, name: podName, spec, echo, infraId: '', created: new Date().toISOString() };
    this.store.insert(pod);
    try {
      // podman makes a pod's cgroup only with an infra container (CreateCgroup); without one, members
      // are ordinary containers as far as cgroups go, and the pod's limits bind nothing.
      if (spec.infra) {
        if (hasCgroup(spec)) await ensurePodCgroup(id, spec.resources);
        const image = spec.infra.image || (await pauseImage(this.images), PAUSE_IMAGE);
        const made = await this.containers.create(
          this.infraSpec(pod, spec.infra, image),
          { libpod: { isInfra: true } },
          spec.infraName || `${id.slice(0, 12)}-infra`,
        );
        this.store.setInfra(id, made.id);
      }
    } catch (err) {
      this.store.delete(id);
      await removePodCgroup(id);
      throw err;
    }
    this.record(pod, 'create');
    return id;
  }

  /** The infra container: the pod's network, ports, hostname and volumes, its IPC joinable. */
  private infraSpec(pod: Pod, infra: ContainerSpec, image: string): ContainerSpec {
    const shares = new Set(pod.spec.share);
    return {
      ...infra,
      image,
      pod: pod.id,
      // podman gives the infra container the pod's labels.
      labels: { ...pod.spec.labels, ...infra.labels },
      cgroupParent: hasCgroup(pod.spec) ? podCgroupParent(pod.id) : infra.cgroupParent,
      namespaces: { ...infra.namespaces, ipc: shares.has('ipc') ? 'shareable' : infra.namespaces.ipc },
      network: { ...infra.network, hostname: pod.spec.hostname || pod.name },
    };
  }

  /**
   * A member's spec: the pod's ID, its cgroup, and the infra container's namespaces for those the pod
   * shares (network, ports and hostname are then the pod's), its user namespace where the pod has one
   * of its own (pods/userns.ts). The infra container starts first.
   */
  memberSpec(spec: ContainerSpec): ContainerSpec {
    const pod = this.store.resolve(spec.pod!);
    if (!pod.infraId) return { ...spec, pod: pod.id };
    const member: ContainerSpec = { ...spec, pod: pod.id, cgroupParent: hasCgroup(pod.spec) ? podCgroupParent(pod.id) : spec.cgroupParent };
    member.mounts = withPodVolumes(spec.mounts, pod.spec.infra?.mounts);
    const shares = new Set(pod.spec.share);
    const infra = `container:${pod.infraId}` as const;
    const namespaces = { ...spec.namespaces };
    if (shares.has('ipc')) namespaces.ipc = infra;
    if (shares.has('uts')) namespaces.uts = infra;
    if (shares.has('pid')) namespaces.pid = infra;
    if (shares.has('cgroup')) namespaces.cgroup = infra;
    if (sharesUserns(pod.spec)) {
      // podman's client refuses a member's own --userns; its pod's is the one it runs in.
      if (spec.namespaces.user) throw invalid('--userns and --pod cannot be set together');
      namespaces.user = infra;
      // podman's FromPod: the infra container's user (keep-id's) unless the member names one.
      const infraUser = this.containers.store.get(pod.infraId)?.spec.process.user;
      if (!spec.process.user && infraUser) member.process = { ...spec.process, user: infraUser };
    }
    member.namespaces = namespaces;
    if (shares.has('net')) {
      if (Object.keys(spec.ports.publish ?? {}).length || spec.ports.publishAll)
        throw invalid(
          'invalid config provided: published or exposed ports must be defined when the pod is created: network cannot be configured when it is shared with a pod',
        );
      namespaces.network = infra;
      // The pod's hostname only with its UTS namespace: otherwise the member keeps its own.
      const hostname = shares.has('uts') ? pod.spec.hostname || pod.name : spec.network.hostname;
      member.network = { ...spec.network, mode: infra, endpoints: undefined, hostname };
    } else if (shares.has('uts')) {
      member.network = { ...spec.network, hostname: pod.spec.hostname || pod.name };
    }
    member.dependencies = [pod.infraId, ...(spec.dependencies ?? []).filter((d) => d !== pod.infraId)];
    return member;
  }

  /**
   * Starts the members that do not run: the infra container first, then the others together. A member
   * that fails is reported, not thrown, as podman reports it: a paused one cannot start, and when the
   * infra container fails the others are not tried (their dependency failed). Nothing to do when the
   * pod runs already (podman's 304); a pod without containers is refused. The pod's `start` event only
   * when all started.
   */
  async start(ref: string): Promise<PodVerbReport> {
    const pod = this.store.resolve(ref);
    const members = this.members(pod);
    if (!members.length) throw new EngineError('conflict', `no containers in pod ${pod.id} have no dependencies, cannot start pod: no such container`);
    if (this.status(members) === 'Running') return { id: pod.id, errors: {}, unchanged: true };
    if (hasCgroup(pod.spec)) await ensurePodCgroup(pod.id, pod.spec.resources);
    const errors: Record<string, Error> = {};
    const go = async (c: Container) => {
      if (c.state === 'paused') return void (errors[c.id] = conflict(`cannot start paused container ${c.id}: container state improper`));
      await this.containers.start(c.id).catch((err: Error) => void (errors[c.id] = err));
    };
    const idle = members.filter((c) => c.state !== 'running' && c.state !== 'restarting');
    const infra = idle.find((c) => c.id === pod.infraId);
    if (infra) await go(infra);
    const rest = idle.filter((c) => c !== infra);
    if (infra && errors[infra.id]) for (const c of rest) errors[c.id] = conflict(`a dependency of container ${c.id} failed to start: container state improper`);
    else await Promise.all(rest.map(go));
    if (!Object.keys(errors).length) this.record(pod, 'start');
    return { id: pod.id, errors: ordered(members, errors) };
  }

  /**
   * Stops the running and paused members, then the infra container. Nothing to do when none runs
   * (podman's 304). podman 4.3.1 also answers 304 for a Degraded or Paused pod and leaves it as it is;
   * berth stops it (what `pod stop` is for; the client prints the same either way).
   */
  async stop(ref: string, timeout?: number): Promise<PodVerbReport> {
    const pod = this.store.resolve(ref);
    const members = this.members(pod);
    if (!members.some((c) => STOPPABLE.has(c.state))) return { id: pod.id, errors: {}, unchanged: true };
    const errors = await this.stopMembers(pod, members, timeout);
    if (!Object.keys(errors).length) this.record(pod, 'stop');
    return { id: pod.id, errors: ordered(members, errors) };
  }

  private async stopMembers(pod: Pod, members: Container[], timeout?: number): Promise<Record<string, Error>> {
    const errors: Record<string, Error> = {};
    const stop = (c: Container) =>
      this.containers.stop(c.id, timeout).then(
        () => undefined,
        (err: Error) => void (errors[c.id] = err),
      );
    await Promise.all(members.filter((c) => c.id !== pod.infraId).map(stop));
    const infra = members.find((c) => c.id === pod.infraId);
    if (infra) await stop(infra);
    return errors;
  }

  /**
   * Stops what runs, then starts every member, except paused ones, which podman's restart leaves as
   * they are. podman records the pod's stop and start at the end.
   */
  async restart(ref: string, timeout?: number): Promise<PodVerbReport> {
    const pod = this.store.resolve(ref);
    const members = this.members(pod).filter((c) => c.state !== 'paused');
    const errors = await this.stopMembers(pod, members, timeout);
    if (hasCgroup(pod.spec)) await ensurePodCgroup(pod.id, pod.spec.resources);
    const go = (c: Container) =>
      this.containers.start(c.id).then(
        () => undefined,
        (err: Error) => void (errors[c.id] = err),
      );
    const infra = members.find((c) => c.id === pod.infraId);
    if (infra && !errors[infra.id]) await go(infra);
    if (!infra || !errors[infra.id]) await Promise.all(members.filter((c) => c !== infra && !errors[c.id]).map(go));
    if (!Object.keys(errors).length) {
      this.record(pod, 'stop');
      this.record(pod, 'start');
    }
    return { id: pod.id, errors: ordered(members, errors) };
  }

  /**
   * A signal to every running member (the infra container too); a pod that runs none is refused as
   * podman refuses it. The signal is checked first.
   */
  async kill(ref: string, signal = 'KILL'): Promise<PodVerbReport> {
    parseSignal(signal);
    const pod = this.store.resolve(ref);
    const members = this.members(pod);
    if (!members.some((c) => c.state === 'running')) throw conflict(`cannot kill a pod with no running containers: ${pod.id}`);
    return this.each(
      pod,
      members,
      'kill',
      (c) => this.containers.kill(c.id, signal),
      (c) => c.state === 'running',
    );
  }

  async pause(ref: string): Promise<PodVerbReport> {
    const pod = this.store.resolve(ref);
    return this.each(
      pod,
      this.members(pod),
      'pause',
      (c) => this.containers.pause(c.id),
      (c) => c.state === 'running',
    );
  }

  async unpause(ref: string): Promise<PodVerbReport> {
    const pod = this.store.resolve(ref);
    return this.each(
      pod,
      this.members(pod),
      'unpause',
      (c) => this.containers.unpause(c.id),
      (c) => c.state === 'paused',
    );
  }

  private async each(
    pod: Pod,
    members: Container[],
    action: PodVerb,
    verb: (c: Container) => Promise<unknown>,
    applies: (c: Container) => boolean,
  ): Promise<PodVerbReport> {
    const errors: Record<string, Error> = {};
    await Promise.all(
      members.filter(applies).map((c) =>
        verb(c).then(
          () => undefined,
          (err: Error) => void (errors[c.id] = err),
        ),
      ),
    );
    if (!Object.keys(errors).length) this.record(pod, action);
    return { id: pod.id, errors: ordered(members, errors) };
  }

  /**
   * podman pod top: the processes of the running members described by psgo's descriptors (none: its
   * defaults), each PID namespace once (members that share the pod's show the same processes), the
   * members in ID order as podman lists them. Undefined when there is nothing podman would describe:
   * no running member, or an argument that is not a descriptor (podman's service then answers an empty
   * 200; `pod top` runs no ps(1) in a member).
   */
  async top(ref: string, args: string[]): Promise<TopResult | undefined> {
    const pod = this.store.resolve(ref);
    const descriptors = parseDescriptors(args);
    if (!descriptors) return undefined;
    const running = this.members(pod)
      .filter((c) => c.state === 'running')
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    const byNamespace = new Map<string, number[]>();
    for (const c of running) {
      const pids = await this.containers
        .runtimeOf(c)
        .pids(c.id)
        .catch(() => []);
      if (!pids.length) continue;
      const ns = await readlink(`/proc/${pids[0]}/ns/pid`).catch(() => `gone:${c.id}`);
      byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), ...pids]);
    }
    if (!byNamespace.size) return undefined;
    let result: TopResult | undefined;
    for (const pids of byNamespace.values()) {
      const part = await describeProcesses(
        [...new Set(pids)].sort((a, b) => a - b),
        descriptors,
      );
      result = result ? { titles: result.titles, processes: [...result.processes, ...part.processes] } : part;
    }
    return result;
  }

  /**
   * Removes the pod: its members, then the infra container, then the row. Without `force` a running
   * member is refused, as podman refuses it: the members that can go go, the running ones and the infra
   * container stay, and the error lists each (podman's multi-error). The infra container's own state
   * does not matter: it is stopped with the pod.
   */
  async remove(ref: string, o: { force?: boolean; timeout?: number } = {}): Promise<{ id: string; removed: string[] }> {
    const pod = this.store.resolve(ref);
    const members = this.members(pod);
    const others = members.filter((c) => c.id !== pod.infraId).sort((a, b) => (a.id < b.id ? -1 : 1));
    const live = (c: Container) => c.state === 'running' || c.state === 'paused' || c.state === 'restarting';
    const removed: string[] = [];
    if (!o.force && others.some(live)) {
      const errors: string[] = [];
      for (const c of others) {
        if (live(c))
          errors.push(
            `removing container ${c.id} from pod ${pod.id}: cannot remove container ${c.id} as it is running - running or paused containers cannot be removed without force: container state improper`,
          );
        else {
          await this.containers.remove(c.id, true, false);
          removed.push(c.id);
        }
      }
      if (pod.infraId)
        errors.push(
          `removing container ${pod.infraId} from pod ${pod.id}: a container that depends on container ${pod.infraId} still exists: dependency exists`,
        );
      throw new EngineError('conflict', multiError(errors));
    }
    // Stopped as pod stop stops them, without its event: podman records only the removal.
    if (members.some(live)) await this.stopMembers(pod, members, o.timeout);
    for (const c of others) {
      await this.containers.remove(c.id, true, false);
      removed.push(c.id);
    }
    if (pod.infraId && this.containers.store.get(pod.infraId)) {
      await this.containers.remove(pod.infraId, true, false);
      removed.push(pod.infraId);
    }
    this.store.delete(pod.id);
    await removePodCgroup(pod.id);
    this.record(pod, 'remove');
    return { id: pod.id, removed };
  }

  /** Whether a container is the infra container of a pod that still exists (it goes only with the pod). */
  infraOf(containerId: string): Pod | undefined {
    return this.store.all().find((p) => p.infraId === containerId);
  }

  /**
   * At start: a pod cut off while made or removed (it wants an infra container and has none) goes; the
   * others get their cgroups back (a reboot empties them).
   */
  async reconcile(): Promise<void> {
    for (const pod of this.store.all()) {
      if (pod.spec.infra && (!pod.infraId || !this.containers.store.get(pod.infraId))) {
        for (const c of this.members(pod)) await this.containers.remove(c.id, true, false).catch(() => undefined);
        this.store.delete(pod.id);
        await removePodCgroup(pod.id);
      } else if (hasCgroup(pod.spec)) {
        await ensurePodCgroup(pod.id, pod.spec.resources);
      }
    }
  }
}

/** Go's multierror text (podman wraps its per-container errors in one). */
export function multiError(errors: string[]): string {
  const n = errors.length;
  return `${n} error${n === 1 ? '' : 's'} occurred:\n${errors.map((e) => `\t* ${e}`).join('\n')}\n\n`;
}

/**
 * A member's mounts with the pod's volumes (podman's `pod create -v`: every member mounts them), except
 * where the member mounts something of its own at the same path.
 */
function withPodVolumes(own: MountsSpec, pod: MountsSpec | undefined): MountsSpec {
  if (!pod) return own;
  const target = (v: string) => v.split(':')[1] ?? v;
  const taken = new Set([...(own.volumes ?? []).map(target), ...(own.mounts ?? []).map((m) => m.Target), ...own.anonymous]);
  const volumes = (pod.volumes ?? []).filter((v) => !taken.has(target(v)));
  const mounts = (pod.mounts ?? []).filter((m) => !taken.has(m.Target));
  if (!volumes.length && !mounts.length) return own;
  return { ...own, volumes: [...volumes, ...(own.volumes ?? [])], mounts: [...mounts, ...(own.mounts ?? [])] };
}
