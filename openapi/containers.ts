// Request and response schemas of the container endpoints (Docker Engine API, /containers).
import { Type, type Static } from '@sinclair/typebox';
import { Filters, Nullable, QueryBool, StringMap } from './common.js';
import { NetworkingConfig } from './networks.js';

const StrList = Nullable(Type.Array(Type.String()));
const Loose = { additionalProperties: true } as const;

export const RestartPolicy = Type.Object({ Name: Type.Optional(Type.String()), MaximumRetryCount: Type.Optional(Type.Integer()) }, Loose);
export const Ulimit = Type.Object({ Name: Type.String(), Soft: Type.Integer(), Hard: Type.Integer() });
export const MountSpec = Type.Object(
  // null is Go's zero value here, as dockerd decodes it: docker-py's Mount sends Source null (tmpfs,
  // anonymous volumes) and docker-compose ReadOnly null.
  {
    Type: Type.Optional(Type.String()),
    Source: Type.Optional(Nullable(Type.String())),
    Target: Type.Optional(Type.String()),
    ReadOnly: Type.Optional(Nullable(Type.Boolean())),
  },
  Loose,
);

export const PortBinding = Type.Object({ HostIp: Type.Optional(Type.String()), HostPort: Type.Optional(Type.String()) }, Loose);

export const HostConfig = Type.Object(
  {
    Binds: Type.Optional(StrList),
    VolumesFrom: Type.Optional(StrList),
    NetworkMode: Type.Optional(Type.String()),
    RestartPolicy: Type.Optional(Nullable(RestartPolicy)),
    AutoRemove: Type.Optional(Type.Boolean()),
    Privileged: Type.Optional(Type.Boolean()),
    ReadonlyRootfs: Type.Optional(Type.Boolean()),
    CapAdd: Type.Optional(StrList),
    CapDrop: Type.Optional(StrList),
    Dns: Type.Optional(StrList),
    DnsSearch: Type.Optional(StrList),
    DnsOptions: Type.Optional(StrList),
    ExtraHosts: Type.Optional(StrList),
    GroupAdd: Type.Optional(StrList),
    SecurityOpt: Type.Optional(StrList),
    Tmpfs: Type.Optional(Nullable(StringMap)),
    Sysctls: Type.Optional(Nullable(StringMap)),
    Ulimits: Type.Optional(Nullable(Type.Array(Ulimit))),
    Init: Type.Optional(Nullable(Type.Boolean())),
    ShmSize: Type.Optional(Type.Integer()),
    Runtime: Type.Optional(Type.String()),
    Memory: Type.Optional(Type.Integer()),
    MemorySwap: Type.Optional(Type.Integer()),
    MemoryReservation: Type.Optional(Type.Integer()),
    NanoCpus: Type.Optional(Type.Integer()),
    CpuShares: Type.Optional(Type.Integer()),
    CpuPeriod: Type.Optional(Type.Integer()),
    CpuQuota: Type.Optional(Type.Integer()),
    CpusetCpus: Type.Optional(Type.String()),
    CpusetMems: Type.Optional(Type.String()),
    PidsLimit: Type.Optional(Nullable(Type.Integer())),
    BlkioWeight: Type.Optional(Type.Integer()),
    OomKillDisable: Type.Optional(Nullable(Type.Boolean())),
    OomScoreAdj: Type.Optional(Nullable(Type.Integer())),
    MemorySwappiness: Type.Optional(Nullable(Type.Integer())),
    LogConfig: Type.Optional(Type.Object({ Type: Type.Optional(Type.String()), Config: Type.Optional(Nullable(StringMap)) }, Loose)),
    ConsoleSize: Type.Optional(Nullable(Type.Array(Type.Integer()))),
    Mounts: Type.Optional(Nullable(Type.Array(MountSpec))),
    PortBindings: Type.Optional(Nullable(Type.Record(Type.String(), Nullable(Type.Array(PortBinding))))),
    PublishAllPorts: Type.Optional(Nullable(Type.Boolean())),
    Links: Type.Optional(StrList),
    PidMode: Type.Optional(Type.String()),
    IpcMode: Type.Optional(Type.String()),
    UTSMode: Type.Optional(Type.String()),
    UsernsMode: Type.Optional(Type.String()),
    Isolation: Type.Optional(Type.String()),
    VolumeDriver: Type.Optional(Type.String()),
    DeviceCgroupRules: Type.Optional(StrList),
    Devices: Type.Optional(
      Nullable(
        Type.Array(
          Type.Object(
            { PathOnHost: Type.Optional(Type.String()), PathInContainer: Type.Optional(Type.String()), CgroupPermissions: Type.Optional(Type.String()) },
            Loose,
          ),
        ),
      ),
    ),
  },
  Loose,
);

/** Durations are nanoseconds (Go's time.Duration); null is 0, as Go decodes it. */
export const HealthConfig = Type.Object(
  {
    Test: Type.Optional(StrList),
    Interval: Type.Optional(Nullable(Type.Integer())),
    Timeout: Type.Optional(Nullable(Type.Integer())),
    StartPeriod: Type.Optional(Nullable(Type.Integer())),
    StartInterval: Type.Optional(Nullable(Type.Integer())),
    Retries: Type.Optional(Nullable(Type.Integer())),
  },
  Loose,
);

export const ContainerConfig = Type.Object(
  {
    Hostname: Type.Optional(Type.String()),
    Domainname: Type.Optional(Type.String()),
    User: Type.Optional(Type.String()),
    AttachStdin: Type.Optional(Type.Boolean()),
    AttachStdout: Type.Optional(Type.Boolean()),
    AttachStderr: Type.Optional(Type.Boolean()),
    ExposedPorts: Type.Optional(Nullable(Type.Record(Type.String(), Type.Unknown()))),
    Tty: Type.Optional(Type.Boolean()),
    OpenStdin: Type.Optional(Type.Boolean()),
    StdinOnce: Type.Optional(Type.Boolean()),
    Env: Type.Optional(StrList),
    Cmd: Type.Optional(Nullable(Type.Union([Type.Array(Type.String()), Type.String()]))),
    Entrypoint: Type.Optional(Nullable(Type.Union([Type.Array(Type.String()), Type.String()]))),
    Image: Type.Optional(Type.String()),
    Volumes: Type.Optional(Nullable(Type.Record(Type.String(), Type.Unknown()))),
    WorkingDir: Type.Optional(Type.String()),
    Labels: Type.Optional(Nullable(StringMap)),
    StopSignal: Type.Optional(Type.String()),
    StopTimeout: Type.Optional(Nullable(Type.Integer())),
    Healthcheck: Type.Optional(Nullable(HealthConfig)),
    /** The shell of CMD-SHELL healthchecks (dockerd's default: /bin/sh -c). */
    Shell: Type.Optional(StrList),
    MacAddress: Type.Optional(Type.String()),
  },
  Loose,
);

export const ContainerCreateBody = Type.Intersect([
  ContainerConfig,
  Type.Object({ HostConfig: Type.Optional(Nullable(HostConfig)), NetworkingConfig: Type.Optional(Nullable(NetworkingConfig)) }, Loose),
]);

export const ContainerCreateQuery = Type.Object({ name: Type.Optional(Type.String()), platform: Type.Optional(Type.String()) });
export const ContainerCreateResponse = Type.Object({ Id: Type.String(), Warnings: Type.Array(Type.String()) });
export const ContainerListQuery = Type.Object({
  all: Type.Optional(QueryBool),
  limit: Type.Optional(Type.String()),
  size: Type.Optional(QueryBool),
  filters: Type.Optional(Filters),
});
export const InspectQuery = Type.Object({ size: Type.Optional(QueryBool) });
export const StopQuery = Type.Object({ t: Type.Optional(Type.String()), signal: Type.Optional(Type.String()) });
/** libpod's stop: `timeout` (seconds, unsigned) rather than Docker's `t`. */
export const LibpodStopQuery = Type.Object({ timeout: Type.Optional(Type.String()), ignore: Type.Optional(QueryBool) });
/** libpod's wait: container states (repeatable), and podman's polling interval (berth is told of changes). */
export const LibpodWaitQuery = Type.Object({
  condition: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
  interval: Type.Optional(Type.String()),
});
export const KillQuery = Type.Object({ signal: Type.Optional(Type.String()) });
export const WaitQuery = Type.Object({
  condition: Type.Optional(Type.Union([Type.Literal('not-running'), Type.Literal('next-exit'), Type.Literal('removed'), Type.Literal('')])),
});
export const RemoveQuery = Type.Object({ force: Type.Optional(QueryBool), v: Type.Optional(QueryBool), link: Type.Optional(QueryBool) });
export const RenameQuery = Type.Object({ name: Type.String() });
export const LogsQuery = Type.Object({
  follow: Type.Optional(QueryBool),
  stdout: Type.Optional(QueryBool),
  stderr: Type.Optional(QueryBool),
  since: Type.Optional(Type.String()),
  until: Type.Optional(Type.String()),
  timestamps: Type.Optional(QueryBool),
  tail: Type.Optional(Type.String()),
});
export const TopQuery = Type.Object({ ps_args: Type.Optional(Type.String()) });
export const AttachQuery = Type.Object({
  stream: Type.Optional(QueryBool),
  stdin: Type.Optional(QueryBool),
  stdout: Type.Optional(QueryBool),
  stderr: Type.Optional(QueryBool),
  logs: Type.Optional(QueryBool),
  detachKeys: Type.Optional(Type.String()),
  detachkeys: Type.Optional(Type.String({ description: 'detachKeys, as some clients spell it' })),
});
export const ResizeQuery = Type.Object({ h: Type.Optional(Type.String()), w: Type.Optional(Type.String()) });

export const CommitQuery = Type.Object({
  container: Type.Optional(Type.String()),
  repo: Type.Optional(Type.String()),
  tag: Type.Optional(Type.String()),
  comment: Type.Optional(Type.String()),
  author: Type.Optional(Type.String()),
  pause: Type.Optional(QueryBool),
  changes: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
});

export const ContainerIdParams = Type.Object({ id: Type.String({ description: 'the container: its ID, an ID prefix, or its name' }) });
/** `DELETE /containers/{parent}/{alias}?link=1`: a link's name (`/web/db`) spans two segments. */
export const LinkParams = Type.Object({ parent: Type.String(), alias: Type.String() });
export const ArchiveQuery = Type.Object({ path: Type.Optional(Type.String()) });
export const ExtractQuery = Type.Object({
  path: Type.Optional(Type.String()),
  copyUIDGID: Type.Optional(QueryBool),
  noOverwriteDirNonDir: Type.Optional(QueryBool),
  /** podman's spelling (libpod). */
  nooverwritedirnondir: Type.Optional(QueryBool),
});

/**
 * Inspect, and each list entry: the view's fields are many and vary with the API version, so only the
 * leading ones are listed (the serializer keeps the rest as built, in their order).
 */
export const ContainerInspectResponse = Type.Unsafe<object>(Type.Object({ Id: Type.String() }, { additionalProperties: true }));
export const ContainerListResponse = Type.Array(
  Type.Unsafe<object>(Type.Object({ Id: Type.String(), Names: Type.Array(Type.String()) }, { additionalProperties: true })),
);
/** Kind: 0 modified, 1 added, 2 deleted. No change at all is null, as dockerd sends it. */
export const ChangesResponse = Nullable(Type.Array(Type.Object({ Path: Type.String(), Kind: Type.Integer() })));
export const TopResponse = Type.Object({ Titles: Type.Array(Type.String()), Processes: Type.Array(Type.Array(Type.String())) });
export const WaitResponse = Type.Object({ Error: Nullable(Type.Object({ Message: Type.String() })), StatusCode: Type.Integer() });
export const ContainerUpdateResponse = Type.Object({ Warnings: Type.Array(Type.String()) });
export const CommitResponse = Type.Object({ Id: Type.String() });

export type CommitQuery = Static<typeof CommitQuery>;
export type HostConfig = Static<typeof HostConfig>;
export type PortBinding = Static<typeof PortBinding>;
export type ContainerConfig = Static<typeof ContainerConfig>;
export type HealthConfig = Static<typeof HealthConfig>;
export type ContainerCreateBody = Static<typeof ContainerCreateBody>;
export type ContainerListQuery = Static<typeof ContainerListQuery>;
export type LogsQuery = Static<typeof LogsQuery>;
export type AttachQuery = Static<typeof AttachQuery>;
