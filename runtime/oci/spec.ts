// The OCI runtime spec of a container: Docker's defaults and the container's spec (image defaults merged in).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { EngineError, invalid } from '../errors.js';
import { commandOf } from '../containers/config.js';
import type { ContainerSpec, DeviceSpec, ResourcesSpec, SecuritySpec } from '../containers/spec.js';
import type { ResolvedUser } from './user.js';
import { ociMount, type MountPoint } from '../volumes/mounts.js';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES, DEFAULT_SHM_SIZE, MASKED_PATHS, READONLY_PATHS, defaultSeccomp } from './defaults.js';
import { loadSeccompProfile } from './seccomp.js';
import { parseSecurityOptions } from './security.js';
import type { Namespaces } from './namespaces.js';
import { rootless } from '../rootless/mode.js';
import { ownHardLimits } from './own-limits.js';

export interface SpecInput {
  id: string;
  spec: ContainerSpec;
  /** The process environment (the spec's with the engine's additions: links, HOSTNAME, HOME...). */
  env: string[];
  rootfs: string;
  user: ResolvedUser;
  etcFiles: { hosts: string; hostname: string; resolvConf: string };
  initBinary?: string; // a static init to run as PID 1 when the spec asks for one
  nofileLimit: number; // the engine's own RLIMIT_NOFILE hard limit: containers cannot exceed it
  /** The container's cgroup; none for a rootless container without a delegated cgroup (runc makes none, no resources). */
  cgroupsPath?: string;
  /** The limits that apply (a rootless engine's, without those its cgroups cannot hold); the spec's by default. */
  resources?: ResourcesSpec;
  /** The network namespace: the host's, a path to join (bridge networks, container:<id>), or a new one. */
  network: { host: boolean; netns?: string };
  /** PID, IPC and UTS namespaces (namespaces.ts); all new when absent. */
  namespaces?: Namespaces;
  /** The container's mount points (volumes, binds, tmpfs), and where a volume's data is. */
  mounts?: MountPoint[];
  volumePath?: (name: string) => string;
  /** Mount sources pinned at staging mount points, by mount point (VolumeService.activate). */
  staged?: Map<MountPoint, string>;
  /** Binds the engine adds last (a container's secrets). */
  extraMounts?: object[];
}

const RLIMITS: Record<string, string> = {
  core: 'RLIMIT_CORE',
  cpu: 'RLIMIT_CPU',
  data: 'RLIMIT_DATA',
  fsize: 'RLIMIT_FSIZE',
  locks: 'RLIMIT_LOCKS',
  memlock: 'RLIMIT_MEMLOCK',
  msgqueue: 'RLIMIT_MSGQUEUE',
  nice: 'RLIMIT_NICE',
  nofile: 'RLIMIT_NOFILE',
  nproc: 'RLIMIT_NPROC',
  rss: 'RLIMIT_RSS',
  rtprio: 'RLIMIT_RTPRIO',
  rttime: 'RLIMIT_RTTIME',
  sigpending: 'RLIMIT_SIGPENDING',
  stack: 'RLIMIT_STACK',
  as: 'RLIMIT_AS',
};

/** Entrypoint + command, as Docker runs them. */
export function processArgs(spec: ContainerSpec): string[] {
  const args = commandOf(spec);
  if (args.length === 0) throw invalid('no command specified');
  return args;
}

export function capabilities(security: Pick<SecuritySpec, 'privileged' | 'capAdd' | 'capDrop'>): string[] {
  if (security.privileged) return [...ALL_CAPABILITIES];
  const norm = (c: string) => (c.toUpperCase().startsWith('CAP_') ? c.toUpperCase() : `CAP_${c.toUpperCase()}`);
  const add = (security.capAdd ?? []).map(norm);
  const drop = (security.capDrop ?? []).map(norm);
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

/** A host device as the OCI spec makes it in the container, and the cgroup rule that allows it. */
export function deviceOf(d: DeviceSpec): { node: object; rule: object } {
  let st;
  try {
    st = statSync(d.host, { bigint: true });
  } catch {
    throw invalid(`stat ${d.host}: no such file or directory`);
  }
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : undefined;
  if (!type) throw invalid(`${d.host} is not a device`);
  const major = Number(((st.rdev >> 8n) & 0xfffn) | ((st.rdev >> 32n) & ~0xfffn));
  const minor = Number((st.rdev & 0xffn) | ((st.rdev >> 12n) & ~0xffn));
  return {
    node: { path: d.container, type, major, minor, fileMode: Number(st.mode & 0o777n), uid: 0, gid: 0 },
    rule: { allow: true, type, major, minor, access: d.permissions },
  };
}

function withDevices(resources: object, devices: { rule: object }[]): object {
  const r = resources as { devices: object[] };
  r.devices.push(...devices.map((d) => d.rule));
  return r;
}

/** The OCI linux.resources section for a container's resources (also what `runc update` takes). */
export function buildResources(r: ResourcesSpec, privileged: boolean): object {
  const devices: object[] = [{ allow: false, access: 'rwm' }];
  if (privileged) devices.push({ allow: true, access: 'rwm' });
  else {
    devices.push(
      { allow: true, type: 'c', access: 'm' },
      { allow: true, type: 'b', access: 'm' },
      ...[
        [1, 3],
        [1, 5],
        [1, 7],
        [1, 8],
        [1, 9],
        [5, 0],
        [5, 1],
        [5, 2],
        [10, 200],
      ].map(([major, minor]) => ({ allow: true, type: 'c', major, minor, access: 'rwm' })),
      { allow: true, type: 'c', major: 136, access: 'rwm' },
      ...(r.deviceRules ?? []).map(deviceRule),
    );
  }
  const memory: Record<string, unknown> = {};
  if (r.memory) memory.limit = r.memory;
  if (r.memorySwap) memory.swap = r.memorySwap === -1 ? -1 : r.memorySwap;
  else if (r.memory) memory.swap = r.memory * 2; // Docker: swap defaults to twice the memory limit
  if (r.memoryReservation) memory.reservation = r.memoryReservation;
  if (r.oomKillDisable) memory.disableOOMKiller = true;
  if (r.memorySwappiness != null && r.memorySwappiness >= 0) memory.swappiness = r.memorySwappiness;
  const cpu: Record<string, unknown> = {};
  if (r.cpuShares) cpu.shares = r.cpuShares;
  if (r.nanoCpus) {
    cpu.period = 100_000;
    cpu.quota = Math.round((r.nanoCpus * 100_000) / 1e9);
  }
  if (r.cpuPeriod) cpu.period = r.cpuPeriod;
  if (r.cpuQuota) cpu.quota = r.cpuQuota;
  if (r.cpusetCpus) cpu.cpus = r.cpusetCpus;
  if (r.cpusetMems) cpu.mems = r.cpusetMems;
  const out: Record<string, unknown> = { devices };
  if (Object.keys(memory).length) out.memory = memory;
  if (Object.keys(cpu).length) out.cpu = cpu;
  if (r.pidsLimit && r.pidsLimit > 0) out.pids = { limit: r.pidsLimit };
  if (r.blkioWeight) out.blockIO = { weight: r.blkioWeight };
  return out;
}

/**
 * A rootless container cannot mount what belongs to a namespace of the host's user namespace: sysfs of
 * the host's network namespace, proc of its PID namespace, mqueue of its IPC namespace (EPERM). The
 * host's are bound instead, as podman does; /sys then brings its cgroup mounts along.
 */
function rootlessMounts(mounts: object[], o: { hostNetwork: boolean; hostPid: boolean; hostIpc: boolean; foreignIpc: boolean; privileged: boolean }): void {
  const replace = (destination: string, by: object | undefined) => {
    const at = mounts.findIndex((m) => (m as { destination: string }).destination === destination);
    if (at < 0) return;
    if (by) mounts.splice(at, 1, by);
    else mounts.splice(at, 1);
  };
  if (o.hostNetwork) {
    replace('/sys', { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', o.privileged ? 'rw' : 'ro'] });
    replace('/sys/fs/cgroup', undefined);
  }
  if (o.hostPid) replace('/proc', { destination: '/proc', type: 'bind', source: '/proc', options: ['rbind', 'nosuid', 'noexec', 'nodev'] });
  // The host's mqueue where it has one mounted there (this VM has none: then no /dev/mqueue at all).
  if (o.hostIpc)
    replace(
      '/dev/mqueue',
      existsSync('/dev/mqueue')
        ? { destination: '/dev/mqueue', type: 'bind', source: '/dev/mqueue', options: ['rbind', 'nosuid', 'noexec', 'nodev'] }
        : undefined,
    );
  if (o.foreignIpc) replace('/dev/mqueue', undefined);
}

let oomScoreAdj: number | undefined;

/** The engine's own oom_score_adj (read once: nothing changes it). */
function ownOomScoreAdj(): number {
  oomScoreAdj ??= Number(readOr('/proc/self/oom_score_adj', '0').trim()) || 0;
  return oomScoreAdj;
}

function readOr(file: string, fallback: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

/** buildResources without the device rules. */
function buildLimits(r: ResourcesSpec): object {
  const { devices: _devices, ...limits } = buildResources(r, false) as { devices?: unknown };
  return limits;
}

/**
 * no-new-privileges and the seccomp section from the container's security options (Docker's default
 * profile unless one is given; none when privileged or `seccomp=unconfined`). Create calls it to
 * refuse what start could not use.
 */
export function securityOf(s: SecuritySpec, caps = capabilities(s)): { noNewPrivileges: boolean; writableCgroups: boolean; seccomp?: object } {
  const options = parseSecurityOptions(s.options);
  const flags = { noNewPrivileges: options.noNewPrivileges, writableCgroups: s.privileged || !!options.writableCgroups };
  if (s.privileged || options.seccomp === 'unconfined') return flags;
  const seccomp = options.seccomp === undefined ? defaultSeccomp(caps) : loadSeccompProfile(options.seccomp, caps);
  return { ...flags, seccomp };
}

export function buildSpec(input: SpecInput): object {
  const { spec, user } = input;
  const { process: p, security: s } = spec;
  const caps = capabilities(s);
  const { noNewPrivileges, writableCgroups, seccomp } = securityOf(s, caps);
  let args = processArgs(spec);
  const mounts: object[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', s.privileged ? 'rw' : 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', writableCgroups ? 'rw' : 'ro'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  ];
  const ns = input.namespaces;
  // IpcMode none: no /dev/shm; host or a donor's IPC: its /dev/shm too, as dockerd mounts it.
  if (ns?.shm === undefined)
    mounts.push({
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${spec.resources.shmSize || DEFAULT_SHM_SIZE}`],
    });
  else if (ns.shm !== 'none') mounts.push({ destination: '/dev/shm', type: 'bind', source: ns.shm.bind, options: ['rbind', 'rprivate'] });
  const network = input.network.host;
  mounts.push(
    { destination: '/etc/resolv.conf', type: 'bind', source: input.etcFiles.resolvConf, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hostname', type: 'bind', source: input.etcFiles.hostname, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hosts', type: 'bind', source: input.etcFiles.hosts, options: ['rbind', 'rprivate'] },
  );
  for (const m of input.mounts ?? [])
    mounts.push(
      ociMount(
        m,
        input.volumePath ??
          ((name) => {
            throw invalid(`volume ${name}: volumes are not available`);
          }),
        input.staged?.get(m),
      ),
    );
  for (const [target, options] of Object.entries(spec.mounts.tmpfs ?? {})) {
    mounts.push({ destination: target, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', ...(options ? options.split(',') : [])] });
  }
  if (p.timezone) {
    const zone = p.timezone === 'local' ? '/etc/localtime' : `/usr/share/zoneinfo/${p.timezone}`;
    mounts.push({ destination: '/etc/localtime', type: 'bind', source: zone, options: ['rbind', 'ro', 'rprivate'] });
  }
  mounts.push(...(input.extraMounts ?? []));
  if (p.init && input.initBinary) {
    mounts.push({ destination: '/sbin/docker-init', type: 'bind', source: input.initBinary, options: ['rbind', 'ro'] });
    args = ['/sbin/docker-init', '--', ...args];
  }
  const namespaces: object[] = [];
  for (const type of ['pid', 'ipc', 'uts'] as const) {
    const mode = ns?.[type];
    if (mode !== 'host') namespaces.push(mode ? { type, path: mode.path } : { type });
  }
  namespaces.push({ type: 'mount' });
  // runc joins a user namespace before the others: an engine-made network namespace (a bridge's, a
  // pod's) of such a container was made in it (rootless/netns-owner.ts), and the user namespace is
  // joined by path (pinned for a new one).
  const userPath = ns?.userPath;
  if (ns?.user) namespaces.push(userPath ? { type: 'user', path: userPath } : { type: 'user' });
  // Nor can a new user namespace mount /proc for a PID namespace it joins (runc's error would be about its oom count).
  if (ns?.user && !userPath && typeof ns.pid === 'object')
    throw new EngineError(
      'internal',
      'berth cannot run a container in a user namespace of its own and another container’s PID namespace (a pod with --userns and --share pid on a bridge, --pid container:<id> with --userns): its /proc cannot be mounted there',
    );
  if (!network) namespaces.push(input.network.netns ? { type: 'network', path: input.network.netns } : { type: 'network' });
  namespaces.push(ns?.cgroup && ns.cgroup !== 'host' ? { type: 'cgroup', path: ns.cgroup.path } : { type: 'cgroup' });
  const rlimits = new Map<string, { type: string; hard: number; soft: number }>();
  rlimits.set('RLIMIT_NOFILE', { type: 'RLIMIT_NOFILE', hard: input.nofileLimit, soft: input.nofileLimit });
  for (const u of p.rlimits ?? []) {
    const type = RLIMITS[u.name];
    if (!type) throw invalid(`invalid ulimit type: ${u.name}`);
    // Raising a hard limit takes CAP_SYS_RESOURCE in the host's user namespace: runc would fail with
    // "error setting rlimit type N: operation not permitted".
    const own = rootless() ? ownHardLimits().get(type) : undefined;
    if (own !== undefined && u.hard > own) {
      throw new EngineError(
        'internal',
        `ulimit ${u.name}=${u.soft}:${u.hard}: the hard limit is above the user's own (${own}), which a rootless container cannot raise`,
      );
    }
    rlimits.set(type, { type, hard: u.hard, soft: u.soft });
  }
  // A user namespace of the container's own (--userns keep-id...) owns no network namespace it joins (a
  // bridge's, made by the engine): sysfs is the host's bound then too, as podman's.
  const foreignNetns = network || (ns?.user !== undefined && input.network.netns !== undefined);
  // A new user namespace does not own an IPC namespace it joins (another container's): mqueue cannot be mounted for it.
  const foreignIpc = ns?.user !== undefined && !userPath && typeof ns.ipc === 'object';
  if (rootless())
    rootlessMounts(mounts, { hostNetwork: foreignNetns, hostPid: ns?.pid === 'host', hostIpc: ns?.ipc === 'host', foreignIpc, privileged: s.privileged });
  // An entry without '=' (compose's `environment: [NAME]` with NAME unset) stays in Config.Env but
  // is not in the process's environment, as with dockerd (containerd's WithEnv drops it); runc refuses it.
  const env = input.env.filter((e) => e.includes('='));
  const capList = { bounding: caps, effective: caps, permitted: caps };
  const devices = (spec.devices ?? []).map(deviceOf);
  // Rootless: the kernel refuses mknod in a user namespace, so the host's node is bound in instead, read-only
  // without 'w' (podman's addDevice does the same for a rootless container).
  if (rootless())
    for (const d of spec.devices ?? [])
      mounts.push({
        destination: d.container,
        type: 'bind',
        source: d.host,
        options: ['slave', 'nosuid', 'noexec', d.permissions.includes('w') ? 'rw' : 'ro', 'rbind'],
      });
  return {
    // runc's spec version (`runc --version`), as dockerd and podman write it.
    ociVersion: '1.0.2-dev',
    process: {
      terminal: p.tty,
      // The client's terminal size from the start ([rows, cols]); resizes follow.
      consoleSize: p.tty && p.consoleSize?.[0] && p.consoleSize[1] ? { height: p.consoleSize[0], width: p.consoleSize[1] } : undefined,
      user: {
        uid: user.uid,
        gid: user.gid,
        additionalGids: user.additionalGids.length ? user.additionalGids : undefined,
        umask: p.umask ? Number.parseInt(p.umask, 8) : undefined,
      },
      args,
      env,
      cwd: p.workdir || '/',
      // Docker gives non-root users the bounding set only; effective caps come from file caps or setuid.
      capabilities: user.uid === 0 ? capList : { bounding: caps, effective: [], permitted: [] },
      rlimits: [...rlimits.values()],
      noNewPrivileges,
      // Rootless: not below the engine's own, which only a privileged process could lower (podman clamps too).
      oomScoreAdj: rootless() ? Math.max(p.oomScoreAdj ?? 0, ownOomScoreAdj()) : (p.oomScoreAdj ?? 0),
    },
    root: { path: input.rootfs, readonly: s.readonlyRootfs },
    hostname: network || ns?.uts ? undefined : spec.network.hostname, // runc sets none without a UTS namespace of its own (host's, or a pod's)
    mounts,
    linux: {
      // Rootless: limits only (runc cannot apply device rules without privilege; /dev is what it binds).
      resources:
        input.cgroupsPath === undefined
          ? undefined
          : rootless()
            ? buildLimits(input.resources ?? spec.resources)
            : withDevices(buildResources(input.resources ?? spec.resources, s.privileged), devices),
      devices: devices.length && !rootless() ? devices.map((d) => d.node) : undefined,
      cgroupsPath: input.cgroupsPath,
      namespaces,
      uidMappings: ns?.user?.uidMappings,
      gidMappings: ns?.user?.gidMappings,
      sysctl: s.sysctls,
      seccomp,
      maskedPaths: s.privileged ? undefined : MASKED_PATHS,
      readonlyPaths: s.privileged ? undefined : READONLY_PATHS,
    },
  };
}

/** `-v /host:/ctr[:ro|rw|z|Z|...]` for host directories. Named volumes arrive with the volumes issue. */
