// A container's resource usage as Docker's stats document, read from its cgroup (cgroupfs layout,
// `/berth/<id>`, v1 or v2) and /proc the way containerd's cgroup metrics and dockerd read them.
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import type { HostFacts } from '../system/host.js';
import type { Container, ContainerStore } from './store.js';
import { isLive } from './state.js';
import { cgroupMounts, containerCgroup } from '../oci/cgroups.js';
import { refuseRootlessStats, rootlessCgroupPath } from '../rootless/cgroups.js';
import { rootless } from '../rootless/mode.js';

export type StatsHost = Pick<HostFacts, 'cgroupVersion' | 'memTotal'>;

// The document's parts, named as moby's StatsJSON names them (Go's uint64 counters as numbers; `?` is
// what Go's omitempty leaves out when zero). The server's schema (openapi/stats.ts) has the same shape.
export interface BlkioStatEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}
type BlkioList = BlkioStatEntry[] | null;
export interface BlkioStats {
  io_service_bytes_recursive: BlkioList;
  io_serviced_recursive: BlkioList;
  io_queue_recursive: BlkioList;
  io_service_time_recursive: BlkioList;
  io_wait_time_recursive: BlkioList;
  io_merged_recursive: BlkioList;
  io_time_recursive: BlkioList;
  sectors_recursive: BlkioList;
}
export interface CpuStats {
  cpu_usage: { total_usage: number; percpu_usage?: number[]; usage_in_kernelmode: number; usage_in_usermode: number };
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}
export interface MemoryStats {
  usage?: number;
  max_usage?: number; // cgroup v1 only
  stats?: Record<string, number>;
  failcnt?: number;
  limit?: number;
}
export interface NetworkStats {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
}
export interface PidsStats {
  current?: number;
  limit?: number;
}
/** One stats document: a reading, the read time and CPU figures of the one before, the container's name and ID. */
export interface ContainerStats {
  read: string;
  preread: string;
  pids_stats: PidsStats;
  blkio_stats: BlkioStats;
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: CpuStats;
  precpu_stats: CpuStats;
  memory_stats: MemoryStats;
  name: string;
  id: string;
  networks?: Record<string, NetworkStats>;
}

/** Go's zero time: dockerd's `read`/`preread` when there is no reading. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';
/** sysconf(_SC_CLK_TCK): 100 on every Linux; containerd and dockerd hard-code it too. */
const USER_HZ = 100;
const INTERVAL_MS = 1000;

/** One reading: a document without the pre* fields, which come from the reading before it. */
type Reading = Omit<ContainerStats, 'preread' | 'precpu_stats'>;
type CgroupReading = Pick<Reading, 'pids_stats' | 'blkio_stats' | 'cpu_stats' | 'memory_stats'>;

// memory_stats.stats: the fixed key sets dockerd copies out of containerd's metrics (missing keys are 0).
const V1_MEMORY_KEYS = [
  'cache',
  'rss',
  'rss_huge',
  'mapped_file',
  'dirty',
  'writeback',
  'pgpgin',
  'pgpgout',
  'pgfault',
  'pgmajfault',
  'inactive_anon',
  'active_anon',
  'inactive_file',
  'active_file',
  'unevictable',
  'hierarchical_memory_limit',
  'hierarchical_memsw_limit',
  'total_cache',
  'total_rss',
  'total_rss_huge',
  'total_mapped_file',
  'total_dirty',
  'total_writeback',
  'total_pgpgin',
  'total_pgpgout',
  'total_pgfault',
  'total_pgmajfault',
  'total_inactive_anon',
  'total_active_anon',
  'total_inactive_file',
  'total_active_file',
  'total_unevictable',
];
const V2_MEMORY_KEYS = [
  'anon',
  'file',
  'kernel_stack',
  'slab',
  'sock',
  'shmem',
  'file_mapped',
  'file_dirty',
  'file_writeback',
  'anon_thp',
  'inactive_anon',
  'active_anon',
  'inactive_file',
  'active_file',
  'unevictable',
  'slab_reclaimable',
  'slab_unreclaimable',
  'pgfault',
  'pgmajfault',
  'workingset_refault',
  'workingset_activate',
  'workingset_nodereclaim',
  'pgrefill',
  'pgscan',
  'pgsteal',
  'pgactivate',
  'pgdeactivate',
  'pglazyfree',
  'pglazyfreed',
  'thp_fault_alloc',
  'thp_collapse_alloc',
];
/** Per-namespace fallback devices the kernel's tunnel modules add to every netns; not the container's. */
const KERNEL_DEVICES = new Set(['lo', 'tunl0', 'sit0', 'ip6tnl0', 'ip6gre0', 'gre0', 'gretap0', 'erspan0', 'ip_vti0', 'ip6_vti0']);

const text = (path: string) => readFile(path, 'utf8').catch(() => undefined);
/** A counter file; "max" (no limit) and anything unreadable count 0, as containerd's parsers do. */
const num = (s: string | undefined) => {
  const n = Number(s?.trim());
  return Number.isFinite(n) ? n : 0;
};
/** `key value` lines: memory.stat, cpu.stat, cpuacct.stat, memory.events. */
const keyed = (s: string | undefined) =>
  new Map(
    (s ?? '')
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length === 2)
      .map(([k, v]) => [k!, Number(v)]),
  );
/** Go marshals maps with their keys sorted. */
const sortedKeys = <T>(o: Record<string, T>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
const pick = (values: Map<string, number>, keys: string[]) => sortedKeys(Object.fromEntries(keys.map((k) => [k, values.get(k) ?? 0])));

const pids = (current: string | undefined, max: string | undefined): PidsStats => omitZeros({ current: num(current), limit: num(max) });

/** Go's omitempty for the number fields of a struct. */
function omitZeros<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== 0 && v !== undefined)) as T;
}

/** Memory limit as dockerd reports it: the host's memory when the cgroup's limit is above it (none). */
const memLimit = (raw: string | undefined, memTotal: number) => (raw?.trim() === 'max' ? memTotal : Math.min(num(raw), memTotal));

/** blkio.* v1 files: `major:minor Op value` lines and a `Total` line containerd skips. */
function blkioV1(s: string | undefined): BlkioStatEntry[] {
  const out: BlkioStatEntry[] = [];
  for (const line of (s ?? '').split('\n')) {
    const f = line.trim().split(/[\s:]+/);
    if (f.length < 3 || f[0] === 'Total') continue;
    const [major, minor, op, value] = f.length === 4 ? f : [f[0], f[1], '', f[2]];
    out.push({ major: Number(major), minor: Number(minor), op: op!, value: Number(value) });
  }
  return out;
}

/** io.stat (v2): dockerd turns each device into a `read` and a `write` bytes entry; none is null. */
function ioStatV2(s: string | undefined): BlkioStatEntry[] | null {
  const out: BlkioStatEntry[] = [];
  for (const line of (s ?? '').split('\n')) {
    const [device, ...pairs] = line.trim().split(/\s+/);
    const [major, minor] = (device ?? '').split(':').map(Number);
    if (major === undefined || minor === undefined || Number.isNaN(minor)) continue;
    const values = new Map(pairs.map((p) => p.split('=') as [string, string]));
    out.push({ major, minor, op: 'read', value: num(values.get('rbytes')) }, { major, minor, op: 'write', value: num(values.get('wbytes')) });
  }
  return out.length ? out : null;
}

const blkio = (bytes: BlkioStatEntry[] | null, serviced: BlkioStatEntry[] | null, others: [] | null): BlkioStats => ({
  io_service_bytes_recursive: bytes,
  io_serviced_recursive: serviced,
  io_queue_recursive: others,
  io_service_time_recursive: others,
  io_wait_time_recursive: others,
  io_merged_recursive: others,
  io_time_recursive: others,
  sectors_recursive: others,
});

async function readV1(cgroup: string, memTotal: number): Promise<CgroupReading | undefined> {
  const { v1 } = await cgroupMounts();
  const file = (controller: string, name: string) => text(join(v1.get(controller) ?? join('/sys/fs/cgroup', controller), cgroup, name));
  const [usage, perCpu, acct, cpuStat, memUsage, memMax, memLimitRaw, failcnt, memStat, pidsCurrent, pidsMax, ioBytes, ioServiced] = await Promise.all([
    file('cpuacct', 'cpuacct.usage'),
    file('cpuacct', 'cpuacct.usage_percpu'),
    file('cpuacct', 'cpuacct.stat'),
    file('cpu', 'cpu.stat'),
    file('memory', 'memory.usage_in_bytes'),
    file('memory', 'memory.max_usage_in_bytes'),
    file('memory', 'memory.limit_in_bytes'),
    file('memory', 'memory.failcnt'),
    file('memory', 'memory.stat'),
    file('pids', 'pids.current'),
    file('pids', 'pids.max'),
    // No CFQ on current kernels: containerd falls back to the throttle files, which count every device.
    file('blkio', 'blkio.throttle.io_service_bytes_recursive'),
    file('blkio', 'blkio.throttle.io_serviced_recursive'),
  ]);
  if (usage === undefined) return undefined; // the cgroup is gone: the container exited meanwhile
  const ticks = keyed(acct);
  const throttling = keyed(cpuStat);
  const percpu = (perCpu ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
  return {
    pids_stats: pids(pidsCurrent, pidsMax),
    blkio_stats: blkio(blkioV1(ioBytes), blkioV1(ioServiced), []),
    cpu_stats: {
      cpu_usage: {
        total_usage: num(usage),
        ...(percpu.length ? { percpu_usage: percpu } : {}),
        usage_in_kernelmode: ((ticks.get('system') ?? 0) * 1e9) / USER_HZ,
        usage_in_usermode: ((ticks.get('user') ?? 0) * 1e9) / USER_HZ,
      },
      throttling_data: {
        periods: throttling.get('nr_periods') ?? 0,
        throttled_periods: throttling.get('nr_throttled') ?? 0,
        throttled_time: throttling.get('throttled_time') ?? 0,
      },
    },
    memory_stats: memory({
      usage: num(memUsage),
      max_usage: num(memMax),
      stats: pick(keyed(memStat), V1_MEMORY_KEYS),
      failcnt: num(failcnt),
      limit: memLimit(memLimitRaw, memTotal),
    }),
  };
}

async function readV2(cgroup: string, memTotal: number): Promise<CgroupReading | undefined> {
  const { v2 = '/sys/fs/cgroup' } = await cgroupMounts();
  const file = (name: string) => text(join(v2, cgroup, name));
  const [cpuStat, memCurrent, memMax, memStat, memEvents, pidsCurrent, pidsMax, io] = await Promise.all(
    ['cpu.stat', 'memory.current', 'memory.max', 'memory.stat', 'memory.events', 'pids.current', 'pids.max', 'io.stat'].map(file),
  );
  if (cpuStat === undefined) return undefined; // the cgroup is gone: the container exited meanwhile
  const cpu = keyed(cpuStat);
  const usec = (k: string) => (cpu.get(k) ?? 0) * 1000;
  return {
    pids_stats: pids(pidsCurrent, pidsMax),
    blkio_stats: blkio(ioStatV2(io), null, null),
    cpu_stats: {
      cpu_usage: { total_usage: usec('usage_usec'), usage_in_kernelmode: usec('system_usec'), usage_in_usermode: usec('user_usec') },
      throttling_data: { periods: cpu.get('nr_periods') ?? 0, throttled_periods: cpu.get('nr_throttled') ?? 0, throttled_time: usec('throttled_usec') },
    },
    // dockerd's failcnt on v2 is the `oom` count of memory.events.
    memory_stats: memory({
      usage: num(memCurrent),
      stats: pick(keyed(memStat), V2_MEMORY_KEYS),
      failcnt: keyed(memEvents).get('oom') ?? 0,
      limit: memLimit(memMax, memTotal),
    }),
  };
}

/** memory_stats in Go's field order, zero numbers left out (omitempty). */
const memory = (m: Required<Pick<MemoryStats, 'usage' | 'stats' | 'failcnt' | 'limit'>> & { max_usage?: number }): MemoryStats =>
  omitZeros({ usage: m.usage, max_usage: m.max_usage, stats: m.stats, failcnt: m.failcnt, limit: m.limit });

/** The host's CPU time (ns, the first seven /proc/stat `cpu` fields) and online CPUs, as dockerd counts them. */
async function systemCpu(): Promise<{ system_cpu_usage: number; online_cpus: number }> {
  const lines = ((await text('/proc/stat')) ?? '').split('\n');
  const total =
    lines
      .find((l) => l.startsWith('cpu '))
      ?.trim()
      .split(/\s+/)
      .slice(1, 8)
      .reduce((sum, v) => sum + Number(v), 0) ?? 0;
  return { system_cpu_usage: (total * 1e9) / USER_HZ, online_cpus: lines.filter((l) => /^cpu\d/.test(l)).length };
}

/**
 * Per-interface counters of the container's network namespace. dockerd reports the interfaces of the
 * sandbox it built: none for `--network none` (only lo) and none for host networking.
 */
async function networkStats(c: Container): Promise<Record<string, NetworkStats> | undefined> {
  if (c.spec.namespaces.network === 'host' || c.spec.network.disabled || c.pid <= 0) return undefined;
  const out: Record<string, NetworkStats> = {};
  for (const line of ((await text(`/proc/${c.pid}/net/dev`)) ?? '').split('\n').slice(2)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim();
    if (colon < 0 || KERNEL_DEVICES.has(name)) continue;
    const v = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    // Receive: bytes packets errs drop fifo frame compressed multicast; transmit: bytes packets errs drop ...
    out[name] = {
      rx_bytes: v[0] ?? 0,
      rx_packets: v[1] ?? 0,
      rx_errors: v[2] ?? 0,
      rx_dropped: v[3] ?? 0,
      tx_bytes: v[8] ?? 0,
      tx_packets: v[9] ?? 0,
      tx_errors: v[10] ?? 0,
      tx_dropped: v[11] ?? 0,
    };
  }
  return Object.keys(out).length ? sortedKeys(out) : undefined;
}

/** Now as Go prints a time.Time (RFC 3339, trailing zeros of the fraction trimmed); milliseconds here. */
const now = () => new Date().toISOString().replace(/\.?0*Z$/, 'Z');

const zeroCpu = (): CpuStats => ({
  cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
  throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
});

/** What dockerd publishes for a container that is not running: its name and ID, every value zero. */
const emptyReading = (c: Container): Reading => ({
  read: ZERO_TIME,
  pids_stats: {},
  blkio_stats: blkio(null, null, null),
  num_procs: 0,
  storage_stats: {},
  cpu_stats: zeroCpu(),
  memory_stats: {},
  name: `/${c.name}`,
  id: c.id,
});

/** A reading of a running container; undefined when its cgroup is gone. */
export async function readStats(c: Container, host: StatsHost): Promise<Reading | undefined> {
  refuseRootlessStats();
  const read = now();
  // Rootless: the delegated cgroup's path (rootless/cgroups.ts), or none to read.
  const cgroup = rootless() ? (await rootlessCgroupPath(c.id))?.slice(1) : containerCgroup(c.id, c.spec.cgroupParent);
  const [reading, system, networks] = await Promise.all([
    cgroup === undefined ? undefined : host.cgroupVersion === '2' ? readV2(cgroup, host.memTotal) : readV1(cgroup, host.memTotal),
    systemCpu(),
    networkStats(c),
  ]);
  if (!reading) return undefined;
  const { cpu_usage, throttling_data } = reading.cpu_stats;
  return {
    read,
    pids_stats: reading.pids_stats,
    blkio_stats: reading.blkio_stats,
    num_procs: 0,
    storage_stats: {},
    cpu_stats: { cpu_usage, ...system, throttling_data },
    memory_stats: reading.memory_stats,
    name: `/${c.name}`,
    id: c.id,
    ...(networks ? { networks } : {}),
  };
}

/** The document in Go's field order: a reading plus the read time and CPU figures of the one before. */
function documentOf(r: Reading, pre: { read: string; cpu: CpuStats }): ContainerStats {
  const { read, pids_stats, blkio_stats, num_procs, storage_stats, cpu_stats, memory_stats, name, id, networks } = r;
  return {
    read,
    preread: pre.read,
    pids_stats,
    blkio_stats,
    num_procs,
    storage_stats,
    cpu_stats,
    precpu_stats: pre.cpu,
    memory_stats,
    name,
    id,
    ...(networks ? { networks } : {}),
  };
}

const hasProcess = (c: Container) => isLive(c) && c.pid > 0;

export interface StatsOptions {
  stream: boolean;
  oneShot: boolean;
  /** The client went away: stop sampling. */
  signal?: AbortSignal;
}

/**
 * dockerd's sequence of documents. Streaming: one at once, then one a second (zeroed ones while the
 * container is not running) until the container is removed or the signal aborts. Not streaming: a
 * zeroed one at once for a container that is not running; for one-shot the first reading; otherwise the
 * second of two readings a second apart, so that precpu_stats is filled.
 */
export function statsDocuments(store: ContainerStore, id: string, host: StatsHost, options: StatsOptions): AsyncGenerator<ContainerStats> {
  refuseRootlessStats(); // before any answer is under way
  return documents(store, id, host, options);
}

async function* documents(store: ContainerStore, id: string, host: StatsHost, options: StatsOptions): AsyncGenerator<ContainerStats> {
  let pre = { read: ZERO_TIME, cpu: zeroCpu() };
  const next = async (): Promise<ContainerStats | undefined> => {
    const c = store.get(id);
    if (!c) return undefined;
    const reading = (hasProcess(c) && (await readStats(c, host))) || emptyReading(c);
    const doc = documentOf(reading, pre);
    pre = { read: reading.read, cpu: reading.cpu_stats };
    return doc;
  };
  const wait = (ms: number) =>
    sleep(ms, undefined, { signal: options.signal }).then(
      () => true,
      () => false,
    );

  if (!options.stream) {
    const c = store.get(id);
    if (!c) return;
    if (!hasProcess(c)) {
      yield documentOf(emptyReading(c), pre);
      return;
    }
    const first = await next();
    if (first && options.oneShot) yield first;
    if (!first || options.oneShot || !(await wait(INTERVAL_MS))) return;
    const second = await next();
    if (second) yield second;
    return;
  }
  for (;;) {
    const started = Date.now();
    const doc = await next();
    if (!doc) return;
    yield doc;
    if (!(await wait(Math.max(0, INTERVAL_MS - (Date.now() - started))))) return;
  }
}
