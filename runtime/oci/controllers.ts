// The cgroup controllers this host gives containers, and what dockerd does with a limit whose controller
// is missing (daemon_unix.go verifyPlatformContainerResources, checked against dockerd on a v2 hierarchy
// without memory, cpu, cpuset, pids and io): the limit is discarded with a warning in the create or
// update answer, except NanoCpus, which is refused. runc would fail the start instead ("openat2
// .../memory.max: no such file or directory"). Common where a kernel disables a controller (a Raspberry
// Pi's memory cgroup) or where v1 keeps controllers from the v2 hierarchy (a hybrid host).
import { access, readFile } from 'node:fs/promises';
import type { ResourcesSpec } from '../containers/spec.js';
import { invalid } from '../errors.js';
import { rootlessCgroups } from '../rootless/cgroups.js';
import { rootless } from '../rootless/mode.js';

let cached: Promise<string[]> | undefined;

/** The controllers available (v1: those mounted, in /proc/cgroups order; v2: the root's), read once. */
export function hostControllers(): Promise<string[]> {
  cached ??= (async () => {
    const v2 = await access('/sys/fs/cgroup/cgroup.controllers').then(
      () => true,
      () => false,
    );
    if (v2) return (await readFile('/sys/fs/cgroup/cgroup.controllers', 'utf8').catch(() => '')).trim().split(/\s+/).filter(Boolean);
    // v1: `subsys hierarchy num enabled`; hierarchy 0 = not mounted.
    return (await readFile('/proc/cgroups', 'utf8').catch(() => ''))
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(/\s+/))
      .filter(([, hierarchy, , enabled]) => hierarchy !== '0' && enabled === '1')
      .map(([name]) => name!);
  })();
  return cached;
}

/**
 * The controllers containers get: the host's, or a rootless engine's delegated ones (none on v1 or
 * without a delegated cgroup, as rootless podman's info says `[]`).
 */
export async function containerControllers(): Promise<string[]> {
  if (!rootless()) return hostControllers();
  const plan = await rootlessCgroups();
  return plan.kind === 'delegated' ? plan.controllers : [];
}

/** What the limits can use: v2's names (v1's blkio is io). */
export function limitSupport(controllers: string[]): Set<string> {
  return new Set(controllers.map((c) => (c === 'blkio' ? 'io' : c)));
}

/** dockerd's rules: each [when set, controller, warning, the fields it clears]. */
const RULES: [(r: ResourcesSpec) => boolean, string, string, (keyof ResourcesSpec)[]][] = [
  [
    (r) => (r.memory ?? 0) > 0,
    'memory',
    'Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.',
    ['memory', 'memorySwap'],
  ],
  [
    (r) => (r.memoryReservation ?? 0) > 0,
    'memory',
    'Your kernel does not support memory soft limit capabilities or the cgroup is not mounted. Limitation discarded.',
    ['memoryReservation'],
  ],
  [(r) => r.oomKillDisable === true, 'memory', 'Your kernel does not support OomKillDisable. OomKillDisable discarded.', ['oomKillDisable']],
  [
    (r) => (r.pidsLimit ?? 0) > 0,
    'pids',
    'Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.',
    ['pidsLimit'],
  ],
  [(r) => (r.cpuShares ?? 0) > 0, 'cpu', 'Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.', ['cpuShares']],
  [(r) => !!r.cpuPeriod || !!r.cpuQuota, 'cpu', 'Your kernel does not support CPU CFS scheduler. CPU period/quota discarded.', ['cpuPeriod', 'cpuQuota']],
  [
    (r) => !!r.cpusetCpus || !!r.cpusetMems,
    'cpuset',
    'Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.',
    ['cpusetCpus', 'cpusetMems'],
  ],
  [(r) => (r.blkioWeight ?? 0) > 0, 'io', 'Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.', ['blkioWeight']],
];

/** The limits the host can hold and dockerd's warnings for those dropped; NanoCpus without cpu is refused (400). */
export function supportedLimits(r: ResourcesSpec, support: Set<string>): { resources: ResourcesSpec; warnings: string[] } {
  if ((r.nanoCpus ?? 0) > 0 && !support.has('cpu'))
    throw invalid('NanoCPUs can not be set, as your kernel does not support CPU CFS scheduler or the cgroup is not mounted');
  const resources = { ...r };
  const warnings: string[] = [];
  for (const [set, controller, warning, fields] of RULES) {
    if (support.has(controller) || !set(resources)) continue;
    warnings.push(warning);
    for (const f of fields) delete resources[f];
  }
  return { resources, warnings };
}
