// Schemas of the libpod API's system routes: /libpod/version, /info, /events, /system/df, /system/prune.
import { Type, type Static } from '@sinclair/typebox';
import { Filters, Nullable, QueryBool, StringMap } from './common.js';
import { SystemVersion } from './system.js';

/** GET /libpod/version: Docker's version shape, the first component podman's engine (the client reads its APIVersion). */
export const LibpodVersion = SystemVersion;

const Binary = Type.Object({ package: Type.String(), path: Type.String(), version: Type.String() });
const Runtime = Type.Object({ name: Type.String(), package: Type.String(), path: Type.String(), version: Type.String() });
const IdMap = Type.Object({ container_id: Type.Integer(), host_id: Type.Integer(), size: Type.Integer() });

/** A registries.conf `[[registry]]` as containers/image's sysregistriesv2.Registry marshals it. */
const RegistryEntry = Type.Object({
  Prefix: Type.String(),
  Location: Type.String(),
  Insecure: Type.Boolean(),
  PullFromMirror: Type.String(),
  Mirrors: Nullable(Type.Array(Type.Object({ Location: Type.String(), Insecure: Type.Boolean(), PullFromMirror: Type.String() }))),
  Blocked: Type.Boolean(),
  MirrorByDigestOnly: Type.Boolean(),
});

/** GET /libpod/info: podman's define.Info. */
export const LibpodInfo = Type.Object({
  host: Type.Object({
    arch: Type.String(),
    buildahVersion: Type.String(),
    cgroupManager: Type.String(),
    cgroupVersion: Type.String(),
    cgroupControllers: Type.Array(Type.String()),
    conmon: Binary,
    cpus: Type.Integer(),
    cpuUtilization: Type.Object({ userPercent: Type.Number(), systemPercent: Type.Number(), idlePercent: Type.Number() }),
    distribution: Type.Object({ distribution: Type.String(), variant: Type.Optional(Type.String()), version: Type.String(), codename: Type.String() }),
    eventLogger: Type.String(),
    hostname: Type.String(),
    idMappings: Type.Object({ gidmap: Nullable(Type.Array(IdMap)), uidmap: Nullable(Type.Array(IdMap)) }),
    kernel: Type.String(),
    logDriver: Type.String(),
    memFree: Type.Integer(),
    memTotal: Type.Integer(),
    networkBackend: Type.String(),
    ociRuntime: Runtime,
    os: Type.String(),
    remoteSocket: Type.Object({ path: Type.String(), exists: Type.Boolean() }),
    serviceIsRemote: Type.Boolean(),
    security: Type.Object({
      apparmorEnabled: Type.Boolean(),
      capabilities: Type.String(),
      rootless: Type.Boolean(),
      seccompEnabled: Type.Boolean(),
      seccompProfilePath: Type.String(),
      selinuxEnabled: Type.Boolean(),
    }),
    slirp4netns: Type.Object({ executable: Type.String(), package: Type.String(), version: Type.String() }),
    swapFree: Type.Integer(),
    swapTotal: Type.Integer(),
    uptime: Type.String(),
    linkmode: Type.String(),
  }),
  store: Type.Object({
    configFile: Type.String(),
    containerStore: Type.Object({ number: Type.Integer(), paused: Type.Integer(), running: Type.Integer(), stopped: Type.Integer() }),
    graphDriverName: Type.String(),
    graphOptions: StringMap,
    graphRoot: Type.String(),
    graphRootAllocated: Type.Integer(),
    graphRootUsed: Type.Integer(),
    graphStatus: StringMap,
    imageCopyTmpDir: Type.String(),
    imageStore: Type.Object({ number: Type.Integer() }),
    runRoot: Type.String(),
    volumePath: Type.String(),
  }),
  /** `search` (unqualified-search-registries) when set, and each `[[registry]]` by its prefix. */
  registries: Type.Record(Type.String(), Type.Union([Type.Array(Type.String()), RegistryEntry])),
  plugins: Type.Object({ volume: Type.Array(Type.String()), network: Type.Array(Type.String()), log: Type.Array(Type.String()), authorization: Type.Null() }),
  version: Type.Object({
    APIVersion: Type.String(),
    Version: Type.String(),
    GoVersion: Type.String(),
    GitCommit: Type.String(),
    BuiltTime: Type.String(),
    Built: Type.Integer(),
    OsArch: Type.String(),
    Os: Type.String(),
  }),
});

/** GET /libpod/events (podman sends all four, empty when unset). */
export const LibpodEventsQuery = Type.Object({
  filters: Type.Optional(Filters),
  since: Type.Optional(Type.String({ description: 'Unix seconds, RFC 3339, or a Go duration before now' })),
  until: Type.Optional(Type.String()),
  stream: Type.Optional(QueryBool),
});

/** GET /libpod/system/df. */
export const LibpodDiskUsage = Type.Object({
  Images: Type.Array(
    Type.Object({
      Repository: Type.String(),
      Tag: Type.String(),
      ImageID: Type.String(),
      Created: Type.String(),
      Size: Type.Integer(),
      SharedSize: Type.Integer(),
      UniqueSize: Type.Integer(),
      Containers: Type.Integer(),
    }),
  ),
  Containers: Type.Array(
    Type.Object({
      ContainerID: Type.String(),
      Image: Type.String(),
      Command: Type.Array(Type.String()),
      LocalVolumes: Type.Integer(),
      Size: Type.Integer(),
      RWSize: Type.Integer(),
      Created: Type.String(),
      Status: Type.String(),
      Names: Type.String(),
    }),
  ),
  Volumes: Type.Array(Type.Object({ VolumeName: Type.String(), Links: Type.Integer(), Size: Type.Integer(), ReclaimableSize: Type.Integer() })),
});

/** POST /libpod/system/prune. */
export const LibpodSystemPruneQuery = Type.Object({ all: Type.Optional(QueryBool), volumes: Type.Optional(QueryBool), filters: Type.Optional(Filters) });

const PruneItems = Nullable(Type.Array(Type.Object({ Id: Type.String(), Size: Type.Integer() })));
export const LibpodSystemPruneReport = Type.Object({
  PodPruneReport: Nullable(Type.Array(Type.Object({ Err: Nullable(Type.String()), Id: Type.String() }))),
  ContainerPruneReports: PruneItems,
  ImagePruneReports: PruneItems,
  NetworkPruneReports: Nullable(Type.Array(Type.Object({ Name: Type.String(), Error: Type.Null() }))),
  VolumePruneReports: PruneItems,
  ReclaimedSpace: Type.Integer(),
});

export type LibpodVersion = Static<typeof LibpodVersion>;
export type LibpodInfo = Static<typeof LibpodInfo>;
export type LibpodDiskUsage = Static<typeof LibpodDiskUsage>;
export type LibpodSystemPruneReport = Static<typeof LibpodSystemPruneReport>;
