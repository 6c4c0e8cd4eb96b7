// A Docker create body (Config + HostConfig + NetworkingConfig, at an API version) as berth's
// ContainerSpec, and the echo: what the client sent that the spec does not model, kept so inspect shows
// it back exactly. Docker's per-version shims and null-as-absent reading happen here; what needs the
// image or other containers (image defaults, names resolved to IDs) the engine completes at create.
import type { ContainerConfig, ContainerCreateBody, HealthConfig, HostConfig } from '../../../openapi/containers.js';
import type { EndpointSettings } from '../../../openapi/networks.js';
import { EngineError } from '../../../runtime/api.js';
import type {
  ContainerSpec,
  ContainerUpdate,
  StartChanges,
  EndpointSpec,
  LogSpec,
  MountsSpec,
  NetworkSpec,
  PortSpec,
  ProcessSpec,
  ResourcesSpec,
  SecuritySpec,
  HealthcheckSpec,
  IpcNamespaceMode,
  MountRequest,
  NamespaceMode,
  NetworkNamespaceMode,
} from '../../../runtime/api.js';
import { versionBefore } from '../../versioning.js';

/** Docker fields the spec does not model, echoed as sent (unknown keys included). */
export type DockerEcho = {
  Config: Record<string, unknown>;
  HostConfig: Record<string, unknown>;
};

/** Config keys the spec models; every other key is echoed. */
export const MODELED_CONFIG = [
  'Hostname',
  'Domainname',
  'User',
  'ExposedPorts',
  'Tty',
  'OpenStdin',
  'StdinOnce',
  'Env',
  'Cmd',
  'Entrypoint',
  'Image',
  'Volumes',
  'WorkingDir',
  'Labels',
  'StopSignal',
  'StopTimeout',
  'Healthcheck',
  'Shell',
  'MacAddress',
  'NetworkDisabled',
  'HostConfig',
  'NetworkingConfig',
] as const;

/** HostConfig keys the spec models; every other key is echoed. */
export const MODELED_HOST_CONFIG = [
  'Binds',
  'VolumesFrom',
  'NetworkMode',
  'RestartPolicy',
  'AutoRemove',
  'Privileged',
  'ReadonlyRootfs',
  'CapAdd',
  'CapDrop',
  'Dns',
  'DnsSearch',
  'DnsOptions',
  'ExtraHosts',
  'GroupAdd',
  'SecurityOpt',
  'Tmpfs',
  'Sysctls',
  'Ulimits',
  'Init',
  'ShmSize',
  'Runtime',
  'Memory',
  'MemorySwap',
  'MemoryReservation',
  'NanoCpus',
  'CpuShares',
  'CpuPeriod',
  'CpuQuota',
  'CpusetCpus',
  'CpusetMems',
  'PidsLimit',
  'BlkioWeight',
  'OomKillDisable',
  'OomScoreAdj',
  'MemorySwappiness',
  'LogConfig',
  'ConsoleSize',
  'Mounts',
  'PortBindings',
  'PublishAllPorts',
  'Links',
  'PidMode',
  'IpcMode',
  'UTSMode',
  'VolumeDriver',
  'DeviceCgroupRules',
  'Annotations',
] as const;

/** Go decodes JSON null as the zero value: here, as absent. */
const given = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);
const listOf = (v: string[] | string | null | undefined): string[] | undefined => (v == null ? undefined : Array.isArray(v) ? v : [v]);
const keysOf = (m: Record<string, unknown> | null | undefined): string[] => Object.keys(m ?? {});
const without = (o: Record<string, unknown>, keys: readonly string[]) => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));

/** '' (and 'private') is a namespace of the container's own; `host`, `container:<ref>` as given. */
function namespace(mode: string | undefined): NamespaceMode {
  if (!mode || mode === 'private') return 'private';
  if (mode === 'host' || mode.startsWith('container:') || mode.startsWith('pod:')) return mode as NamespaceMode;
  return 'private';
}

function ipcNamespace(mode: string | undefined): IpcNamespaceMode {
  return mode === 'shareable' || mode === 'none' ? mode : namespace(mode);
}

/** NetworkMode: '', default, bridge and user network names are a private namespace on those networks. */
function networkNamespace(mode: string | undefined): NetworkNamespaceMode {
  if (mode === 'host' || mode === 'none') return mode;
  if (mode?.startsWith('container:')) return mode as NetworkNamespaceMode;
  return 'private';
}

function healthcheck(h: HealthConfig | null | undefined, version: string): HealthcheckSpec | undefined {
  if (!h) return undefined;
  const out: HealthcheckSpec = {};
  const test = given(h.Test);
  if (test) out.test = test;
  for (const [from, to] of [
    ['Interval', 'interval'],
    ['Timeout', 'timeout'],
    ['StartPeriod', 'startPeriod'],
    ['StartInterval', 'startInterval'],
    ['Retries', 'retries'],
  ] as const) {
    const v = given(h[from]);
    if (v !== undefined) out[to] = v;
  }
  // StartInterval came with API 1.44: dockerd ignores it (unchecked) from older clients.
  if (versionBefore(version, '1.44')) delete out.startInterval;
  return out;
}

function endpoint(e: EndpointSettings | null | undefined): EndpointSpec | null {
  if (!e) return null;
  const out: EndpointSpec = {};
  const aliases = given(e.Aliases);
  if (aliases) out.aliases = aliases;
  const ipam = e.IPAMConfig;
  if (ipam?.IPv4Address) out.ipv4 = ipam.IPv4Address;
  if (ipam?.IPv6Address) out.ipv6 = ipam.IPv6Address;
  if (ipam) out.linkLocalIps = ipam.LinkLocalIPs ?? []; // present: the IPAM settings were given
  if (e.MacAddress) out.mac = e.MacAddress;
  if (e.DriverOpts) out.driverOpts = e.DriverOpts;
  if (e.Links?.length) out.links = e.Links;
  return out;
}

/** Copies the defined fields of `from` into `to` (absent stays absent in the spec). */
function assignDefined<T extends object>(to: T, from: { [K in keyof T]?: T[K] | null }): T {
  for (const [k, v] of Object.entries(from)) if (v !== undefined && v !== null) (to as Record<string, unknown>)[k] = v;
  return to;
}

export function toSpec(body: ContainerCreateBody, version: string): { spec: ContainerSpec; echo: DockerEcho } {
  const config: ContainerConfig = body;
  const hc: HostConfig = body.HostConfig ?? {};
  const networking = body.NetworkingConfig ?? undefined;
  const restart = hc.RestartPolicy ?? undefined;
  // API < 1.40 clients (docker-compose 1.x speaks 1.38) get IPC mode 'shareable' when they send a
  // HostConfig without one: dockerd's create route sets it for them, before its daemon default (private).
  const ipcMode = hc.IpcMode || (body.HostConfig && versionBefore(version, '1.40') ? 'shareable' : undefined);
  const spec: ContainerSpec = {
    image: config.Image ?? '',
    process: assignDefined<ProcessSpec>(
      { env: config.Env ?? [], tty: !!config.Tty, stdin: !!config.OpenStdin, stdinOnce: !!config.StdinOnce },
      {
        entrypoint: listOf(config.Entrypoint),
        command: listOf(config.Cmd),
        workdir: config.WorkingDir || undefined,
        user: config.User || undefined,
        groups: given(hc.GroupAdd),
        consoleSize: given(hc.ConsoleSize),
        init: given(hc.Init),
        shell: given(config.Shell),
        stopSignal: config.StopSignal || undefined,
        stopTimeout: given(config.StopTimeout),
        rlimits: given(hc.Ulimits)?.map((u) => ({ name: u.Name, soft: u.Soft, hard: u.Hard })),
        oomScoreAdj: given(hc.OomScoreAdj),
      },
    ),
    namespaces: {
      pid: namespace(hc.PidMode),
      ipc: ipcNamespace(ipcMode),
      uts: namespace(hc.UTSMode),
      network: networkNamespace(hc.NetworkMode),
      // UsernsMode, as podman's compat API reads it (its modes on a rootless engine); echoed for inspect too.
      ...(hc.UsernsMode && { user: hc.UsernsMode }),
    },
    mounts: assignDefined<MountsSpec>(
      { anonymous: keysOf(config.Volumes) },
      {
        volumes: given(hc.Binds),
        mounts: given(hc.Mounts) as MountRequest[] | undefined,
        tmpfs: given(hc.Tmpfs),
        volumesFrom: given(hc.VolumesFrom),
        volumeDriver: hc.VolumeDriver || undefined,
      },
    ),
    ports: assignDefined<PortSpec>(
      { expose: keysOf(config.ExposedPorts) },
      {
        publish: hc.PortBindings
          ? Object.fromEntries(
              Object.entries(hc.PortBindings).map(([key, list]) => [
                key,
                list?.map((b) => assignDefined<{ hostIp?: string; hostPort?: string }>({}, { hostIp: b.HostIp, hostPort: b.HostPort })) ?? null,
              ]),
            )
          : undefined,
        publishAll: given(hc.PublishAllPorts),
      },
    ),
    network: assignDefined<NetworkSpec>(
      { mode: hc.NetworkMode ?? '', hostname: config.Hostname ?? '', domainname: config.Domainname ?? '' },
      {
        endpoints: networking?.EndpointsConfig
          ? Object.fromEntries(Object.entries(networking.EndpointsConfig).map(([name, e]) => [name, endpoint(e)]))
          : undefined,
        mac: config.MacAddress || undefined,
        dns: given(hc.Dns),
        dnsSearch: given(hc.DnsSearch),
        dnsOptions: given(hc.DnsOptions),
        hosts: given(hc.ExtraHosts),
        links: given(hc.Links),
        disabled: given((config as { NetworkDisabled?: boolean | null }).NetworkDisabled),
      },
    ),
    resources: assignDefined<ResourcesSpec>(
      {},
      {
        memory: given(hc.Memory),
        memorySwap: given(hc.MemorySwap),
        memoryReservation: given(hc.MemoryReservation),
        nanoCpus: given(hc.NanoCpus),
        cpuShares: given(hc.CpuShares),
        cpuPeriod: given(hc.CpuPeriod),
        cpuQuota: given(hc.CpuQuota),
        cpusetCpus: given(hc.CpusetCpus),
        cpusetMems: given(hc.CpusetMems),
        pidsLimit: given(hc.PidsLimit),
        blkioWeight: given(hc.BlkioWeight),
        oomKillDisable: given(hc.OomKillDisable),
        memorySwappiness: given(hc.MemorySwappiness),
        deviceRules: given(hc.DeviceCgroupRules),
        shmSize: given(hc.ShmSize),
      },
    ),
    security: assignDefined<SecuritySpec>(
      { privileged: !!hc.Privileged, readonlyRootfs: !!hc.ReadonlyRootfs },
      { capAdd: given(hc.CapAdd), capDrop: given(hc.CapDrop), options: given(hc.SecurityOpt), sysctls: given(hc.Sysctls) },
    ),
    restart: { policy: restart?.Name ?? '', maxRetries: restart?.MaximumRetryCount ?? 0, autoRemove: !!hc.AutoRemove },
    labels: config.Labels ?? {},
  };
  const health = healthcheck(config.Healthcheck, version);
  if (health) spec.healthcheck = health;
  if (hc.LogConfig) spec.log = assignDefined<LogSpec>({ driver: hc.LogConfig.Type ?? '' }, { options: given(hc.LogConfig.Config) });
  const annotations = (hc as { Annotations?: Record<string, string> | null }).Annotations;
  if (annotations) spec.annotations = annotations;
  if (hc.Runtime) spec.runtime = hc.Runtime;
  // --device (compose's devices:): echoed for inspect as given, made in the container as dockerd makes them.
  const devices = given(hc.Devices)?.map((d) => ({
    host: d.PathOnHost ?? '',
    container: d.PathInContainer || (d.PathOnHost ?? ''),
    permissions: d.CgroupPermissions || 'rwm',
  }));
  if (devices?.length) spec.devices = devices;
  // Windows' isolation modes: dockerd on Linux refuses them with a 500.
  if (hc.Isolation && hc.Isolation !== 'default') throw new EngineError('internal', `Invalid isolation: "${hc.Isolation}" - linux only supports 'default'`);
  const echo: DockerEcho = {
    // The attach flags are the client's business: kept as booleans, as dockerd stores them.
    Config: { ...without(config, MODELED_CONFIG), AttachStdin: !!config.AttachStdin, AttachStdout: !!config.AttachStdout, AttachStderr: !!config.AttachStderr },
    HostConfig: without(hc, MODELED_HOST_CONFIG),
  };
  return { spec, echo };
}

/** An update body (a HostConfig of limits and a restart policy) as the engine's update. */
export function updateOf(hc: HostConfig): ContainerUpdate {
  const { spec } = toSpec({ HostConfig: hc }, '');
  return hc.RestartPolicy?.Name ? { resources: spec.resources, restart: spec.restart } : { resources: spec.resources };
}

/**
 * A host config given to start (API < 1.24) as what start applies of it: ports, restart policy,
 * privileges, mounts and the network mode; a field given (null too) replaces the container's, as dockerd
 * replaces the host config.
 */
export function startChangesOf(hc: HostConfig): StartChanges {
  const { spec } = toSpec({ HostConfig: hc }, '');
  const out: StartChanges = {};
  if (hc.PortBindings !== undefined) out.publish = spec.ports.publish ?? null;
  if (hc.PublishAllPorts !== undefined) out.publishAll = !!hc.PublishAllPorts;
  if (hc.RestartPolicy !== undefined) out.restart = { policy: spec.restart.policy, maxRetries: spec.restart.maxRetries };
  if (hc.Privileged !== undefined) out.privileged = spec.security.privileged;
  if (hc.CapAdd !== undefined) out.capAdd = spec.security.capAdd ?? null;
  if (hc.CapDrop !== undefined) out.capDrop = spec.security.capDrop ?? null;
  const mounts: NonNullable<StartChanges['mounts']> = {};
  if (hc.Binds !== undefined) mounts.volumes = spec.mounts.volumes ?? null;
  if (hc.Mounts !== undefined) mounts.mounts = spec.mounts.mounts ?? null;
  if (hc.Tmpfs !== undefined) mounts.tmpfs = spec.mounts.tmpfs ?? null;
  if (hc.VolumesFrom !== undefined) mounts.volumesFrom = spec.mounts.volumesFrom ?? null;
  if (Object.keys(mounts).length) out.mounts = { ...mounts, volumeDriver: spec.mounts.volumeDriver };
  // dockerd's SetDefaultNetModeIfBlank: a body without one moves the container to the default network.
  out.network = { mode: hc.NetworkMode || 'default', namespace: spec.namespaces.network };
  return out;
}
