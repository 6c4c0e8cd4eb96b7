// Schemas of libpod's verbs on a pod's members: start, stop, restart, kill, pause, unpause (a report of
// each member's error), top and stats.
import { Type } from '@sinclair/typebox';
import { Nullable, QueryBool } from './common.js';

export const PodNameParams = Type.Object({ name: Type.String() });

/** `timeout`: seconds before a stop kills (absent or -1: each member's own). */
export const PodStopQuery = Type.Object({ timeout: Type.Optional(Type.String()) });
/** `signal`: a name or number (absent: SIGKILL). */
export const PodKillQuery = Type.Object({ signal: Type.Optional(Type.String()) });

/**
 * podman's report of a verb: the pod's ID and its members' errors (null when none; podman's strings,
 * `starting container <id>: <cause>`, with a 409).
 */
export const PodVerbResponse = Type.Object({ Errs: Nullable(Type.Array(Type.String())), Id: Type.String() });

/** `ps_args`: psgo's descriptors (the client joins them with commas). */
export const PodTopQuery = Type.Object({
  ps_args: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
  stream: Type.Optional(QueryBool),
  delay: Type.Optional(Type.String()),
});

/** `namesOrIDs` (repeated) or `all`, not both; neither: all pods. */
export const PodStatsQuery = Type.Object({
  namesOrIDs: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
  all: Type.Optional(QueryBool),
});

/** One member's figures as podman's service formats them (the client prints them as they are). */
export const PodStatsReport = Type.Object({
  CPU: Type.String(),
  MemUsage: Type.String(),
  MemUsageBytes: Type.String(),
  Mem: Type.String(),
  NetIO: Type.String(),
  BlockIO: Type.String(),
  PIDS: Type.String(),
  Pod: Type.String(),
  CID: Type.String(),
  Name: Type.String(),
});
export const PodStatsResponse = Type.Array(PodStatsReport);
