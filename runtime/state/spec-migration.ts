// Migration 14's row conversion: a containers row as berth wrote it before ContainerSpec (Docker's
// Config, image defaults merged, and HostConfig as sent, in JSON columns) becomes a spec and the Docker
// echo (what the spec does not model, as server/compat/create writes it). Frozen with the migration:
// later changes to the converter must not change what an old row becomes.
import type { DB } from './db.js';

type Json = Record<string, unknown>;

const CONFIG_MODELED = [
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
];
const HOST_MODELED = [
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
];

/** The fields whose values are not null or undefined (Go's zero value for null: absent). */
const defined = (o: Json): Json => Object.fromEntries(Object.entries(o).filter(([, v]) => v != null));
const list = (v: unknown) => (v == null ? undefined : Array.isArray(v) ? v : [v]);
const without = (o: Json, keys: string[]) => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
const ns = (m: unknown) => (typeof m === 'string' && (m === 'host' || m.startsWith('container:')) ? m : 'private');

export function specOfLegacyRow(config: Json, hc: Json): { spec: Json; echo: Json } {
  const ipc = hc.IpcMode === 'shareable' || hc.IpcMode === 'none' ? hc.IpcMode : ns(hc.IpcMode);
  const net =
    hc.NetworkMode === 'host' || hc.NetworkMode === 'none'
      ? hc.NetworkMode
      : typeof hc.NetworkMode === 'string' && hc.NetworkMode.startsWith('container:')
        ? hc.NetworkMode
        : 'private';
  const restart = (hc.RestartPolicy ?? {}) as Json;
  const health = config.Healthcheck as Json | null | undefined;
  const log = hc.LogConfig as Json | null | undefined;
  const bindings = hc.PortBindings as Record<string, Json[] | null> | null | undefined;
  const spec: Json = defined({
    image: config.Image ?? '',
    process: defined({
      env: config.Env ?? [],
      tty: !!config.Tty,
      stdin: !!config.OpenStdin,
      stdinOnce: !!config.StdinOnce,
      entrypoint: list(config.Entrypoint),
      command: list(config.Cmd),
      workdir: config.WorkingDir || undefined,
      user: config.User || undefined,
      groups: hc.GroupAdd,
      consoleSize: hc.ConsoleSize,
      init: hc.Init,
      shell: config.Shell,
      stopSignal: config.StopSignal || undefined,
      stopTimeout: config.StopTimeout,
      rlimits: (hc.Ulimits as Json[] | null | undefined)?.map((u) => ({ name: u.Name, soft: u.Soft, hard: u.Hard })),
      oomScoreAdj: hc.OomScoreAdj,
    }),
    namespaces: { pid: ns(hc.PidMode), ipc, uts: ns(hc.UTSMode), network: net },
    mounts: defined({
      anonymous: Object.keys((config.Volumes as Json | null) ?? {}),
      volumes: hc.Binds,
      mounts: hc.Mounts,
      tmpfs: hc.Tmpfs,
      volumesFrom: hc.VolumesFrom,
      volumeDriver: hc.VolumeDriver || undefined,
    }),
    ports: defined({
      expose: Object.keys((config.ExposedPorts as Json | null) ?? {}),
      publish: bindings
        ? Object.fromEntries(Object.entries(bindings).map(([k, l]) => [k, l?.map((b) => defined({ hostIp: b.HostIp, hostPort: b.HostPort })) ?? null]))
        : undefined,
      publishAll: hc.PublishAllPorts,
    }),
    network: defined({
      mode: hc.NetworkMode ?? '',
      hostname: config.Hostname ?? '',
      domainname: config.Domainname ?? '',
      mac: config.MacAddress || undefined,
      dns: hc.Dns,
      dnsSearch: hc.DnsSearch,
      dnsOptions: hc.DnsOptions,
      hosts: hc.ExtraHosts,
      links: hc.Links,
      disabled: config.NetworkDisabled,
    }),
    resources: defined({
      memory: hc.Memory,
      memorySwap: hc.MemorySwap,
      memoryReservation: hc.MemoryReservation,
      nanoCpus: hc.NanoCpus,
      cpuShares: hc.CpuShares,
      cpuPeriod: hc.CpuPeriod,
      cpuQuota: hc.CpuQuota,
      cpusetCpus: hc.CpusetCpus,
      cpusetMems: hc.CpusetMems,
      pidsLimit: hc.PidsLimit,
      blkioWeight: hc.BlkioWeight,
      oomKillDisable: hc.OomKillDisable,
      memorySwappiness: hc.MemorySwappiness,
      deviceRules: hc.DeviceCgroupRules,
      shmSize: hc.ShmSize,
    }),
    security: defined({
      privileged: !!hc.Privileged,
      readonlyRootfs: !!hc.ReadonlyRootfs,
      capAdd: hc.CapAdd,
      capDrop: hc.CapDrop,
      options: hc.SecurityOpt,
      sysctls: hc.Sysctls,
    }),
    restart: { policy: restart.Name ?? '', maxRetries: restart.MaximumRetryCount ?? 0, autoRemove: !!hc.AutoRemove },
    healthcheck: health
      ? defined({
          test: health.Test,
          interval: health.Interval,
          timeout: health.Timeout,
          startPeriod: health.StartPeriod,
          startInterval: health.StartInterval,
          retries: health.Retries,
        })
      : undefined,
    log: log ? defined({ driver: log.Type ?? '', options: log.Config }) : undefined,
    labels: config.Labels ?? {},
    annotations: hc.Annotations,
    runtime: hc.Runtime || undefined,
  });
  const echo = {
    Config: { ...without(config, CONFIG_MODELED), AttachStdin: !!config.AttachStdin, AttachStdout: !!config.AttachStdout, AttachStderr: !!config.AttachStderr },
    HostConfig: without(hc, HOST_MODELED),
  };
  return { spec, echo };
}

/** Fills the spec and echo columns of every row from its config and host_config, then drops those. */
export function migrateContainerRows(db: DB): void {
  const rows = db.prepare('SELECT id, config, host_config FROM containers').all() as { id: string; config: string; host_config: string }[];
  const write = db.prepare('UPDATE containers SET spec = ?, echo = ? WHERE id = ?');
  for (const row of rows) {
    const { spec, echo } = specOfLegacyRow(JSON.parse(row.config) as Json, JSON.parse(row.host_config) as Json);
    write.run(JSON.stringify(spec), JSON.stringify(echo), row.id);
  }
}
