// Container records as the libpod API shows them: `podman ps`'s ListContainer and `podman inspect`'s
// InspectContainerData, rebuilt from the record, its spec and the libpod echo (a container the Docker
// API made has none: podman's defaults show). The default network is `podman` here.
import { constants } from 'node:os';
import {
  capabilities,
  commandOf,
  isLive,
  normalizedName,
  logDriver,
  networkMode,
  parsePortKey,
  type Container,
  type ContainerFacts,
} from '../../../runtime/api.js';
import { containerMounts } from '../../compat/views/volumes.js';
import { containerNetworks, networkSettings } from '../../compat/views/networks.js';
import { DEFAULT_NETWORK } from '../create/to-spec.js';

const ZERO_TIME = '0001-01-01T00:00:00Z';
/** Go's zero time as unix seconds: what podman lists for a start or exit that never happened. */
const ZERO_UNIX = -62135596800;

const echoOf = (c: Container): Record<string, unknown> => c.echo.libpod ?? {};
const libpodName = (network: string) => (network === 'bridge' ? DEFAULT_NETWORK : network);
const bare = (id: string) => id.replace(/^sha256:/, '');
const unix = (t: string | null) => (t ? Math.floor(Date.parse(t) / 1000) : ZERO_UNIX);

/** libpod's state names: Docker's, with a restart counted as running and `dead` as exited. */
export function libpodState(c: Container): string {
  switch (c.state) {
    case 'restarting':
      return 'running';
    case 'dead':
      return 'exited';
    default:
      return c.state;
  }
}

/** PortMapping entries: the bound host ports while it runs, the asked ones otherwise. */
export function portMappings(c: Container): { host_ip: string; container_port: number; host_port: number; range: number; protocol: string }[] {
  if (isLive(c) && c.ports.length)
    return c.ports.map((p) => ({ host_ip: p.HostIp, container_port: p.ContainerPort, host_port: p.HostPort, range: 1, protocol: p.Protocol }));
  return Object.entries(c.spec.ports.publish ?? {}).flatMap(([key, list]) => {
    const [port, protocol] = parsePortKey(key);
    return (list ?? []).map((b) => ({ host_ip: b.hostIp ?? '', container_port: port, host_port: Number(b.hostPort) || 0, range: 1, protocol }));
  });
}

/** Names of the networks it is on. */
export function networkNames(facts: ContainerFacts, c: Container): string[] {
  const kind = networkMode(c.spec.network.mode).kind;
  if (kind !== 'bridge' && kind !== 'user') return [];
  return Object.keys(containerNetworks(facts, c)).map(libpodName);
}

/** The pod a container is in, as its views show it (the infra container holds the pod's network). */
export interface PodOfContainer {
  id: string;
  name: string;
  infra?: Container;
}

const isInfra = (c: Container, pod?: PodOfContainer) => !!pod && pod.infra?.id === c.id;

/** One entry of GET /libpod/containers/json. */
export function listContainer(facts: ContainerFacts, c: Container, size?: { sizeRw: number; sizeRootFs: number }, pod?: PodOfContainer): object {
  const ports = portMappings(facts.networkHolder(c));
  const infra = isInfra(c, pod);
  return {
    AutoRemove: c.spec.restart.autoRemove,
    // The infra container runs its image's entrypoint: podman lists no command for it.
    Command: infra ? null : commandOf(c.spec),
    Created: c.created,
    CreatedAt: '',
    Exited: c.state === 'exited' || c.state === 'dead',
    ExitedAt: unix(c.finished_at),
    ExitCode: c.exit_code,
    Id: c.id,
    Image: normalizedName(c.image_name),
    ImageID: bare(c.image_id),
    IsInfra: infra,
    Labels: Object.keys(c.spec.labels).length ? c.spec.labels : null,
    Mounts: c.mounts.map((m) => m.destination),
    Names: [c.name],
    Namespaces: {},
    Networks: networkNames(facts, c),
    Pid: c.pid,
    Pod: pod?.id ?? '',
    PodName: pod?.name ?? '',
    Ports: ports.length ? ports : null,
    Size: size ? { rootFsSize: size.sizeRootFs, rwSize: size.sizeRw } : null,
    StartedAt: unix(c.started_at),
    State: libpodState(c),
    Status: c.health && c.state === 'running' ? c.health.Status : '',
  };
}

/** NetworkSettings.Ports: each published port with its host side (HostIp as bound, '' for all). */
function portMap(c: Container): Record<string, { HostIp: string; HostPort: string }[] | null> {
  const out: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  for (const p of portMappings(c)) (out[`${p.container_port}/${p.protocol}`] ??= [])!.push({ HostIp: p.host_ip, HostPort: String(p.host_port) });
  return out;
}

function libpodNetworkSettings(facts: ContainerFacts, c: Container) {
  const { Networks: networks, SandboxKey, ...docker } = networkSettings(facts, c);
  const kind = networkMode(c.spec.network.mode).kind;
  // host, none and another container's namespace are no network to podman.
  const named = kind === 'bridge' || kind === 'user' ? Object.fromEntries(Object.entries(networks).map(([name, e]) => [libpodName(name), e])) : {};
  const onDefault = kind === 'bridge';
  return {
    EndpointID: docker.EndpointID,
    Gateway: onDefault ? docker.Gateway : '',
    IPAddress: onDefault ? docker.IPAddress : '',
    IPPrefixLen: onDefault ? docker.IPPrefixLen : 0,
    IPv6Gateway: docker.IPv6Gateway,
    GlobalIPv6Address: docker.GlobalIPv6Address,
    GlobalIPv6PrefixLen: docker.GlobalIPv6PrefixLen,
    MacAddress: onDefault ? docker.MacAddress : '',
    Bridge: '',
    SandboxID: '',
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    Ports: portMap(c),
    SandboxKey,
    Networks: named,
  };
}

const nsMode = (m: string) => (m === 'private' ? 'private' : m);
const usernsMode = (m: string) => (m === '' || m === 'host' ? '' : m.startsWith('container:') ? m : 'private');

const flag = (on: boolean) => (on ? 'TRUE' : 'FALSE');

/**
 * The annotations podman's service puts on every container (the creation time and the flags it records
 * at create; its own marker and the stop signal once the runtime's spec is made, at the first init or
 * start), under the container's own: berth's containers get them in the view.
 */
function libpodAnnotations(c: Container, stopSignal: number, pod?: PodOfContainer): Record<string, string> {
  const { process: p, security: s, restart } = c.spec;
  const ran = c.run_id > 0;
  // A pod's member (not its infra container) names its pod as CRI-O's sandbox.
  const member: Record<string, string> =
    pod && !isInfra(c, pod) ? { 'io.kubernetes.cri-o.ContainerType': 'container', 'io.kubernetes.cri-o.SandboxID': pod.id } : {};
  return {
    ...(ran ? { 'io.container.manager': 'libpod' } : {}),
    ...member,
    // Go's RFC3339Nano text (trailing zeros of the fraction dropped), as the client re-prints Created.
    'io.kubernetes.cri-o.Created': c.created.replace(/(\.\d*?)0+Z$/, '$1Z').replace(/\.Z$/, 'Z'),
    'io.podman.annotations.autoremove': flag(restart.autoRemove),
    'io.podman.annotations.init': flag(!!p.init),
    'io.podman.annotations.privileged': flag(s.privileged),
    'io.podman.annotations.publish-all': flag(!!c.spec.ports.publishAll),
    ...(ran ? { 'org.opencontainers.image.stopSignal': String(stopSignal) } : {}),
    ...c.spec.annotations,
  };
}

/** GET /libpod/containers/{id}/json: a pod member shows the pod's network (its infra container's). */
export function inspectContainer(facts: ContainerFacts, c: Container, pod?: PodOfContainer): object {
  const files = facts.files(c);
  const echo = echoOf(c);
  const { process: p, resources: r, security: s, restart } = c.spec;
  const args = commandOf(c.spec);
  const state = libpodState(c);
  const caps = [...capabilities(s)].sort();
  const stopSignal = p.stopSignal ? signalNumber(p.stopSignal) : 15;
  const nanoCpus = r.nanoCpus ?? (r.cpuQuota && r.cpuPeriod ? Math.round((r.cpuQuota * 1e9) / r.cpuPeriod) : 0);
  // The options podman lists for its mounts: volumes nosuid,nodev; every bind recursive. A volume's
  // Mode is only a private relabel asked for (`Z`: dockerd's default `z`, which podman does not show, is
  // not told from one asked for), its propagation podman's rprivate.
  const mounts = containerMounts(facts, c).map((m) => ({
    ...m,
    ...(m.Type === 'volume' ? { Mode: m.Mode.split(',').includes('Z') ? 'Z' : '', Propagation: m.Propagation || 'rprivate' } : {}),
    Options: m.Type === 'volume' ? ['nosuid', 'nodev', 'rbind'] : m.Type === 'bind' ? ['rbind'] : [],
  }));
  return {
    Id: c.id,
    Created: c.created,
    Path: args[0] ?? '',
    Args: args.slice(1),
    State: {
      // The runtime spec's version berth writes in config.json (runtime/oci/spec.ts), as podman's.
      OciVersion: '1.0.2-dev',
      Status: state,
      Running: state === 'running',
      Paused: c.state === 'paused',
      Restarting: c.state === 'restarting',
      OOMKilled: !!c.oom_killed,
      Dead: c.state === 'dead',
      Pid: c.pid,
      ConmonPid: facts.conmonPid(c),
      ExitCode: c.exit_code,
      Error: c.error,
      StartedAt: c.started_at ?? ZERO_TIME,
      FinishedAt: c.finished_at ?? ZERO_TIME,
      Health: c.health ? { Status: c.health.Status, FailingStreak: c.health.FailingStreak, Log: c.health.Log } : { Status: '', FailingStreak: 0, Log: null },
      CgroupPath: `${c.spec.cgroupParent ?? '/berth'}/${c.id}`,
      CheckpointedAt: ZERO_TIME,
      RestoredAt: ZERO_TIME,
    },
    Image: bare(c.image_id),
    ImageDigest: '',
    ImageName: normalizedName(c.image_name),
    Rootfs: '',
    Pod: pod?.id ?? '',
    ResolvConfPath: files.resolvConf,
    HostnamePath: files.hostname,
    HostsPath: files.hosts,
    StaticDir: '',
    OCIConfigPath: '',
    OCIRuntime: c.spec.runtime || facts.defaultRuntime,
    ConmonPidFile: '',
    PidFile: '',
    Name: c.name,
    RestartCount: c.restart_count,
    Driver: 'overlay',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    EffectiveCaps: caps,
    BoundingCaps: caps,
    ExecIDs: [],
    GraphDriver: { Name: 'overlay', Data: { LowerDir: files.lowerDirs.join(':'), MergedDir: files.merged, UpperDir: files.upper, WorkDir: files.work } },
    Mounts: mounts,
    Dependencies: c.spec.dependencies ?? [],
    NetworkSettings: libpodNetworkSettings(facts, facts.networkHolder(c)),
    Namespace: '',
    IsInfra: isInfra(c, pod),
    IsService: false,
    Config: {
      Hostname: c.spec.network.hostname,
      Domainname: c.spec.network.domainname,
      User: p.user ?? '',
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      Tty: p.tty,
      OpenStdin: p.stdin,
      StdinOnce: false, // podman's inspect, although its attach closes stdin at the client's end (to-spec.ts)
      Env: p.env,
      Cmd: p.command ?? null,
      Image: normalizedName(c.image_name),
      Volumes: null,
      WorkingDir: p.workdir ?? '/',
      Entrypoint: (p.entrypoint ?? []).join(' '),
      OnBuild: null,
      Labels: Object.keys(c.spec.labels).length ? c.spec.labels : null,
      Annotations: libpodAnnotations(c, stopSignal, pod),
      StopSignal: stopSignal,
      ...(c.spec.healthcheck ? { Healthcheck: healthConfig(c.spec.healthcheck) } : {}),
      HealthcheckOnFailureAction: 'none',
      CreateCommand: (echo.containerCreateCommand as string[] | undefined) ?? null,
      Umask: p.umask ?? '0022',
      Timeout: 0,
      StopTimeout: p.stopTimeout ?? 10,
      Passwd: true,
      sdNotifyMode: (echo.sdnotifyMode as string | undefined) ?? 'container',
      ...(p.timezone ? { Timezone: p.timezone } : {}),
    },
    HostConfig: {
      // Every volume (named and anonymous) and bind mount point, as podman lists them.
      Binds: c.mounts
        .filter((m) => m.type !== 'tmpfs')
        .map((m) => libpodBind(`${m.type === 'volume' ? m.name : m.source}:${m.destination}:${[m.rw ? 'rw' : 'ro', m.propagation].filter(Boolean).join(',')}`)),
      CgroupManager: 'cgroupfs',
      CgroupMode: c.spec.namespaces.cgroup ? 'host' : 'private', // podman 4.3 shows a member joining the infra's cgroup namespace as host
      ContainerIDFile: '',
      LogConfig: {
        Type: libpodLogDriver(logDriver(c.spec.log)),
        Config: c.spec.log?.options ?? null,
        Path: files.log,
        Tag: '',
        Size: c.spec.log?.options?.['max-size'] ?? '0B',
      },
      NetworkMode: networkModeOf(c),
      PortBindings: portMap(c),
      RestartPolicy: { Name: restart.policy, MaximumRetryCount: restart.maxRetries },
      AutoRemove: restart.autoRemove,
      VolumeDriver: '',
      VolumesFrom: c.spec.mounts.volumesFrom ?? null,
      CapAdd: (s.capAdd ?? []).map(capName),
      CapDrop: (s.capDrop ?? []).map(capName),
      Dns: c.spec.network.dns ?? [],
      DnsOptions: c.spec.network.dnsOptions ?? [],
      DnsSearch: c.spec.network.dnsSearch ?? [],
      ExtraHosts: c.spec.network.hosts ?? [],
      GroupAdd: p.groups ?? [],
      // podman's private IPC namespace is joinable: it calls it shareable.
      IpcMode: c.spec.namespaces.ipc === 'private' ? 'shareable' : c.spec.namespaces.ipc,
      Cgroup: '',
      Cgroups: 'default',
      Links: null,
      OomScoreAdj: p.oomScoreAdj ?? 0,
      Init: !!p.init,
      PidMode: nsMode(c.spec.namespaces.pid),
      Privileged: s.privileged,
      // podman turns -P into port mappings at create: its flag reads false, the ports are in PortBindings.
      PublishAllPorts: false,
      ReadonlyRootfs: s.readonlyRootfs,
      SecurityOpt: s.options ?? [],
      Tmpfs: c.spec.mounts.tmpfs ?? {},
      UTSMode: nsMode(c.spec.namespaces.uts),
      // podman's inspect: '' in the engine's own user namespace, `private` in one of the container's own
      // (keep-id, nomap, auto), `container:<id>` in another's (a pod's members too).
      UsernsMode: usernsMode(c.spec.namespaces.user ?? ''),
      ShmSize: r.shmSize ?? 65536000,
      Runtime: 'oci',
      ConsoleSize: [0, 0],
      Isolation: '',
      CpuShares: r.cpuShares ?? 0,
      Memory: r.memory ?? 0,
      NanoCpus: nanoCpus,
      CgroupParent: c.spec.cgroupParent ?? '',
      BlkioWeight: r.blkioWeight ?? 0,
      BlkioWeightDevice: null,
      BlkioDeviceReadBps: null,
      BlkioDeviceWriteBps: null,
      BlkioDeviceReadIOps: null,
      BlkioDeviceWriteIOps: null,
      CpuPeriod: r.cpuPeriod ?? 0,
      CpuQuota: r.cpuQuota ?? 0,
      CpuRealtimePeriod: 0,
      CpuRealtimeRuntime: 0,
      CpusetCpus: r.cpusetCpus ?? '',
      CpusetMems: r.cpusetMems ?? '',
      Devices: (c.spec.devices ?? []).map((d) => ({ PathOnHost: d.host, PathInContainer: d.container, CgroupPermissions: d.permissions })),
      DiskQuota: 0,
      KernelMemory: 0,
      MemoryReservation: r.memoryReservation ?? 0,
      MemorySwap: r.memorySwap ?? 0,
      MemorySwappiness: r.memorySwappiness ?? 0,
      OomKillDisable: !!r.oomKillDisable,
      PidsLimit: r.pidsLimit ?? 0,
      Ulimits: (p.rlimits ?? []).map((u) => ({ Name: `RLIMIT_${u.name.toUpperCase()}`, Soft: u.soft, Hard: u.hard })),
      CpuCount: 0,
      CpuPercent: 0,
      IOMaximumIOps: 0,
      IOMaximumBandwidth: 0,
      CgroupConf: null,
    },
  };
}

function healthConfig(h: NonNullable<Container['spec']['healthcheck']>) {
  return { Test: h.test ?? [], StartPeriod: h.startPeriod ?? 0, Interval: h.interval ?? 0, Timeout: h.timeout ?? 0, Retries: h.retries ?? 0 };
}

/** A `src:dst[:mode]` entry as podman lists it: the mode, rw by default, then its propagation and mount flags. */
function libpodBind(entry: string): string {
  const [source = '', destination = '', mode = ''] = entry.split(':');
  const given = mode.split(',').filter((o) => o && o !== 'z' && o !== 'Z');
  const options = given.some((o) => o === 'ro' || o === 'rw') ? given : ['rw', ...given];
  if (!options.some((o) => /private|slave|shared/.test(o))) options.push('rprivate');
  if (!source.startsWith('/')) options.push('nosuid', 'nodev');
  return `${source}:${destination}:${[...options, 'rbind'].join(',')}`;
}

/** Capabilities by their full names (`NET_ADMIN` → `CAP_NET_ADMIN`), as podman stores them. */
const capName = (cap: string) => (cap.toUpperCase().startsWith('CAP_') ? cap.toUpperCase() : `CAP_${cap.toUpperCase()}`);

/** berth's file log is podman's k8s-file (conmon writes both). */
const libpodLogDriver = (driver: string) => (driver === 'json-file' || driver === 'local' ? 'k8s-file' : driver);

function networkModeOf(c: Container): string {
  const mode = networkMode(c.spec.network.mode);
  if (mode.kind === 'bridge' || mode.kind === 'user') return 'bridge';
  return c.spec.network.mode;
}

const SIGNALS = constants.signals as Record<string, number>;

/** Config.StopSignal: a number in libpod's inspect. */
function signalNumber(signal: string): number {
  if (/^\d+$/.test(signal)) return Number(signal);
  const name = signal.toUpperCase().startsWith('SIG') ? signal.toUpperCase() : `SIG${signal.toUpperCase()}`;
  return SIGNALS[name] ?? 15;
}
