// The OCI runtime spec of a container: Docker's defaults, the image config, and the create request.
import { EngineError, invalid } from '../errors.js';
import { asList } from '../util/list.js';
import { commandOf } from '../containers/config.js';
import type { ContainerConfig, HostConfig } from '../../openapi/containers.js';
import type { ResolvedUser } from './user.js';
import { ociMount, type MountPoint } from '../volumes/mounts.js';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES, DEFAULT_SHM_SIZE, MASKED_PATHS, READONLY_PATHS, defaultSeccomp } from './defaults.js';
import { loadSeccompProfile } from './seccomp.js';
import { parseSecurityOptions } from './security.js';
import type { Namespaces } from './namespaces.js';

export interface SpecInput {
  id: string;
  config: ContainerConfig; // merged with the image's defaults
  hostConfig: HostConfig;
  rootfs: string;
  user: ResolvedUser;
  etcFiles: { hosts: string; hostname: string; resolvConf: string };
  initBinary?: string; // a static init to run as PID 1 when HostConfig.Init
  nofileLimit: number; // the engine's own RLIMIT_NOFILE hard limit: containers cannot exceed it
  cgroupsPath: string;
  /** The network namespace: the host's, a path to join (bridge networks, container:<id>), or a new one. */
  network: { host: boolean; netns?: string };
  /** PID, IPC and UTS namespaces (namespaces.ts); all new when absent. */
  namespaces?: Namespaces;
  /** The container's mount points (volumes, binds, tmpfs), and where a volume's data is. */
  mounts?: MountPoint[];
  volumePath?: (name: string) => string;
  /** Mount sources pinned at staging mount points, by mount point (VolumeService.activate). */
  staged?: Map<MountPoint, string>;
}

const RLIMITS: Record<string, string> = {
  core: 'RLIMIT_CORE', cpu: 'RLIMIT_CPU', data: 'RLIMIT_DATA', fsize: 'RLIMIT_FSIZE', locks: 'RLIMIT_LOCKS', memlock: 'RLIMIT_MEMLOCK',
  msgqueue: 'RLIMIT_MSGQUEUE', nice: 'RLIMIT_NICE', nofile: 'RLIMIT_NOFILE', nproc: 'RLIMIT_NPROC', rss: 'RLIMIT_RSS',
  rtprio: 'RLIMIT_RTPRIO', rttime: 'RLIMIT_RTTIME', sigpending: 'RLIMIT_SIGPENDING', stack: 'RLIMIT_STACK', as: 'RLIMIT_AS',
};

/** Entrypoint + Cmd, as Docker runs them. */
export function processArgs(config: ContainerConfig): string[] {
  const args = commandOf(config);
  if (args.length === 0) throw invalid('no command specified');
  return args;
}

export function capabilities(hostConfig: HostConfig): string[] {
  if (hostConfig.Privileged) return [...ALL_CAPABILITIES];
  const norm = (c: string) => (c.toUpperCase().startsWith('CAP_') ? c.toUpperCase() : `CAP_${c.toUpperCase()}`);
  const add = asList(hostConfig.CapAdd).map(norm);
  const drop = asList(hostConfig.CapDrop).map(norm);
  let caps = add.includes('CAP_ALL') ? [...ALL_CAPABILITIES] : [...DEFAULT_CAPABILITIES, ...add.filter((c) => c !== 'CAP_ALL')];
  if (drop.includes('CAP_ALL')) caps = add.filter((c) => c !== 'CAP_ALL');
  else caps = caps.filter((c) => !drop.includes(c));
  for (const c of caps) if (!ALL_CAPABILITIES.includes(c)) throw invalid(`unknown capability: "${c}"`);
  return [...new Set(caps)];
}

/** `--device-cgroup-rule 'c 1:3 rwm'` (`*` for any major or minor) as an OCI device rule; moby's regexp and words. */
function deviceRule(rule: string): object {
  const m = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/.exec(rule);
  if (!m) throw new EngineError('internal', `invalid device cgroup rule format: '${rule}'`);
  const num = (v: string) => (v === '*' ? undefined : Number(v));
  return { allow: true, type: m[1], major: num(m[2]!), minor: num(m[3]!), access: m[4] };
}

/** The OCI linux.resources section for a host config (also what `runc update` takes). */
export function buildResources(hc: HostConfig): object {
  const devices: object[] = [{ allow: false, access: 'rwm' }];
  if (hc.Privileged) devices.push({ allow: true, access: 'rwm' });
  else {
    devices.push(
      { allow: true, type: 'c', access: 'm' }, { allow: true, type: 'b', access: 'm' },
      ...[[1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [5, 0], [5, 1], [5, 2], [10, 200]].map(([major, minor]) => ({ allow: true, type: 'c', major, minor, access: 'rwm' })),
      { allow: true, type: 'c', major: 136, access: 'rwm' },
      ...asList(hc.DeviceCgroupRules).map(deviceRule),
    );
  }
  const memory: Record<string, unknown> = {};
  if (hc.Memory) memory.limit = hc.Memory;
  if (hc.MemorySwap) memory.swap = hc.MemorySwap === -1 ? -1 : hc.MemorySwap;
  else if (hc.Memory) memory.swap = hc.Memory * 2; // Docker: swap defaults to twice the memory limit
  if (hc.MemoryReservation) memory.reservation = hc.MemoryReservation;
  if (hc.OomKillDisable) memory.disableOOMKiller = true;
  if (hc.MemorySwappiness != null && hc.MemorySwappiness >= 0) memory.swappiness = hc.MemorySwappiness;
  const cpu: Record<string, unknown> = {};
  if (hc.CpuShares) cpu.shares = hc.CpuShares;
  if (hc.NanoCpus) {
    cpu.period = 100_000;
    cpu.quota = Math.round((hc.NanoCpus * 100_000) / 1e9);
  }
  if (hc.CpuPeriod) cpu.period = hc.CpuPeriod;
  if (hc.CpuQuota) cpu.quota = hc.CpuQuota;
  if (hc.CpusetCpus) cpu.cpus = hc.CpusetCpus;
  if (hc.CpusetMems) cpu.mems = hc.CpusetMems;
  const out: Record<string, unknown> = { devices };
  if (Object.keys(memory).length) out.memory = memory;
  if (Object.keys(cpu).length) out.cpu = cpu;
  if (hc.PidsLimit && hc.PidsLimit > 0) out.pids = { limit: hc.PidsLimit };
  if (hc.BlkioWeight) out.blockIO = { weight: hc.BlkioWeight };
  return out;
}

/**
 * no-new-privileges and the seccomp section from the container's security options (Docker's default
 * profile unless one is given; none when privileged or `seccomp=unconfined`). Create calls it to
 * refuse what start could not use.
 */
export function securityOf(hc: HostConfig, caps = capabilities(hc)): { noNewPrivileges: boolean; writableCgroups: boolean; seccomp?: object } {
  const options = parseSecurityOptions(hc.SecurityOpt);
  const flags = { noNewPrivileges: options.noNewPrivileges, writableCgroups: !!hc.Privileged || !!options.writableCgroups };
  if (hc.Privileged || options.seccomp === 'unconfined') return flags;
  const seccomp = options.seccomp === undefined ? defaultSeccomp(caps) : loadSeccompProfile(options.seccomp, caps);
  return { ...flags, seccomp };
}

export function buildSpec(input: SpecInput): object {
  const { config, hostConfig: hc, user } = input;
  const caps = capabilities(hc);
  const { noNewPrivileges, writableCgroups, seccomp } = securityOf(hc, caps);
  let args = processArgs(config);
  const mounts: object[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', hc.Privileged ? 'rw' : 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', writableCgroups ? 'rw' : 'ro'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  ];
  const ns = input.namespaces;
  // IpcMode none: no /dev/shm; host or a donor's IPC: its /dev/shm too, as dockerd mounts it.
  if (ns?.shm === undefined) mounts.push({ destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${hc.ShmSize || DEFAULT_SHM_SIZE}`] });
  else if (ns.shm !== 'none') mounts.push({ destination: '/dev/shm', type: 'bind', source: ns.shm.bind, options: ['rbind', 'rprivate'] });
  const network = input.network.host;
  mounts.push(
    { destination: '/etc/resolv.conf', type: 'bind', source: input.etcFiles.resolvConf, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hostname', type: 'bind', source: input.etcFiles.hostname, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hosts', type: 'bind', source: input.etcFiles.hosts, options: ['rbind', 'rprivate'] },
  );
  for (const m of input.mounts ?? []) mounts.push(ociMount(m, input.volumePath ?? ((name) => { throw invalid(`volume ${name}: volumes are not available`); }), input.staged?.get(m)));
  for (const [target, options] of Object.entries(hc.Tmpfs ?? {})) {
    mounts.push({ destination: target, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', ...(options ? options.split(',') : [])] });
  }
  if (hc.Init && input.initBinary) {
    mounts.push({ destination: '/sbin/docker-init', type: 'bind', source: input.initBinary, options: ['rbind', 'ro'] });
    args = ['/sbin/docker-init', '--', ...args];
  }
  const namespaces: object[] = [];
  for (const type of ['pid', 'ipc', 'uts'] as const) {
    const mode = ns?.[type];
    if (mode !== 'host') namespaces.push(mode ? { type, path: mode.path } : { type });
  }
  namespaces.push({ type: 'mount' });
  if (!network) namespaces.push(input.network.netns ? { type: 'network', path: input.network.netns } : { type: 'network' });
  namespaces.push({ type: 'cgroup' });
  const rlimits = new Map<string, { type: string; hard: number; soft: number }>();
  rlimits.set('RLIMIT_NOFILE', { type: 'RLIMIT_NOFILE', hard: input.nofileLimit, soft: input.nofileLimit });
  for (const u of hc.Ulimits ?? []) {
    const type = RLIMITS[u.Name];
    if (!type) throw invalid(`invalid ulimit type: ${u.Name}`);
    rlimits.set(type, { type, hard: u.Hard, soft: u.Soft });
  }
  const env = config.Env ?? [];
  const capList = { bounding: caps, effective: caps, permitted: caps };
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: !!config.Tty,
      // The client's terminal size from the start (HostConfig.ConsoleSize is [rows, cols]); resizes follow.
      consoleSize: config.Tty && hc.ConsoleSize?.[0] && hc.ConsoleSize[1] ? { height: hc.ConsoleSize[0], width: hc.ConsoleSize[1] } : undefined,
      user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids.length ? user.additionalGids : undefined },
      args,
      env,
      cwd: config.WorkingDir || '/',
      // Docker gives non-root users the bounding set only; effective caps come from file caps or setuid.
      capabilities: user.uid === 0 ? capList : { bounding: caps, effective: [], permitted: [] },
      rlimits: [...rlimits.values()],
      noNewPrivileges,
      oomScoreAdj: hc.OomScoreAdj ?? 0,
    },
    root: { path: input.rootfs, readonly: !!hc.ReadonlyRootfs },
    hostname: network || ns?.uts === 'host' ? undefined : config.Hostname, // runc sets none without a UTS namespace of its own
    mounts,
    linux: {
      resources: buildResources(hc),
      cgroupsPath: input.cgroupsPath,
      namespaces,
      sysctl: hc.Sysctls ?? undefined,
      seccomp,
      maskedPaths: hc.Privileged ? undefined : MASKED_PATHS,
      readonlyPaths: hc.Privileged ? undefined : READONLY_PATHS,
    },
  };
}

/** `-v /host:/ctr[:ro|rw|z|Z|...]` for host directories. Named volumes arrive with the volumes issue. */
