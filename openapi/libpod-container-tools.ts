// Schemas of libpod's container tools: diff (changes), commit, export, stats, healthcheck run, the
// checkpoint/restore refusal, and top's query (cp and top are shared verbs: server/container-verbs).
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, QueryBool } from './common.js';

export const ContainerNameParams = Type.Object({ name: Type.String() });

/** `podman diff` sends `all`, `podman container diff` `container` (the name is then only a container's). */
export const LibpodChangesQuery = Type.Object({
  difftype: Type.Optional(Type.Union([Type.Literal('all'), Type.Literal('container'), Type.Literal('image')])),
  parent: Type.Optional(Type.String()),
});
/** Kind: 0 changed, 1 added, 2 deleted (as Docker's). */
export const LibpodChangesResponse = Type.Array(Type.Object({ Path: Type.String(), Kind: Type.Integer() }));

/** libpod's ps_args: psgo descriptors, comma-separated (the client joins them), possibly repeated. */
export const LibpodTopQuery = Type.Object({
  ps_args: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
  stream: Type.Optional(QueryBool),
  delay: Type.Optional(Type.String()),
});

export const LibpodCommitQuery = Type.Object({
  container: Type.String(),
  repo: Type.Optional(Type.String()),
  tag: Type.Optional(Type.String()),
  author: Type.Optional(Type.String()),
  comment: Type.Optional(Type.String()),
  /** `docker` or `oci` (podman's default). */
  format: Type.Optional(Type.String()),
  pause: Type.Optional(QueryBool),
  squash: Type.Optional(QueryBool),
  stream: Type.Optional(QueryBool),
  /** Dockerfile instructions (`-c`), repeated. */
  changes: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
});
export const LibpodCommitResponse = Type.Object({ Id: Type.String() });

export const LibpodStatsQuery = Type.Object({
  containers: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
  stream: Type.Optional(QueryBool),
  /** Seconds between samples while streaming (5 when absent). */
  interval: Type.Optional(Type.String()),
  all: Type.Optional(QueryBool),
});

/** One container's sample as libpod's define.ContainerStats: raw numbers, the client formats them. */
export const LibpodContainerStats = Type.Object({
  AvgCPU: Type.Number(),
  ContainerID: Type.String(),
  Name: Type.String(),
  PerCPU: Nullable(Type.Array(Type.Integer())),
  CPU: Type.Number(),
  CPUNano: Type.Integer(),
  CPUSystemNano: Type.Integer(),
  SystemNano: Type.Integer(),
  MemUsage: Type.Integer(),
  MemLimit: Type.Integer(),
  MemPerc: Type.Number(),
  NetInput: Type.Integer(),
  NetOutput: Type.Integer(),
  BlockInput: Type.Integer(),
  BlockOutput: Type.Integer(),
  PIDs: Type.Integer(),
  UpTime: Type.Integer(),
  Duration: Type.Integer(),
});
/** A line of GET /libpod/containers/stats; an unknown container is `{"Error":{},"Stats":null}` (podman's). */
export const LibpodStatsReport = Type.Object({ Error: Nullable(Type.Object({})), Stats: Nullable(Type.Array(LibpodContainerStats)) });

export const LibpodHealthcheckResponse = Type.Object({
  Status: Type.String(),
  FailingStreak: Type.Integer(),
  Log: Nullable(Type.Array(Type.Object({ Start: Type.String(), End: Type.String(), ExitCode: Type.Integer(), Output: Type.String() }))),
});

export type LibpodContainerStats = Static<typeof LibpodContainerStats>;
export type LibpodStatsReport = Static<typeof LibpodStatsReport>;
export type LibpodHealthcheckResponse = Static<typeof LibpodHealthcheckResponse>;
