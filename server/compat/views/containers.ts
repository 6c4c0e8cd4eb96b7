// Container records shaped as the Docker API returns them (inspect, and the `docker ps` list): Docker's
// Config and HostConfig rebuilt from the spec and the echo of what the client sent (create/to-docker.ts).
import type { HostConfig } from '../../../openapi/containers.js';
import { commandOf, healthText, linksEcho, logDriver, MASKED_PATHS, READONLY_PATHS, type Container, type ContainerFacts } from '../../../runtime/api.js';
import { containerMounts } from './volumes.js';
import { containerNetworks, networkSettings, portList } from './networks.js';
import { MAX_API_VERSION, versionBefore } from '../../versioning.js';
import { dockerOf } from '../create/to-docker.js';

const ZERO_TIME = '0001-01-01T00:00:00Z';
const command = (c: Container) => commandOf(c.spec);

/** Docker's HumanDuration: "Less than a second", "5 seconds", "About a minute", "3 hours"... */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(h / 24 / 365)} years`;
}

/** libpod's `initialized` (made in the runtime, not started) is still `created` to Docker. */
const dockerState = (c: Container) => (c.state === 'initialized' ? 'created' : c.state);

/** The Status column of `docker ps`. */
export function statusText(c: Container): string {
  const since = (t: string | null) => humanDuration(Date.now() - Date.parse(t ?? new Date().toISOString()));
  switch (c.state) {
    case 'running':
      return `Up ${since(c.started_at)}${c.health ? ` (${healthText(c.health)})` : ''}`;
    case 'paused':
      return `Up ${since(c.started_at)} (Paused)`;
    case 'restarting':
      return `Restarting (${c.exit_code}) ${since(c.finished_at)} ago`;
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
    case 'exited':
      return `Exited (${c.exit_code}) ${since(c.finished_at)} ago`;
    default:
      return 'Created';
  }
}

/**
 * HostConfig.NetworkMode as the create gave it, a blank one being `default` (dockerd 20.10 stores and
 * echoes that); from API 1.44 `default` reads `bridge`, as newer dockerd answers those clients.
 */
const networkMode = (c: Container, version: string) => {
  const mode = c.spec.network.mode || 'default';
  return mode === 'default' && !versionBefore(version, '1.44') ? 'bridge' : mode;
};

/** `SizeRw`/`SizeRootFs` of a list entry or inspect asked with size: dockerd omits them when 0. */
export const sizeFields = (s: { sizeRw: number; sizeRootFs: number }) => ({
  ...(s.sizeRw ? { SizeRw: s.sizeRw } : {}),
  ...(s.sizeRootFs ? { SizeRootFs: s.sizeRootFs } : {}),
});

export function containerSummary(facts: ContainerFacts, c: Container, version: string = MAX_API_VERSION): object {
  return {
    Id: c.id,
    Names: [`/${c.name}`],
    Image: c.image_name,
    ImageID: c.image_id,
    Command: command(c).join(' '),
    Created: Math.floor(Date.parse(c.created) / 1000),
    Ports: portList(facts.networkHolder(c)),
    Labels: c.spec.labels,
    State: dockerState(c),
    Status: statusText(c),
    HostConfig: { NetworkMode: networkMode(c, version) },
    NetworkSettings: { Networks: containerNetworks(facts, facts.networkHolder(c)) },
    Mounts: containerMounts(facts, c),
  };
}

/**
 * HostConfig fields berth takes but does not act on, echoed as stored (dockerd's zero values otherwise),
 * each for the API versions that have it: KernelMemory until 1.42, KernelMemoryTCP until 1.52.
 */
function storedHostConfig(hc: HostConfig, version: string): object {
  const stored = hc as Record<string, unknown>;
  const or = (key: string, zero: unknown) => stored[key] ?? zero;
  return {
    Cgroup: or('Cgroup', ''),
    CgroupParent: or('CgroupParent', ''),
    UsernsMode: or('UsernsMode', ''),
    BlkioWeightDevice: or('BlkioWeightDevice', []),
    BlkioDeviceReadBps: or('BlkioDeviceReadBps', []),
    BlkioDeviceWriteBps: or('BlkioDeviceWriteBps', []),
    BlkioDeviceReadIOps: or('BlkioDeviceReadIOps', []),
    BlkioDeviceWriteIOps: or('BlkioDeviceWriteIOps', []),
    CpuRealtimePeriod: or('CpuRealtimePeriod', 0),
    CpuRealtimeRuntime: or('CpuRealtimeRuntime', 0),
    CpuCount: or('CpuCount', 0),
    CpuPercent: or('CpuPercent', 0),
    IOMaximumIOps: or('IOMaximumIOps', 0),
    IOMaximumBandwidth: or('IOMaximumBandwidth', 0),
    Devices: or('Devices', []),
    DeviceRequests: or('DeviceRequests', null),
    ...(versionBefore(version, '1.42') ? { KernelMemory: or('KernelMemory', 0) } : {}),
    ...(versionBefore(version, '1.52') ? { KernelMemoryTCP: or('KernelMemoryTCP', 0) } : {}),
  };
}

export function containerInspect(facts: ContainerFacts, c: Container, version: string = MAX_API_VERSION): object {
  const inspect = currentInspect(facts, c, version);
  return versionBefore(version, '1.21') ? legacyInspect(inspect, c, version) : inspect;
}

function currentInspect(facts: ContainerFacts, c: Container, version: string) {
  const files = facts.files(c);
  const args = command(c);
  const { config, hostConfig: hc } = dockerOf(c.spec, c.echo);
  return {
    Id: c.id,
    Created: c.created,
    Path: args[0] ?? '',
    Args: args.slice(1),
    State: {
      Status: dockerState(c),
      Running: c.state === 'running' || c.state === 'paused' || c.state === 'restarting', // dockerd: restarting is running
      Paused: c.state === 'paused',
      Restarting: c.state === 'restarting',
      OOMKilled: !!c.oom_killed,
      Dead: c.state === 'dead',
      Pid: c.pid,
      ExitCode: c.exit_code,
      Error: c.error,
      StartedAt: c.started_at ?? ZERO_TIME,
      FinishedAt: c.finished_at ?? ZERO_TIME,
      // Absent until a healthcheck first starts, as dockerd (omitempty).
      ...(c.health ? { Health: { Status: c.health.Status, FailingStreak: c.health.FailingStreak, Log: c.health.Log } } : {}),
    },
    Image: c.image_id,
    ResolvConfPath: files.resolvConf,
    HostnamePath: files.hostname,
    HostsPath: files.hosts,
    LogPath: files.log,
    Name: `/${c.name}`,
    RestartCount: c.restart_count,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: {
      Binds: hc.Binds ?? null,
      ContainerIDFile: '',
      LogConfig: { Type: logDriver(c.spec.log), Config: hc.LogConfig?.Config ?? {} },
      NetworkMode: networkMode(c, version),
      PortBindings: portBindings(hc),
      RestartPolicy: { Name: hc.RestartPolicy?.Name || 'no', MaximumRetryCount: hc.RestartPolicy?.MaximumRetryCount ?? 0 },
      AutoRemove: !!hc.AutoRemove,
      VolumeDriver: hc.VolumeDriver ?? '',
      VolumesFrom: hc.VolumesFrom ?? null,
      CapAdd: hc.CapAdd ?? null,
      CapDrop: hc.CapDrop ?? null,
      // As sent, as dockerd 20.10 keeps them: null when absent (docker-py), [] from the docker CLI.
      Dns: hc.Dns ?? null,
      DnsOptions: hc.DnsOptions ?? null,
      DnsSearch: hc.DnsSearch ?? null,
      ExtraHosts: hc.ExtraHosts ?? null,
      Links: linksEcho(c),
      GroupAdd: hc.GroupAdd ?? null,
      IpcMode: hc.IpcMode || 'private', // dockerd 20.10's default-ipc-mode
      PidMode: hc.PidMode ?? '',
      Privileged: !!hc.Privileged,
      PublishAllPorts: !!hc.PublishAllPorts,
      ReadonlyRootfs: !!hc.ReadonlyRootfs,
      SecurityOpt: hc.SecurityOpt ?? null,
      Tmpfs: hc.Tmpfs ?? undefined,
      UTSMode: hc.UTSMode ?? '',
      Isolation: hc.Isolation ?? '',
      ShmSize: hc.ShmSize || 67108864,
      Sysctls: hc.Sysctls ?? undefined,
      Runtime: hc.Runtime || facts.defaultRuntime,
      Memory: hc.Memory ?? 0,
      MemorySwap: hc.MemorySwap ?? 0,
      MemoryReservation: hc.MemoryReservation ?? 0,
      NanoCpus: hc.NanoCpus ?? 0,
      CpuShares: hc.CpuShares ?? 0,
      CpuPeriod: hc.CpuPeriod ?? 0,
      CpuQuota: hc.CpuQuota ?? 0,
      CpusetCpus: hc.CpusetCpus ?? '',
      CpusetMems: hc.CpusetMems ?? '',
      BlkioWeight: hc.BlkioWeight ?? 0,
      PidsLimit: hc.PidsLimit ?? null,
      OomKillDisable: hc.OomKillDisable ?? null,
      MemorySwappiness: hc.MemorySwappiness != null && hc.MemorySwappiness >= 0 ? hc.MemorySwappiness : null, // -1 is the kernel's default: null, as dockerd echoes it
      DeviceCgroupRules: hc.DeviceCgroupRules ?? null,
      Ulimits: hc.Ulimits ?? null,
      Init: hc.Init ?? undefined, // omitempty in dockerd
      ConsoleSize: hc.ConsoleSize ?? [0, 0],
      Mounts: hc.Mounts ?? undefined,
      OomScoreAdj: hc.OomScoreAdj ?? 0,
      CgroupnsMode: 'private', // berth gives every container a cgroup namespace
      MaskedPaths: hc.Privileged ? null : MASKED_PATHS,
      ReadonlyPaths: hc.Privileged ? null : READONLY_PATHS,
      ...storedHostConfig(hc, version),
    },
    GraphDriver: {
      Name: 'overlay2',
      Data: {
        LowerDir: files.lowerDirs.join(':'),
        MergedDir: files.merged,
        UpperDir: files.upper,
        WorkDir: files.work,
      },
    },
    Mounts: containerMounts(facts, c),
    Config: { ...config, Image: c.image_name },
    NetworkSettings: networkSettings(facts, facts.networkHolder(c)),
  };
}

/** PortBindings as dockerd echoes them: each binding with both fields (testcontainers sends HostPort alone). */
function portBindings(hc: HostConfig): Record<string, { HostIp: string; HostPort: string }[] | null> {
  return Object.fromEntries(
    Object.entries(hc.PortBindings ?? {}).map(([key, list]) => [key, list?.map((b) => ({ HostIp: b.HostIp ?? '', HostPort: b.HostPort ?? '' })) ?? null]),
  );
}

/**
 * dockerd 20.10's shapes for API < 1.21: no per-network settings, a few host settings echoed in Config;
 * before 1.20 the volumes as Volumes/VolumesRW maps instead of Mounts.
 */
function legacyInspect(inspect: ReturnType<typeof currentInspect>, c: Container, version: string): object {
  const { hostConfig: hc } = dockerOf(c.spec, c.echo);
  const { Networks: _networks, Ports: ports, ...rest } = inspect.NetworkSettings;
  // An empty port map comes out as null there.
  const settings = { ...rest, Ports: Object.keys(ports).length ? ports : null };
  const config: Record<string, unknown> = {
    ...inspect.Config,
    MacAddress: inspect.Config.MacAddress ?? '',
    NetworkDisabled: false, // berth keeps none: dockerd's default
    VolumeDriver: hc.VolumeDriver ?? '',
  };
  if (!versionBefore(version, '1.20')) return { ...inspect, Config: config, NetworkSettings: settings };
  const { Mounts: mounts, ...others } = inspect;
  Object.assign(config, { Memory: hc.Memory ?? 0, MemorySwap: hc.MemorySwap ?? 0, CpuShares: hc.CpuShares ?? 0, Cpuset: hc.CpusetCpus ?? '' });
  return {
    ...others,
    Config: config,
    NetworkSettings: settings,
    Volumes: Object.fromEntries(mounts.map((m) => [m.Destination, m.Source])),
    VolumesRW: Object.fromEntries(mounts.map((m) => [m.Destination, m.RW])),
  };
}
