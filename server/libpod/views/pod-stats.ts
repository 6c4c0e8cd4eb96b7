// podman pod stats: each member's sample as podman's service formats it (entities.PodStatsReport), ready
// strings the client prints as they are: go-units' decimal sizes (`659.5kB / 25.28GB`) and binary ones
// (`644KiB / 23.54GiB`), two-decimal percentages, and `--` for a zero (a member that runs nothing).
import type { Static } from '@sinclair/typebox';
import type { LibpodContainerStats } from '../../../openapi/libpod-container-tools.js';
import type { PodStatsReport } from '../../../openapi/libpod-pod-verbs.js';

/** go-units' CustomSize("%.4g%s", size, base, units). */
function sized(size: number, base: number, units: string[]): string {
  let i = 0;
  let value = size;
  while (value >= base && i < units.length - 1) {
    value /= base;
    i++;
  }
  return `${Number(value.toPrecision(4))}${units[i]}`;
}

const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** `a / b` in one unit system; both zero: `-- / --`. */
function pair(a: number, b: number, units: string[], base: number): string {
  return a === 0 && b === 0 ? '-- / --' : `${sized(a, base, units)} / ${sized(b, base, units)}`;
}

const percent = (f: number) => (f === 0 || !Number.isFinite(f) ? '--' : `${f.toFixed(2)}%`);

export function podStatsReport(podId: string, s: LibpodContainerStats): Static<typeof PodStatsReport> {
  return {
    CPU: percent(s.CPU),
    MemUsage: pair(s.MemUsage, s.MemLimit, DECIMAL, 1000),
    MemUsageBytes: pair(s.MemUsage, s.MemLimit, BINARY, 1024),
    Mem: percent(s.MemPerc),
    NetIO: pair(s.NetInput, s.NetOutput, DECIMAL, 1000),
    BlockIO: pair(s.BlockInput, s.BlockOutput, DECIMAL, 1000),
    PIDS: s.PIDs === 0 ? '--' : String(s.PIDs),
    Pod: podId.slice(0, 12),
    CID: s.ContainerID.slice(0, 12),
    Name: s.Name,
  };
}
