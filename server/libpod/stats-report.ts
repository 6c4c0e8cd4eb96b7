// libpod's stats sample (define.ContainerStats) from a reading of the container's cgroup and network:
// raw numbers the client formats itself. Percentages as libpod computes them: CPU over the time since
// the previous sample (the first: since the container started), AvgCPU over the whole run.
import type { Api } from '../../runtime/api.js';
import type { LibpodContainerStats } from '../../openapi/libpod-container-tools.js';

type Sampled = Awaited<ReturnType<Api['containers']['statsReading']>>;

/** The previous sample's CPU figures (ns), for the next sample's CPU percentage. */
export interface PreviousSample {
  cpuNano: number;
  systemNano: number;
}

const percent = (cpuDelta: number, timeDelta: number) => (cpuDelta > 0 && timeDelta > 0 ? (cpuDelta / timeDelta) * 100 : 0);

/** What libpod reports of a container that runs no process: its ID and name, every number 0. */
const zeroSample = (id: string, name: string): LibpodContainerStats => ({
  AvgCPU: 0,
  ContainerID: id,
  Name: name,
  PerCPU: null,
  CPU: 0,
  CPUNano: 0,
  CPUSystemNano: 0,
  SystemNano: 0,
  MemUsage: 0,
  MemLimit: 0,
  MemPerc: 0,
  NetInput: 0,
  NetOutput: 0,
  BlockInput: 0,
  BlockOutput: 0,
  PIDs: 0,
  UpTime: 0,
  Duration: 0,
});

export function libpodSample({ container: c, reading }: Sampled, previous: PreviousSample | undefined): LibpodContainerStats {
  if (!reading) return zeroSample(c.id, c.name);
  const now = Date.now() * 1e6;
  const started = Date.parse(c.started_at ?? '') * 1e6 || now;
  const { cpu_usage } = reading.cpu_stats;
  const cpuNano = cpu_usage.total_usage;
  const memory = reading.memory_stats;
  // As libpod (containers/common cgroups): usage less the inactive file cache.
  const inactive = memory.stats?.total_inactive_file ?? memory.stats?.inactive_file ?? 0;
  const usage = memory.usage ?? 0;
  const memUsage = inactive < usage ? usage - inactive : usage;
  const memLimit = memory.limit ?? 0;
  const io = reading.blkio_stats.io_service_bytes_recursive ?? [];
  const bytes = (op: string) => io.filter((e) => e.op.toLowerCase() === op).reduce((sum, e) => sum + e.value, 0);
  // libpod reads eth0 only, and podman 4.3.1 reports its transmitted bytes as NetInput and received as
  // NetOutput (fixed in later podman); the 4.3.1 client shows them as such.
  const eth0 = reading.networks?.eth0;
  return {
    AvgCPU: percent(cpuNano, now - started),
    ContainerID: c.id,
    Name: c.name,
    PerCPU: cpu_usage.percpu_usage ?? null,
    CPU: percent(cpuNano - (previous?.cpuNano ?? 0), now - (previous?.systemNano ?? started)),
    CPUNano: cpuNano,
    CPUSystemNano: cpu_usage.usage_in_kernelmode,
    SystemNano: now,
    MemUsage: memUsage,
    MemLimit: memLimit,
    MemPerc: memLimit > 0 ? (memUsage / memLimit) * 100 : 0,
    NetInput: eth0?.tx_bytes ?? 0,
    NetOutput: eth0?.rx_bytes ?? 0,
    BlockInput: bytes('read'),
    BlockOutput: bytes('write'),
    PIDs: reading.pids_stats.current ?? 0,
    UpTime: cpuNano,
    Duration: cpuNano,
  };
}
