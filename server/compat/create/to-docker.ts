// A container's Docker Config and HostConfig rebuilt from its ContainerSpec and the Docker echo, as
// dockerd stores them: what inspect shows (views/containers.ts applies dockerd's zero values on top).
import type { ContainerConfig, HealthConfig, HostConfig } from '../../../openapi/containers.js';
import type { ContainerSpec, HealthcheckSpec } from '../../../runtime/api.js';
import type { ClientEcho, ImageContainerConfig } from '../../../runtime/api.js';
import type { DockerEcho } from './to-spec.js';

const set = (keys: string[]): Record<string, object> => Object.fromEntries(keys.map((k) => [k, {}]));

/** Sets the fields whose values are given (absent in the spec stays absent here). */
function assignDefined<T extends object>(to: T, from: { [K in keyof T]?: T[K] }): T {
  for (const [k, v] of Object.entries(from)) if (v !== undefined) (to as Record<string, unknown>)[k] = v;
  return to;
}

export function healthConfig(h: HealthcheckSpec): HealthConfig {
  return assignDefined<HealthConfig>(
    {},
    { Test: h.test, Interval: h.interval, Timeout: h.timeout, StartPeriod: h.startPeriod, StartInterval: h.startInterval, Retries: h.retries },
  );
}

/** Config as create and inspect have it; also an image config's `config` (what commit writes). */
type DockerConfig = ContainerConfig & ImageContainerConfig;

export function dockerConfig(spec: ContainerSpec, echo: DockerEcho): DockerConfig {
  const p = spec.process;
  return assignDefined<DockerConfig>(
    {
      ...echo.Config,
      ...(spec.network.disabled === undefined ? {} : { NetworkDisabled: spec.network.disabled }),
      Hostname: spec.network.hostname,
      Domainname: spec.network.domainname,
      User: p.user ?? '',
      Tty: p.tty,
      OpenStdin: p.stdin,
      StdinOnce: p.stdinOnce,
      Env: p.env,
      Cmd: p.command ?? null,
      Entrypoint: p.entrypoint ?? null,
      Image: spec.image,
      WorkingDir: p.workdir ?? '',
      Labels: spec.labels,
      ExposedPorts: set(spec.ports.expose),
      Volumes: set(spec.mounts.anonymous),
    },
    {
      StopSignal: p.stopSignal,
      StopTimeout: p.stopTimeout,
      Shell: p.shell,
      MacAddress: spec.network.mac,
      Healthcheck: spec.healthcheck && healthConfig(spec.healthcheck),
    },
  );
}

/** PidMode/UTSMode: a private namespace is ''; IpcMode keeps 'private' (dockerd's default-ipc-mode). */
const mode = (m: string, privateAs: string | undefined) => (m === 'private' ? privateAs : m);

export function dockerHostConfig(spec: ContainerSpec, echo: DockerEcho): HostConfig {
  const { process: p, mounts: m, network: n, resources: r, security: s, restart } = spec;
  const hc: HostConfig = { ...echo.HostConfig };
  return assignDefined<HostConfig>(hc, {
    Binds: m.volumes,
    VolumesFrom: m.volumesFrom,
    Mounts: m.mounts,
    Tmpfs: m.tmpfs,
    VolumeDriver: m.volumeDriver,
    NetworkMode: n.mode || undefined,
    Dns: n.dns,
    DnsSearch: n.dnsSearch,
    DnsOptions: n.dnsOptions,
    ExtraHosts: n.hosts,
    Links: n.links,
    PortBindings:
      spec.ports.publish &&
      Object.fromEntries(
        Object.entries(spec.ports.publish).map(([key, list]) => [
          key,
          list?.map((b) => assignDefined<{ HostIp?: string; HostPort?: string }>({}, { HostIp: b.hostIp, HostPort: b.hostPort })) ?? null,
        ]),
      ),
    PublishAllPorts: spec.ports.publishAll,
    RestartPolicy: restart.policy || restart.maxRetries ? { Name: restart.policy, MaximumRetryCount: restart.maxRetries } : undefined,
    AutoRemove: restart.autoRemove || undefined,
    Privileged: s.privileged || undefined,
    ReadonlyRootfs: s.readonlyRootfs || undefined,
    CapAdd: s.capAdd,
    CapDrop: s.capDrop,
    SecurityOpt: s.options,
    Sysctls: s.sysctls,
    GroupAdd: p.groups,
    Ulimits: p.rlimits?.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard })),
    Init: p.init,
    ConsoleSize: p.consoleSize,
    OomScoreAdj: p.oomScoreAdj,
    Runtime: spec.runtime,
    Memory: r.memory,
    MemorySwap: r.memorySwap,
    MemoryReservation: r.memoryReservation,
    MemorySwappiness: r.memorySwappiness,
    OomKillDisable: r.oomKillDisable,
    NanoCpus: r.nanoCpus,
    CpuShares: r.cpuShares,
    CpuPeriod: r.cpuPeriod,
    CpuQuota: r.cpuQuota,
    CpusetCpus: r.cpusetCpus,
    CpusetMems: r.cpusetMems,
    PidsLimit: r.pidsLimit,
    BlkioWeight: r.blkioWeight,
    DeviceCgroupRules: r.deviceRules,
    ShmSize: r.shmSize,
    LogConfig: spec.log && assignDefined<NonNullable<HostConfig['LogConfig']>>({ Type: spec.log.driver }, { Config: spec.log.options }),
    PidMode: mode(spec.namespaces.pid, undefined),
    IpcMode: mode(spec.namespaces.ipc, undefined),
    UTSMode: mode(spec.namespaces.uts, undefined),
    ...(spec.annotations ? { Annotations: spec.annotations } : {}),
  });
}

const record = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? { ...v } : {});

/** A stored echo as Docker's (a container the engine or another API made has none: {}). */
export const dockerEcho = (echo: ClientEcho): DockerEcho => ({ Config: record(echo.docker?.Config), HostConfig: record(echo.docker?.HostConfig) });

/** Both, as the containers row held them before the spec. */
export const dockerOf = (spec: ContainerSpec, echo: ClientEcho) => {
  const docker = dockerEcho(echo);
  return { config: dockerConfig(spec, docker), hostConfig: dockerHostConfig(spec, docker) };
};
