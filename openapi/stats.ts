// GET /containers/{id}/stats: the query and Docker's stats document (moby's StatsJSON, field for field,
// in its field order; `Optional` marks what Go's omitempty leaves out when zero).
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, QueryBool } from './common.js';

export const StatsQuery = Type.Object({
  stream: Type.Optional(QueryBool),
  'one-shot': Type.Optional(QueryBool),
});
export type StatsQuery = Static<typeof StatsQuery>;

// Counters are Go uint64s; JSON numbers here, exact up to 2^53.
const Count = Type.Integer({ minimum: 0 });

export const BlkioStatEntry = Type.Object({ major: Count, minor: Count, op: Type.String(), value: Count });
const BlkioList = Nullable(Type.Array(BlkioStatEntry));
export const BlkioStats = Type.Object({
  io_service_bytes_recursive: BlkioList,
  io_serviced_recursive: BlkioList,
  io_queue_recursive: BlkioList,
  io_service_time_recursive: BlkioList,
  io_wait_time_recursive: BlkioList,
  io_merged_recursive: BlkioList,
  io_time_recursive: BlkioList,
  sectors_recursive: BlkioList,
});

export const CpuStats = Type.Object({
  cpu_usage: Type.Object({
    total_usage: Count,
    percpu_usage: Type.Optional(Type.Array(Count, { description: 'cgroup v1 only' })),
    usage_in_kernelmode: Count,
    usage_in_usermode: Count,
  }),
  system_cpu_usage: Type.Optional(Count),
  online_cpus: Type.Optional(Count),
  throttling_data: Type.Object({ periods: Count, throttled_periods: Count, throttled_time: Count }),
});

export const MemoryStats = Type.Object({
  usage: Type.Optional(Count),
  max_usage: Type.Optional(Type.Integer({ minimum: 0, description: 'cgroup v1 only' })),
  stats: Type.Optional(Type.Record(Type.String(), Count)),
  failcnt: Type.Optional(Count),
  limit: Type.Optional(Count),
});

export const NetworkStats = Type.Object({
  rx_bytes: Count,
  rx_packets: Count,
  rx_errors: Count,
  rx_dropped: Count,
  tx_bytes: Count,
  tx_packets: Count,
  tx_errors: Count,
  tx_dropped: Count,
});

export const PidsStats = Type.Object({ current: Type.Optional(Count), limit: Type.Optional(Count) });

export const ContainerStatsResponse = Type.Object({
  read: Type.String({ description: 'RFC 3339 with nanoseconds; 0001-01-01T00:00:00Z when not running' }),
  preread: Type.String(),
  pids_stats: PidsStats,
  blkio_stats: BlkioStats,
  num_procs: Count,
  storage_stats: Type.Object({}),
  cpu_stats: CpuStats,
  precpu_stats: CpuStats,
  memory_stats: MemoryStats,
  name: Type.String(),
  id: Type.String(),
  networks: Type.Optional(Type.Record(Type.String(), NetworkStats)),
});

export type BlkioStatEntry = Static<typeof BlkioStatEntry>;
export type BlkioStats = Static<typeof BlkioStats>;
export type CpuStats = Static<typeof CpuStats>;
export type MemoryStats = Static<typeof MemoryStats>;
export type NetworkStats = Static<typeof NetworkStats>;
export type PidsStats = Static<typeof PidsStats>;
export type ContainerStats = Static<typeof ContainerStatsResponse>;
