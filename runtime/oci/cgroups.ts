// Where the host's cgroup hierarchies are mounted (v1 controllers, or the v2 unified one), and where a
// container's cgroup lies in them: runc makes `<cgroupParent>/<id>` under each (cgroupfs driver).
import { readFile } from 'node:fs/promises';

let mounts: Promise<{ v1: Map<string, string>; v2?: string }> | undefined;

/** Where each hierarchy is mounted (cpu and cpuacct may share one), from mountinfo, once. */
export function cgroupMounts(): Promise<{ v1: Map<string, string>; v2?: string }> {
  mounts ??= readFile('/proc/self/mountinfo', 'utf8')
    .catch(() => '')
    .then((info) => {
      const v1 = new Map<string, string>();
      let v2: string | undefined;
      for (const line of info.split('\n')) {
        const [before, after] = line.split(' - ');
        const mountPoint = before?.split(' ')[4];
        const [fsType, , superOptions = ''] = after?.split(' ') ?? [];
        if (!mountPoint) continue;
        // /sys/fs/cgroup wins: a hybrid host's /sys/fs/cgroup/unified is hidden where a namespace mounted
        // the unified hierarchy over /sys/fs/cgroup (as a test of delegated v2 does).
        if (fsType === 'cgroup2' && (v2 === undefined || mountPoint === '/sys/fs/cgroup')) v2 = mountPoint;
        // That mount also hides the v1 hierarchies mounted below /sys/fs/cgroup before it: their paths
        // now lead into the unified hierarchy (where a v1 layout would make cgroups named cpu, memory...).
        if (fsType === 'cgroup2' && mountPoint === '/sys/fs/cgroup') for (const [c, m] of v1) if (m.startsWith('/sys/fs/cgroup/')) v1.delete(c);
        if (fsType === 'cgroup') for (const o of superOptions.split(',')) if (!v1.has(o)) v1.set(o, mountPoint);
      }
      return { v1, v2 };
    });
  return mounts;
}

/** The default parent of containers' cgroups. */
export const DEFAULT_CGROUP_PARENT = '/berth';

/** A container's cgroup path (relative to each hierarchy's mount point, without the leading '/'). */
export const containerCgroup = (id: string, parent = DEFAULT_CGROUP_PARENT) => `${parent}/${id}`.replace(/^\/+/, '');
