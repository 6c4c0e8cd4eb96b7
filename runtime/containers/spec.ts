// ContainerSpec: berth's own model of a container to create, whichever API asked for it (Docker's
// create body today, libpod's SpecGenerator next). The state DB stores it, the OCI spec is built from it,
// and each API's views rebuild their inspect from it (plus that API's echo of what it alone models).
// Optional fields are "not given": an API that tells absent from empty (Docker's null CapAdd vs []) keeps
// the difference. Values the engine completes at create (image defaults, names resolved to IDs) are
// written back here, so the stored spec is what runs.
import type { MountRequest } from '../volumes/mounts.js';

export type { MountRequest };

/** A namespace: a new one of the container's own, the host's, another container's, or a pod's. */
export type NamespaceMode = 'private' | 'host' | `container:${string}` | `pod:${string}`;
/** IPC adds `shareable` (private, and joinable by others) and `none` (private, without /dev/shm). */
export type IpcNamespaceMode = NamespaceMode | 'shareable' | 'none';
/** The network namespace: private ones join `networks`; `none` is private with loopback only. */
export type NetworkNamespaceMode = NamespaceMode | 'none';

export interface Namespaces {
  pid: NamespaceMode;
  ipc: IpcNamespaceMode;
  uts: NamespaceMode;
  network: NetworkNamespaceMode;
  /** The cgroup namespace (absent: a new one); a pod sharing `cgroup` gives its members the infra's. */
  cgroup?: NamespaceMode;
  /** --userns as given (podman's modes: '' or host, keep-id[:uid=,gid=], nomap, auto[:size=]); rootless/userns-modes.ts. */
  user?: string;
}

export interface ProcessSpec {
  /** Absent: the image's. An empty list clears the image's. */
  entrypoint?: string[];
  /** Absent: the image's (when the entrypoint is not the request's). */
  command?: string[];
  /** KEY=value, in order; the image's are merged in at create. */
  env: string[];
  workdir?: string;
  /** user[:group], names or IDs, resolved in the rootfs at start. */
  user?: string;
  /** Supplementary groups (names or IDs). */
  groups?: string[];
  tty: boolean;
  /** Stdin kept open (attachable); `stdinOnce` closes it after the first attach detaches. */
  stdin: boolean;
  stdinOnce: boolean;
  /** [rows, cols] of the terminal at start. */
  consoleSize?: number[];
  /** A static init as PID 1 (absent: the engine's default, which is none). */
  init?: boolean;
  /** The shell of shell-form commands (healthcheck CMD-SHELL). */
  shell?: string[];
  stopSignal?: string;
  /** Seconds a stop waits before SIGKILL (absent: 10). */
  stopTimeout?: number;
  rlimits?: { name: string; soft: number; hard: number }[];
  oomScoreAdj?: number;
  /** The process's umask, octal text (`0022`); absent: runc's default. */
  umask?: string;
  /** /etc/localtime from the host's zoneinfo (`Europe/Paris`), or the host's own (`local`). */
  timezone?: string;
}

export interface MountsSpec {
  /** `src:dst[:opts]` volume and bind specs (the CLI's -v syntax, shared by docker and podman). */
  volumes?: string[];
  /** Mounts as asked (volumes/mounts.ts plans them into the container's mount points). */
  mounts?: MountRequest[];
  /** Destination → mount options. */
  tmpfs?: Record<string, string>;
  /** `<container>[:ro|rw]`: another container's mounts. */
  volumesFrom?: string[];
  /** The driver of the volumes this create makes. */
  volumeDriver?: string;
  /** Anonymous volumes at these paths (the image's VOLUMEs are merged in at create). */
  anonymous: string[];
  /** Destinations whose source (volume or host directory) is chowned to the container's user at start (podman's `:U`). */
  chownToUser?: string[];
}

export interface PortSpec {
  /** `port/proto` keys the container exposes (the image's are merged in at create). */
  expose: string[];
  /** `port/proto` → host bindings as asked (null: exposed, not published). */
  publish?: Record<string, { hostIp?: string; hostPort?: string }[] | null>;
  /** Every exposed port on an ephemeral host port. */
  publishAll?: boolean;
}

export interface EndpointSpec {
  aliases?: string[];
  ipv4?: string;
  ipv6?: string;
  /** Present (maybe empty) when IPAM settings were given. */
  linkLocalIps?: string[];
  mac?: string;
  driverOpts?: Record<string, string>;
  /** Links on a user network, as given (`name:alias`): the alias resolves to the named container there. */
  links?: string[];
}

export interface NetworkSpec {
  /** The primary network's name for a private namespace ('' or 'default': the default bridge). */
  mode: string;
  /** Networks to join, by name, in order, with their endpoint settings. */
  endpoints?: Record<string, EndpointSpec | null>;
  hostname: string;
  domainname: string;
  /** The container's MAC on its primary network. */
  mac?: string;
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  /** `host:ip` lines for /etc/hosts. */
  hosts?: string[];
  /** Legacy links, `name:alias` by the linked container's own name. */
  links?: string[];
  /** No network at all (Docker's NetworkDisabled), as given. */
  disabled?: boolean;
}

export interface ResourcesSpec {
  memory?: number;
  memorySwap?: number;
  memoryReservation?: number;
  memorySwappiness?: number | null;
  oomKillDisable?: boolean | null;
  nanoCpus?: number;
  cpuShares?: number;
  cpuPeriod?: number;
  cpuQuota?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: number | null;
  blkioWeight?: number;
  /** `c 1:3 rwm` device cgroup rules. */
  deviceRules?: string[];
  shmSize?: number;
}

export interface SecuritySpec {
  privileged: boolean;
  readonlyRootfs: boolean;
  capAdd?: string[];
  capDrop?: string[];
  /** `key=value` options: seccomp, no-new-privileges, writable-cgroups, apparmor, label. */
  options?: string[];
  sysctls?: Record<string, string>;
}

export interface RestartSpec {
  /** no | always | unless-stopped | on-failure ('' as not given). */
  policy: string;
  maxRetries: number;
  /** Removed when it exits. */
  autoRemove: boolean;
}

/**
 * A secret the container gets (libpod's --secret): a read-only file, or an environment variable set at
 * start only (never in process.env, so no inspect shows its value).
 */
export interface SecretSpec {
  /** The secret's ID (resolved at create; a secret removed since fails the start). */
  id: string;
  /** Its name as given, for messages. */
  name: string;
  type: 'mount' | 'env';
  /** mount: the path, under /run/secrets when relative; env: the variable's name. */
  target: string;
  /** mount: the file's owner and mode (podman's defaults 0, 0, 0444). */
  uid?: number;
  gid?: number;
  mode?: number;
}

/** Nanosecond durations; absent fields take the image's, then the engine's defaults. */
export interface HealthcheckSpec {
  test?: string[];
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  startInterval?: number;
  retries?: number;
}

export interface LogSpec {
  driver: string;
  options?: Record<string, string>;
}

/** One line of a uid_map or gid_map (rootless/idmap.ts). */
export interface IdMappingSpec {
  containerID: number;
  hostID: number;
  size: number;
}

export interface ContainerSpec {
  /** The image as the client named it. */
  image: string;
  process: ProcessSpec;
  namespaces: Namespaces;
  /** --userns auto's slice of the engine's user namespace, claimed at create (rootless/userns-slices.ts). */
  userRange?: { start: number; size: number };
  /** --userns container:<id> (rootless): that container's user namespace mappings, recorded at create (rootless/userns-modes.ts). */
  joinedUserns?: { uidMappings: IdMappingSpec[]; gidMappings: IdMappingSpec[] };
  /** The pod the container belongs to (libpod): its ID, resolved at create (runtime/pods/members.ts). */
  pod?: string;
  /** The cgroup its own cgroup is made under (absent: `/berth`); a pod's members share the pod's. */
  cgroupParent?: string;
  mounts: MountsSpec;
  ports: PortSpec;
  network: NetworkSpec;
  resources: ResourcesSpec;
  security: SecuritySpec;
  restart: RestartSpec;
  healthcheck?: HealthcheckSpec;
  log?: LogSpec;
  labels: Record<string, string>;
  /** OCI annotations. */
  annotations?: Record<string, string>;
  /** The OCI runtime to run it with (absent: the engine's default). */
  runtime?: string;
  /** Secrets (libpod). */
  secrets?: SecretSpec[];
  /** Host devices made in the container (`--device host[:container[:perms]]`). */
  devices?: DeviceSpec[];
  /**
   * Host directories mounted as the lower layer of an overlay (podman's `-v src:dst:O`): the container
   * writes to a fresh upper layer each run, the host directory stays as it is.
   */
  overlays?: OverlaySpec[];
  /** Containers (IDs) started before this one and removed only with it (podman's `--requires`). */
  dependencies?: string[];
}

export interface OverlaySpec {
  /** The host directory (absolute). */
  source: string;
  target: string;
}

export interface DeviceSpec {
  host: string;
  container: string;
  /** Cgroup access: some of r, w, m. */
  permissions: string;
}

/** What `update` may change: limits, and the restart policy when one is named. */
export interface ContainerUpdate {
  resources: ResourcesSpec;
  restart?: Pick<RestartSpec, 'policy' | 'maxRetries'>;
}

/** What a start before Docker API 1.24 may change (the host config it carries); absent: unchanged. */
export interface StartChanges {
  publish?: PortSpec['publish'] | null;
  publishAll?: boolean;
  restart?: Pick<RestartSpec, 'policy' | 'maxRetries'>;
  privileged?: boolean;
  /** null: given as null (none added or dropped any more). */
  capAdd?: string[] | null;
  capDrop?: string[] | null;
  /**
   * Mount fields given (null: given as null), each replacing the container's; their mount points are
   * registered over create's. `volumeDriver`: the driver of the volumes this start makes.
   */
  mounts?: { [K in 'volumes' | 'mounts' | 'tmpfs' | 'volumesFrom']?: MountsSpec[K] | null } & { volumeDriver?: string };
  /** The network mode (a blank one given as `default`); a different one replaces the container's networks. */
  network?: { mode: string; namespace: NetworkNamespaceMode };
}

/** The namespace a mode joins (`container:<ref>`), if it joins a container's. */
export const joinedContainer = (mode: string): string | undefined => (mode.startsWith('container:') ? mode.slice('container:'.length) : undefined);
