// The containers verbs the server may call: options in, results out; no store, path or process leaks out.
import type { Readable } from 'node:stream';
import type { Engine } from '../engine.js';
import type { Container } from '../containers/store.js';
import type { WaitCondition } from '../containers/service.js';
import { top } from '../containers/top.js';
import { containerFacts } from '../containers/facts.js';
import { containerLogs, type LogsOptions } from '../containers/container-logs.js';
import type { ChangesOptions } from '../containers/filesystem.js';
import { archiveContainerPath, changes, exportContainer, extractToContainer, statContainerPath, type ExtractOptions } from '../containers/rootfs-io.js';
import { attachSession, resizeContainer } from '../containers/attach-session.js';
import { removedExitCode, waitForState } from '../containers/wait-state.js';
import type { ContainerState } from '../containers/store.js';
import type { Filters } from '../filters.js';
import { listContainers, pruneFilter, type ContainerListOptions } from '../containers/list.js';
import { networkMode } from '../network/attachments.js';
import { readStats, statsDocuments, type StatsOptions } from '../containers/stats.js';
import { refuseRootlessStats } from '../rootless/cgroups.js';
import { isLive } from '../containers/state.js';
import { STDOUT_CAPTURE } from '../containers/health.js';
import { describeProcesses, parseDescriptors, psLines } from '../containers/top-descriptors.js';
import type { TopResult } from '../containers/top.js';
import { conflict, invalid } from '../errors.js';
import type { ContainerSpec } from '../containers/spec.js';

type Tail<T extends unknown[]> = T extends [unknown, ...infer R] ? R : never;

/** Options of stop and restart: seconds before the kill (the container's own, or 10, when undefined), and the signal. */
export interface StopOptions {
  timeout?: number;
  signal?: string;
}

export function containerApi(engine: Engine) {
  const { containers } = engine;
  type Service = typeof containers;
  return {
    ...containerListVerbs(engine),
    /** What views show of containers beyond their records (networks, files, volume mount points). */
    facts: containerFacts(engine),
    /** The container's record (404 for an unknown name or ID). */
    inspect: (id: string): Container => containers.store.resolve(id),
    /** The writable layer's size, and that with the image's. */
    size: (id: string) => engine.diskUsage.containerSize(containers.store.resolve(id)),
    /** A member of a pod (`spec.pod`) joins the pod's namespaces and cgroup (runtime/pods). */
    create: (spec: ContainerSpec, ...rest: Tail<Parameters<Service['create']>>) => containers.create(spec.pod ? engine.pods.memberSpec(spec) : spec, ...rest),
    /** Whether it started (false: it was running already). */
    start: (...args: Parameters<Service['start']>) => containers.start(...args),
    /** Whether it stopped (false: it was not running). */
    /** libpod's init: the runtime's container made, its process waiting for start; false if not created or exited. */
    init: (id: string) => containers.initialize(id),
    stop: (id: string, o: StopOptions = {}) => containers.stop(id, o.timeout, o.signal),
    restart: (id: string, o: StopOptions = {}) => containers.restart(id, o.timeout, o.signal),
    kill: (id: string, signal?: string) => containers.kill(id, signal),
    pause: (id: string) => containers.pause(id),
    unpause: (id: string) => containers.unpause(id),
    rename: (id: string, name: string) => containers.rename(id, name),
    /**
     * Removes the container; with `depend`, first the containers that join its namespaces or mount its
     * volumes (theirs first, recursively). The IDs removed, in order.
     */
    /** The IDs of the containers that depend on it (joined namespaces, volumes-from, `--requires`), deepest first. */
    dependents: (id: string): string[] => {
      const c = containers.store.resolve(id);
      return dependentsFirst(containers.store.all(), c)
        .slice(0, -1)
        .map((d) => d.id);
    },
    remove: async (id: string, o: { force: boolean; volumes: boolean; depend?: boolean }): Promise<string[]> => {
      const c = containers.store.resolve(id);
      const pod = engine.pods.infraOf(c.id);
      if (pod) throw conflict(`container ${c.id} is the infra container of pod ${pod.id} and cannot be removed without removing the pod`);
      const order = o.depend ? dependentsFirst(containers.store.all(), c) : [c];
      for (const d of order) await containers.remove(d.id, o.force, o.volumes);
      return order.map((d) => d.id);
    },
    /** Removes a link (`/parent/alias`), not a container. */
    removeLink: (name: string) => containers.removeLink(name),
    update: (...args: Parameters<Service['update']>) => containers.update(...args),
    commit: (...args: Parameters<Service['commit']>) => containers.commit(...args),
    /**
     * The exit code once the condition holds. The container is looked up now (an unknown one throws
     * here, before any answer has begun); the promise rejects when the signal aborts.
     */
    wait: (id: string, condition: WaitCondition, signal?: AbortSignal) => containers.wait(id, condition, signal),
    /** Resolves once the container is in one of `states` (looked at every `intervalMs`); rejects when it is gone or on abort. */
    waitForState: (id: string, states: ContainerState[], intervalMs: number, signal?: AbortSignal) => waitForState(containers, id, states, intervalMs, signal),
    /** The exit code of a container (by full ID) removed already, while its exit file is kept; undefined otherwise. */
    removedExitCode: (id: string) => removedExitCode(containers, id),
    /** `ps` (with these arguments) narrowed to the container's processes. */
    top: (id: string, psArgs?: string) => top(containers, id, psArgs),
    /** The log as batches of entries (refusals thrown here, before any is read). */
    logs: (id: string, o: LogsOptions) => containerLogs(containers, id, o),
    /** What the container changed in its filesystem. */
    changes: (id: string, o: ChangesOptions = {}) => changes(containers, id, o),
    /** The whole filesystem as a tar. */
    export: (id: string): Promise<Readable> => exportContainer(containers, id),
    /** docker cp: a path's stat; the path as a tar; a tar extracted into a directory. */
    statPath: (id: string, path: string) => statContainerPath(containers, id, path),
    archive: (id: string, path: string) => archiveContainerPath(containers, id, path),
    extract: (id: string, path: string, tar: Readable | undefined, o: ExtractOptions) => extractToContainer(containers, id, path, tar, o),
    /** An attach to the container's current (or next) run; the container is looked up now. */
    attach: (id: string) => attachSession(containers, id),
    /** A terminal's size; `libpod`: podman's (a created container's kept for its start, its refusal in its words). */
    resize: (id: string, height: number, width: number, o: { libpod?: boolean } = {}) => resizeContainer(containers, id, height, width, o),
    /**
     * podman top: psgo's descriptors (none: its defaults) read from /proc; other arguments are ps(1)'s,
     * run in the container (its lines whole).
     */
    topDescribed: async (id: string, args: string[]): Promise<TopResult> => {
      const c = containers.store.resolve(id);
      if (c.state !== 'running') throw conflict('top can only be used on running containers');
      const descriptors = parseDescriptors(args);
      if (descriptors)
        return describeProcesses(
          (await containers.runtimeOf(c).pids(c.id)).sort((a, b) => a - b),
          descriptors,
        );
      // An exec session as a health probe runs one: the command's exit code and (here) its whole stdout.
      const { result } = await engine.health.runProbe(c, ['ps', ...args], 30_000, new AbortController().signal, STDOUT_CAPTURE);
      if (!result || result.ExitCode !== 0) throw invalid(`error executing ps(1) in the container: exit code ${result?.ExitCode ?? -1}`);
      return psLines(result.Output, args);
    },
    /** One probe of the container's healthcheck now: the probe's verdict and result (recorded as the monitor's). */
    healthcheck: (id: string) => engine.health.checkNow(id),
    /** One reading of a running container's cgroup and network (undefined when it runs no process). */
    statsReading: async (id: string) => {
      const c = containers.store.resolve(id);
      return { container: c, reading: isLive(c) && c.pid > 0 ? await readStats(c, engine.host) : undefined };
    },
    /** Throws where no stats can be had at all (a rootless engine on cgroup v1: podman's 409). */
    refuseStats: (o: { pod?: boolean } = {}) => refuseRootlessStats(o),
    /** Docker's stats documents (the container looked up now). */
    stats: (id: string, o: StatsOptions) => statsDocuments(containers.store, containers.store.resolve(id).id, engine.host, o),
  };
}

/** The containers that depend on `c` (joined namespaces, volumes-from, `--requires`), deepest first, then `c`. */
function dependentsFirst(all: Container[], c: Container, seen = new Set<string>()): Container[] {
  seen.add(c.id);
  const refs = new Set([c.id, c.name]);
  const joins = (mode: string) => mode.startsWith('container:') && refs.has(mode.slice('container:'.length));
  const dependents = all.filter(
    (d) =>
      !seen.has(d.id) &&
      (Object.values(d.spec.namespaces).some(joins) ||
        joins(d.spec.network.mode) ||
        (d.spec.mounts.volumesFrom ?? []).some((v) => refs.has(v.split(':')[0]!)) ||
        (d.spec.dependencies ?? []).includes(c.id)),
  );
  return [...dependents.flatMap((d) => (seen.has(d.id) ? [] : dependentsFirst(all, d, seen))), c];
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
  const mode = networkMode(c.spec.network.mode);
  if (mode.kind === 'host' || mode.kind === 'none') {
    const n = engine.networks.store.byName(mode.name);
    return n ? [n.name, n.id] : [];
  }
  if (mode.kind === 'container') return [];
  return [
    ...engine.containers.network.endpointsOf(c.id).flatMap(({ network }) => [network.name, network.id]),
    ...engine.networks.store.pendingOf(c.id).flatMap(({ name }) => [name, '']),
  ];
}
