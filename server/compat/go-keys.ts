// Go's encoding/json matches object keys to struct fields case-insensitively, so dockerd takes keys that
// no schema spells: docker-py sends HostConfig "CPURealtimePeriod" and "CPURealtimeRuntime" for the
// CpuRealtimePeriod/CpuRealtimeRuntime fields. Renaming such keys to the field's name before the body is
// used keeps what the client set (inspect shows it, as dockerd's does).
import { HostConfig } from '../../openapi/containers.js';

/** HostConfig fields berth stores without a schema entry (echoed by inspect, see views/containers.ts). */
const STORED_ONLY = [
  'Cgroup',
  'CgroupParent',
  'UsernsMode',
  'BlkioWeightDevice',
  'BlkioDeviceReadBps',
  'BlkioDeviceWriteBps',
  'BlkioDeviceReadIOps',
  'BlkioDeviceWriteIOps',
  'CpuRealtimePeriod',
  'CpuRealtimeRuntime',
  'CpuCount',
  'CpuPercent',
  'IOMaximumIOps',
  'IOMaximumBandwidth',
  'Devices',
  'DeviceRequests',
  'KernelMemory',
  'KernelMemoryTCP',
];

const HOST_CONFIG_FIELDS = new Map([...Object.keys(HostConfig.properties), ...STORED_ONLY].map((name) => [name.toLowerCase(), name]));

/** Renames a HostConfig's keys that differ from a field only in case to that field (a key spelled exactly wins). */
export function goHostConfigKeys(hostConfig: object | null | undefined): void {
  if (!hostConfig) return;
  const fields = hostConfig as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    const name = HOST_CONFIG_FIELDS.get(key.toLowerCase());
    if (!name || name === key) continue;
    if (!(name in fields)) fields[name] = fields[key];
    delete fields[key];
  }
}
