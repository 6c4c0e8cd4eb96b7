// A pod's cgroup: the parent of its members' cgroups, holding the pod's limits (podman's --memory and
// --cpus on `pod create` bound the members together). runc makes each member's cgroup under it.
import { mkdir, readdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cgroupMounts, DEFAULT_CGROUP_PARENT } from '../oci/cgroups.js';
import type { PodResources } from './spec.js';
import { rootless } from '../rootless/mode.js';

/** The pod's cgroup parent (podman's CgroupPath, `/libpod_parent/<id>` there). */
export const podCgroupParent = (podId: string) => `${DEFAULT_CGROUP_PARENT}/pod-${podId}`;

const write = (dir: string, file: string, value: string) => writeFile(join(dir, file), value).catch(() => undefined);

/** Makes the pod's cgroup in each hierarchy with the pod's limits (again after a reboot emptied them). */
export async function ensurePodCgroup(podId: string, r: PodResources): Promise<void> {
  // Rootless: members get their cgroups (or none) from rootless/cgroups.ts; no pod parent, no pod limits.
  if (rootless()) return;
  const { v1, v2 } = await cgroupMounts();
  const rel = podCgroupParent(podId).slice(1);
  if (v1.size === 0 && v2) {
    // v2: the controllers enabled down the path, then the limits in the pod's own files.
    await writeFile(join(v2, 'cgroup.subtree_control'), '+cpu +memory +pids').catch(() => undefined);
    await mkdir(join(v2, DEFAULT_CGROUP_PARENT), { recursive: true });
    await write(join(v2, DEFAULT_CGROUP_PARENT), 'cgroup.subtree_control', '+cpu +memory +pids');
    const dir = join(v2, rel);
    await mkdir(dir, { recursive: true });
    if (r.memory) await write(dir, 'memory.max', String(r.memory));
    if (r.memory && r.memorySwap && r.memorySwap > r.memory) await write(dir, 'memory.swap.max', String(r.memorySwap - r.memory));
    if (r.cpuQuota) await write(dir, 'cpu.max', `${r.cpuQuota} ${r.cpuPeriod || 100000}`);
    return;
  }
  for (const [controller, mountPoint] of v1) {
    if (controller !== 'memory' && controller !== 'cpu' && controller !== 'pids') continue;
    const dir = join(mountPoint, rel);
    await mkdir(dir, { recursive: true });
    if (controller === 'memory' && r.memory) {
      await write(dir, 'memory.limit_in_bytes', String(r.memory));
      if (r.memorySwap) await write(dir, 'memory.memsw.limit_in_bytes', String(r.memorySwap));
    }
    if (controller === 'cpu' && r.cpuQuota) {
      await write(dir, 'cpu.cfs_period_us', String(r.cpuPeriod || 100000));
      await write(dir, 'cpu.cfs_quota_us', String(r.cpuQuota));
    }
  }
}

/** Removes the pod's cgroup from every hierarchy (its members' are gone: runc removed them). */
export async function removePodCgroup(podId: string): Promise<void> {
  if (rootless()) return;
  const { v1, v2 } = await cgroupMounts();
  const rel = podCgroupParent(podId).slice(1);
  for (const mountPoint of new Set([...v1.values(), ...(v2 ? [v2] : [])])) await removeTree(join(mountPoint, rel));
}

/** rmdir from the leaves up (a member's leftover cgroup, if runc left one). */
async function removeTree(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory()) await removeTree(join(dir, e.name));
  await rmdir(dir).catch(() => undefined);
}
