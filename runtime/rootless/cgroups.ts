// A rootless engine's cgroups. An unprivileged user can make cgroups only where the host delegated a
// subtree to it, which needs cgroup v2:
// - cgroup v1 (or hybrid, like this VM): no cgroup at all. runc gets no cgroupsPath and no resources
//   (its rootless mode then skips cgroups), and limits are dropped at create, as podman does: libpod's
//   create answers its warning, the compat API drops them silently (podman's
//   verifyContainerResourcesCgroupV1). stats and update have nothing to read or write: refused.
// - cgroup v2 with a cgroup of ours: the pause's (started in a delegated systemd scope where a user
//   manager runs: runtime/rootless/pause.ts), else the engine's own (a host or CI container that gave it
//   a writable one). Its processes move to a leaf (`pause` or `engine`), the controllers it was given are
//   enabled in it and in `containers`, and containers go to `<it>/containers/<id>` (runc's cgroupfs
//   driver). Limits of controllers not delegated are dropped with a warning. The engine's systemd unit
//   is never the one: restarting it there would fail (see delegatedScope).
// - cgroup v2 without a writable cgroup: as v1, but stats read nothing rather than being refused.
import { accessSync, constants, readFileSync } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResourcesSpec } from '../containers/spec.js';
import { EngineError } from '../errors.js';
import { rootless } from './mode.js';
import { pauseFile } from './pause.js';

/** podman's words (libpod/runtime_ctr.go). */
export const V1_LIMITS_WARNING = 'Resource limits are not supported and ignored on cgroups V1 rootless systems';
/** podman's CLI words; its service answers 409 too (with "Container stats resource only available for cgroup v2"). */
export const V1_STATS_ERROR = 'stats is not supported in rootless mode without cgroups v2';

export type RootlessCgroups =
  /** No cgroups for containers; `v2`: a unified host whose cgroup was not delegated to us. */
  | { kind: 'none'; v2: boolean }
  /** Containers under `<base>/containers/<id>` (base relative to the v2 mount, no leading '/'); base's own processes in `<base>/<leaf>`. */
  | { kind: 'delegated'; mount: string; base: string; leaf: Leaf; controllers: string[] };

/** Where a delegated cgroup's own processes go: the pause's scope keeps the pause, the engine's the engine. */
type Leaf = 'pause' | 'engine';

/** What the decision reads (tests give fixture values). */
export interface CgroupFacts {
  /** Where cgroup2 is mounted when it is THE hierarchy (/sys/fs/cgroup a cgroup2fs); undefined on v1/hybrid. */
  unifiedMount?: string;
  /** The cgroup to fill (ownCgroup of the pause's or the engine's /proc/PID/cgroup). */
  own?: string;
  /** Whose it is (default the engine's). */
  leaf?: Leaf;
  /** Whether its cgroup.procs is writable (the subtree is ours). */
  writable: boolean;
  /** Its cgroup.controllers text: the controllers we were given. */
  controllers: string;
}

/**
 * A process's v2 cgroup from /proc/PID/cgroup text (relative, no leading '/'): the `0::` line, less the
 * `engine` or `pause` leaf a former engine moved it to (a restarted one may start in it).
 */
export function ownCgroup(selfCgroup: string): string | undefined {
  const own = /^0::(.*)$/m.exec(selfCgroup)?.[1];
  return own === undefined ? undefined : own.replace(/\/(engine|pause)$/, '').replace(/^\/+/, '');
}

/** The decision from the host's facts: pure, so tests can feed it fixture files. */
export function decideCgroups(f: CgroupFacts): RootlessCgroups {
  if (!f.unifiedMount) return { kind: 'none', v2: false };
  // The root cgroup is never ours to fill (and an empty own path means we could not tell).
  if (!f.own || !f.writable) return { kind: 'none', v2: true };
  return { kind: 'delegated', mount: f.unifiedMount, base: f.own, leaf: f.leaf ?? 'engine', controllers: f.controllers.split(/\s+/).filter(Boolean) };
}

let decision: RootlessCgroups | undefined;
let plan: Promise<RootlessCgroups> | undefined;

/** The decision on this host, read once (two small files: synchronous, so stats can refuse before answering). */
function decided(): RootlessCgroups {
  decision ??= decideCgroups(hostFacts());
  return decision;
}

/** The engine's plan, decided and a delegated subtree prepared once. Only meaningful when rootless. */
export function rootlessCgroups(): Promise<RootlessCgroups> {
  plan ??= (async (): Promise<RootlessCgroups> => {
    const p = decided();
    if (p.kind !== 'delegated') return p;
    try {
      decision = { ...p, controllers: await prepareDelegated(p) };
      return decision;
    } catch (err) {
      process.stderr.write(`berth: cgroup ${p.base} cannot be used for containers (${(err as Error).message}): limits are ignored\n`);
      decision = { kind: 'none', v2: true };
      return decision;
    }
  })();
  return plan;
}

function hostFacts(): CgroupFacts {
  const read = (file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  const unified = read('/proc/self/mountinfo')
    .split('\n')
    .some((l) => l.split(' ')[4] === '/sys/fs/cgroup' && l.split(' - ')[1]?.startsWith('cgroup2 '));
  const runRoot = process.env.BERTH_RUN_ROOT;
  const pause = runRoot ? read(pauseFile(runRoot)).trim() : '';
  // The pause's cgroup first (its delegated scope), then the engine's own.
  const candidates: { own?: string; leaf: Leaf }[] = [
    { own: pause ? ownCgroup(read(`/proc/${pause}/cgroup`)) : undefined, leaf: 'pause' },
    { own: ownCgroup(read('/proc/self/cgroup')), leaf: 'engine' },
  ];
  const writable = (own: string) => {
    try {
      accessSync(join('/sys/fs/cgroup', own, 'cgroup.procs'), constants.W_OK);
      return true;
    } catch {
      return false;
    }
  };
  const mount = unified ? '/sys/fs/cgroup' : undefined;
  const ours = unified ? candidates.find((c) => c.own && writable(c.own)) : undefined;
  if (!ours?.own) return { unifiedMount: mount, own: candidates[1]!.own, writable: false, controllers: '' };
  return { unifiedMount: mount, own: ours.own, leaf: ours.leaf, writable: true, controllers: read(join('/sys/fs/cgroup', ours.own, 'cgroup.controllers')) };
}

/**
 * The base's processes into `<base>/<leaf>` (v2's no-internal-processes rule: every process of `<base>`
 * goes: the pause, or the engine with its launcher), then each delegated controller turned on for the
 * containers. Returns those that could be (one the kernel refuses, a threaded cgroup's, say, does not
 * cost the others). Exported for a test on a fixture directory.
 */
export async function prepareDelegated(p: Extract<RootlessCgroups, { kind: 'delegated' }>): Promise<string[]> {
  const base = join(p.mount, p.base);
  const engine = join(base, p.leaf);
  await mkdir(engine, { recursive: true });
  const procs = (await readFile(join(base, 'cgroup.procs'), 'utf8')).split('\n').filter(Boolean);
  for (const pid of procs) await writeFile(join(engine, 'cgroup.procs'), pid).catch(() => undefined); // gone meanwhile
  await mkdir(join(base, 'containers'), { recursive: true });
  const enabled: string[] = [];
  for (const c of p.controllers) {
    try {
      // Appended (one `+name` a write, as cgroupfs takes them): a fixture file keeps them all.
      await appendFile(join(base, 'cgroup.subtree_control'), `+${c}\n`);
      await appendFile(join(base, 'containers', 'cgroup.subtree_control'), `+${c}\n`);
      enabled.push(c);
    } catch {
      // not this one
    }
  }
  return enabled;
}

/** The controller each limit needs (cgroup v2 names). */
const CONTROLLER: [keyof ResourcesSpec, string][] = [
  ['memory', 'memory'],
  ['memorySwap', 'memory'],
  ['memoryReservation', 'memory'],
  ['memorySwappiness', 'memory'],
  ['oomKillDisable', 'memory'],
  ['nanoCpus', 'cpu'],
  ['cpuShares', 'cpu'],
  ['cpuPeriod', 'cpu'],
  ['cpuQuota', 'cpu'],
  ['cpusetCpus', 'cpuset'],
  ['cpusetMems', 'cpuset'],
  ['pidsLimit', 'pids'],
  ['blkioWeight', 'io'],
];

/** A limit counts when set to something other than its "unset" value. */
function isSet(r: ResourcesSpec, key: keyof ResourcesSpec): boolean {
  const v = r[key];
  if (key === 'memorySwappiness') return typeof v === 'number' && v >= 0;
  if (key === 'pidsLimit') return typeof v === 'number' && v > 0;
  return v !== undefined && v !== null && v !== 0 && v !== '' && v !== false;
}

/**
 * The limits a rootless container can have under this plan, and the warnings for those dropped
 * (resources other than limits, like shmSize and device rules, kept).
 */
export function allowedLimits(r: ResourcesSpec, p: RootlessCgroups): { resources: ResourcesSpec; warnings: string[]; dropped: string[] } {
  const dropped = CONTROLLER.filter(([key, controller]) => isSet(r, key) && (p.kind === 'none' || !p.controllers.includes(controller)));
  if (dropped.length === 0) return { resources: r, warnings: [], dropped: [] };
  const resources = { ...r };
  for (const [key] of dropped) delete resources[key];
  const missing = [...new Set(dropped.map(([, c]) => c))];
  const warnings =
    p.kind === 'delegated'
      ? [
          `Resource limits ignored: the ${missing.join(', ')} cgroup controller(s) are not delegated to ${p.base} (delegated: ${p.controllers.join(' ') || 'none'})`,
        ]
      : [V1_LIMITS_WARNING];
  return { resources, warnings, dropped: dropped.map(([key]) => key) };
}

/**
 * create: a rootless engine drops the limits it cannot apply. The warnings go to libpod's create
 * answer; the compat API drops them silently, as podman's does.
 */
export async function rootlessCreateLimits(r: ResourcesSpec): Promise<{ resources: ResourcesSpec; warnings: string[] }> {
  if (!rootless()) return { resources: r, warnings: [] };
  const { resources, warnings } = allowedLimits(r, await rootlessCgroups());
  return { resources, warnings };
}

/** update: a rootless engine refuses limits it cannot apply (there is nothing to warn into). */
export async function refuseRootlessUpdate(r: ResourcesSpec): Promise<void> {
  if (!rootless()) return;
  const { warnings } = allowedLimits(r, await rootlessCgroups());
  if (warnings.length) throw new EngineError('internal', warnings[0]!);
}

/**
 * stats: refused where containers have no cgroups to read (v1), as podman's service refuses them: 409
 * for containers, 500 for pods (its engine's error, `pod stats ...`).
 */
export function refuseRootlessStats(o: { pod?: boolean } = {}): void {
  if (!rootless()) return;
  const p = decided();
  if (p.kind !== 'none' || p.v2) return;
  throw o.pod ? new EngineError('internal', `pod ${V1_STATS_ERROR}`) : new EngineError('conflict', V1_STATS_ERROR);
}

/** Whether containers run without a cgroup of their own (a rootless engine without a delegated one). */
export function withoutCgroups(): boolean {
  return rootless() && decided().kind === 'none';
}

/** podman's words for pause where there is no cgroup to freeze (libpod/container_api.go; 500 there). */
export function refuseRootlessPause(): void {
  if (withoutCgroups())
    throw new EngineError('internal', 'can not pause containers on rootless containers with cgroup V1: this container does not have a cgroup');
}

/**
 * A rootless container's cgroup for the spec and stats: `/<base>/containers/<id>` when delegated,
 * undefined (no cgroupsPath, runc makes none) otherwise.
 */
export async function rootlessCgroupPath(id: string): Promise<string | undefined> {
  const p = await rootlessCgroups();
  return p.kind === 'delegated' ? `/${p.base}/containers/${id}` : undefined;
}

/**
 * A container's processes where it has no cgroup to list them (runc ps reads the cgroup): those in its
 * init's PID namespace, or with the host's (`--pid host`) the init and its descendants.
 */
export async function pidsWithoutCgroup(init: number): Promise<number[]> {
  const ns = (pid: number | 'self') => readlink(`/proc/${pid}/ns/pid`).catch(() => undefined);
  const [initNs, ownNs] = await Promise.all([ns(init), ns('self')]);
  if (!initNs) return [];
  const all = (await readdir('/proc')).filter((e) => /^\d+$/.test(e)).map(Number);
  if (initNs !== ownNs) {
    const same = await Promise.all(all.map(async (pid) => ((await ns(pid)) === initNs ? pid : undefined)));
    return same.filter((pid): pid is number => pid !== undefined);
  }
  const parent = new Map<number, number>();
  await Promise.all(
    all.map(async (pid) => {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      parent.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    }),
  );
  const mine = new Set([init]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parent) {
      if (mine.has(pid) || !mine.has(ppid)) continue;
      mine.add(pid);
      grew = true;
    }
  }
  return [...mine];
}
