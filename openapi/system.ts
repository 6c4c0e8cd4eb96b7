// Schemas of /_ping, /version, /info and /system/df.
import { Type, type Static } from '@sinclair/typebox';
import { ImageSummary } from './images.js';
import { Volume } from './volumes.js';

const ComponentVersion = Type.Object({ Name: Type.String(), Version: Type.String(), Details: Type.Optional(Type.Record(Type.String(), Type.String())) });

export const SystemVersion = Type.Object({
  Platform: Type.Object({ Name: Type.String() }),
  Components: Type.Array(ComponentVersion),
  Version: Type.String(),
  ApiVersion: Type.String(),
  MinAPIVersion: Type.String(),
  GitCommit: Type.String(),
  GoVersion: Type.String(),
  Os: Type.String(),
  Arch: Type.String(),
  KernelVersion: Type.String(),
  Experimental: Type.Optional(Type.Boolean()),
  BuildTime: Type.String(),
});

const Commit = Type.Object({ ID: Type.String(), Expected: Type.Optional(Type.String()) });

export const SystemInfo = Type.Object({
  ID: Type.String(),
  Containers: Type.Integer(),
  ContainersRunning: Type.Integer(),
  ContainersPaused: Type.Integer(),
  ContainersStopped: Type.Integer(),
  Images: Type.Integer(),
  Driver: Type.String(),
  DriverStatus: Type.Array(Type.Array(Type.String())),
  Plugins: Type.Object({ Volume: Type.Array(Type.String()), Network: Type.Array(Type.String()), Authorization: Type.Null(), Log: Type.Array(Type.String()) }),
  MemoryLimit: Type.Boolean(),
  SwapLimit: Type.Boolean(),
  CpuCfsPeriod: Type.Boolean(),
  CpuCfsQuota: Type.Boolean(),
  CPUShares: Type.Boolean(),
  CPUSet: Type.Boolean(),
  PidsLimit: Type.Boolean(),
  OomKillDisable: Type.Boolean(),
  IPv4Forwarding: Type.Boolean(),
  BridgeNfIptables: Type.Boolean(),
  BridgeNfIp6tables: Type.Boolean(),
  Debug: Type.Boolean(),
  NFd: Type.Integer(),
  NGoroutines: Type.Integer(),
  SystemTime: Type.String(),
  LoggingDriver: Type.String(),
  CgroupDriver: Type.String(),
  CgroupVersion: Type.String(),
  NEventsListener: Type.Integer(),
  KernelVersion: Type.String(),
  OperatingSystem: Type.String(),
  OSVersion: Type.String(),
  OSType: Type.String(),
  Architecture: Type.String(),
  IndexServerAddress: Type.String(),
  RegistryConfig: Type.Object({}, { additionalProperties: true }),
  NCPU: Type.Integer(),
  MemTotal: Type.Integer(),
  GenericResources: Type.Null(),
  DockerRootDir: Type.String(),
  HttpProxy: Type.String(),
  HttpsProxy: Type.String(),
  NoProxy: Type.String(),
  Name: Type.String(),
  Labels: Type.Array(Type.String()),
  ExperimentalBuild: Type.Boolean(),
  ServerVersion: Type.String(),
  Runtimes: Type.Record(Type.String(), Type.Object({ path: Type.String() })),
  DefaultRuntime: Type.String(),
  Swarm: Type.Object({
    NodeID: Type.String(),
    NodeAddr: Type.String(),
    LocalNodeState: Type.String(),
    ControlAvailable: Type.Boolean(),
    Error: Type.String(),
    RemoteManagers: Type.Null(),
  }),
  LiveRestoreEnabled: Type.Boolean(),
  Isolation: Type.String(),
  InitBinary: Type.String(),
  ContainerdCommit: Commit,
  RuncCommit: Commit,
  InitCommit: Commit,
  SecurityOptions: Type.Array(Type.String()),
  CDISpecDirs: Type.Array(Type.String()),
  ExecutionDriver: Type.Optional(Type.String({ description: 'Before API 1.25 only' })),
  Warnings: Type.Union([Type.Array(Type.String()), Type.Null()]),
});

export type SystemVersion = Static<typeof SystemVersion>;
export type SystemInfo = Static<typeof SystemInfo>;

export const DiskUsageQuery = Type.Object({
  type: Type.Optional(
    Type.Union([Type.String(), Type.Array(Type.String())], { description: 'container, image, volume, build-cache (repeated; API ≥ 1.42); all when absent' }),
  ),
});

export const BuildCacheRecord = Type.Object({
  ID: Type.String(),
  Parents: Type.Union([Type.Array(Type.String()), Type.Null()]),
  Type: Type.String(),
  Description: Type.String(),
  InUse: Type.Boolean(),
  Shared: Type.Boolean(),
  Size: Type.Integer(),
  CreatedAt: Type.String(),
  LastUsedAt: Type.Union([Type.String(), Type.Null()]),
  UsageCount: Type.Integer(),
});

/** `GET /system/df`: kinds not asked for (`type`) are null. Containers are `GET /containers/json` items with SizeRw/SizeRootFs. */
export const SystemDataUsage = Type.Object({
  LayersSize: Type.Integer(),
  Images: Type.Union([Type.Array(ImageSummary), Type.Null()]),
  Containers: Type.Union([
    Type.Array(Type.Object({ SizeRw: Type.Optional(Type.Integer()), SizeRootFs: Type.Optional(Type.Integer()) }, { additionalProperties: true })),
    Type.Null(),
  ]),
  Volumes: Type.Union([Type.Array(Volume), Type.Null()]),
  BuildCache: Type.Union([Type.Array(BuildCacheRecord), Type.Null()]),
  BuilderSize: Type.Optional(Type.Integer({ description: 'API < 1.42, when not 0' })),
});

export type SystemDataUsage = Static<typeof SystemDataUsage>;
