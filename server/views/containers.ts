// Container records shaped as the Docker API returns them (inspect, and the `docker ps` list).
import type { Container } from '../../runtime/containers/store.js';
import { containerMounts } from './volumes.js';
import type { Engine } from '../../runtime/engine.js';
import { commandOf } from '../../runtime/containers/config.js';
import { containerNetworks, networkSettings, portList } from './networks.js';
import { versionBefore } from '../versioning.js';

const ZERO_TIME = '0001-01-01T00:00:00Z';
const command = (c: Container) => commandOf(c.config);

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

/** The Status column of `docker ps`. */
export function statusText(c: Container): string {
  const since = (t: string | null) => humanDuration(Date.now() - Date.parse(t ?? new Date().toISOString()));
  switch (c.state) {
    case 'running':
      return `Up ${since(c.started_at)}`;
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

const networkMode = (c: Container) => (!c.hostConfig.NetworkMode || c.hostConfig.NetworkMode === 'default' ? 'bridge' : c.hostConfig.NetworkMode);

/** `SizeRw`/`SizeRootFs` of a list entry or inspect asked with size: dockerd omits them when 0. */
export const sizeFields = (s: { sizeRw: number; sizeRootFs: number }) => ({
  ...(s.sizeRw ? { SizeRw: s.sizeRw } : {}), ...(s.sizeRootFs ? { SizeRootFs: s.sizeRootFs } : {}),
});

export function containerSummary(engine: Engine, c: Container): object {
  return {
    Id: c.id,
    Names: [`/${c.name}`],
    Image: c.image_name,
    ImageID: c.image_id,
    Command: command(c).join(' '),
    Created: Math.floor(Date.parse(c.created) / 1000),
    Ports: portList(c),
    Labels: c.config.Labels ?? {},
    State: c.state,
    Status: statusText(c),
    HostConfig: { NetworkMode: networkMode(c) },
    NetworkSettings: { Networks: containerNetworks(engine, c) },
    Mounts: containerMounts(engine, c),
  };
}

export function containerInspect(engine: Engine, c: Container, version: string): object {
  const inspect = currentInspect(engine, c);
  return versionBefore(version, '1.21') ? legacyInspect(inspect, c, version) : inspect;
}

function currentInspect(engine: Engine, c: Container) {
  const paths = engine.containers.paths;
  const layers = engine.images.layers.diffDirs(c.top_layer);
  const args = command(c);
  const hc = c.hostConfig;
  return {
    Id: c.id,
    Created: c.created,
    Path: args[0] ?? '',
    Args: args.slice(1),
    State: {
      Status: c.state,
      Running: c.state === 'running' || c.state === 'paused',
      Paused: c.state === 'paused',
      Restarting: c.state === 'restarting',
      OOMKilled: !!c.oom_killed,
      Dead: c.state === 'dead',
      Pid: c.pid,
      ExitCode: c.exit_code,
      Error: c.error,
      StartedAt: c.started_at ?? ZERO_TIME,
      FinishedAt: c.finished_at ?? ZERO_TIME,
    },
    Image: c.image_id,
    ResolvConfPath: `${paths.bundle(c.id)}/resolv.conf`,
    HostnamePath: `${paths.bundle(c.id)}/hostname`,
    HostsPath: `${paths.bundle(c.id)}/hosts`,
    LogPath: paths.log(c.id),
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
      LogConfig: { Type: 'json-file', Config: hc.LogConfig?.Config ?? {} },
      NetworkMode: networkMode(c),
      PortBindings: hc.PortBindings ?? {},
      RestartPolicy: { Name: hc.RestartPolicy?.Name || 'no', MaximumRetryCount: hc.RestartPolicy?.MaximumRetryCount ?? 0 },
      AutoRemove: !!hc.AutoRemove,
      VolumeDriver: '',
      VolumesFrom: null,
      CapAdd: hc.CapAdd ?? null,
      CapDrop: hc.CapDrop ?? null,
      Dns: hc.Dns ?? [],
      DnsOptions: hc.DnsOptions ?? [],
      DnsSearch: hc.DnsSearch ?? [],
      ExtraHosts: hc.ExtraHosts ?? null,
      Links: hc.Links ?? null,
      GroupAdd: hc.GroupAdd ?? null,
      IpcMode: 'private',
      Privileged: !!hc.Privileged,
      PublishAllPorts: !!hc.PublishAllPorts,
      ReadonlyRootfs: !!hc.ReadonlyRootfs,
      SecurityOpt: hc.SecurityOpt ?? null,
      Tmpfs: hc.Tmpfs ?? undefined,
      UTSMode: '',
      ShmSize: hc.ShmSize || 67108864,
      Sysctls: hc.Sysctls ?? undefined,
      Runtime: hc.Runtime || engine.host.defaultRuntime,
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
      Ulimits: hc.Ulimits ?? null,
      Init: hc.Init ?? null,
      ConsoleSize: hc.ConsoleSize ?? [0, 0],
      Mounts: hc.Mounts ?? undefined,
    },
    GraphDriver: {
      Name: 'overlay2',
      Data: {
        LowerDir: layers.join(':'),
        MergedDir: paths.merged(c.id),
        UpperDir: paths.upper(c.id),
        WorkDir: paths.work(c.id),
      },
    },
    Mounts: containerMounts(engine, c),
    Config: { ...c.config, Image: c.image_name },
    NetworkSettings: networkSettings(engine, c),
  };
}

/**
 * dockerd 20.10's shapes for API < 1.21: no per-network settings, a few host settings echoed in Config;
 * before 1.20 the volumes as Volumes/VolumesRW maps instead of Mounts.
 */
function legacyInspect(inspect: ReturnType<typeof currentInspect>, c: Container, version: string): object {
  const hc = c.hostConfig;
  const { Networks: _networks, Ports: ports, ...rest } = inspect.NetworkSettings;
  // An empty port map comes out as null there.
  const settings = { ...rest, Ports: Object.keys(ports).length ? ports : null };
  const config: Record<string, unknown> = {
    ...inspect.Config,
    // berth keeps none of these three: dockerd's defaults.
    MacAddress: '',
    NetworkDisabled: false,
    VolumeDriver: '',
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
