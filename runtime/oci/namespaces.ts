// A container's pid, ipc and uts namespaces from its spec's modes, as dockerd reads Docker's PidMode,
// IpcMode and UTSMode: private (IPC's 'shareable', 'none' too) is a new one, 'host' none at all,
// 'container:<id>' that running container's (IPC only from a 'shareable' donor, whose /dev/shm is a
// tmpfs on the host, as dockerd makes it: a mount cannot be bound from another mount namespace).
import { EngineError, conflict } from '../errors.js';
import type { Namespaces as NamespaceModes } from '../containers/spec.js';
import type { UserNamespace } from '../rootless/userns-modes.js';

// dockerd answers a start that cannot join with a 500.
const internal = (message: string) => new EngineError('internal', message);

/** One namespace: a new one (undefined), the host's, or the path of one to join. */
export type NamespaceMode = undefined | 'host' | { path: string };

export interface Namespaces {
  pid: NamespaceMode;
  ipc: NamespaceMode;
  uts: NamespaceMode;
  cgroup?: NamespaceMode;
  /** /dev/shm: a tmpfs of its own (undefined), none (IpcMode none), or a bind of the host's or the donor's. */
  shm?: { bind: string } | 'none';
  /**
   * The container's user namespace (rootless --userns keep-id, nomap, auto, container:<id>); absent:
   * the engine's. Its mappings with `userPath` too: runc joins that one and reads who root is from them.
   */
  user?: UserNamespace;
  /** --userns container:<id>: that running container's user namespace, joined. */
  userPath?: string;
}

/** The container a mode names (`container:<name or id>`), if it names one. */
export const joinedRef = (mode: string | undefined): string | undefined => (mode?.startsWith('container:') ? mode.slice('container:'.length) : undefined);

/** A running container whose namespaces another joins: its ID, PID, and IpcMode. */
export interface Donor {
  id: string;
  pid: number;
  running: boolean;
  ipcMode: string;
  /** Its /dev/shm as seen from the host. */
  shm: string;
}

/**
 * The namespaces to run with; `donor` looks up a container a mode names (by the ID create recorded).
 * `self`: the container's own ID (for podman's words).
 */
export function namespacesOf(modes: NamespaceModes, donor: (id: string) => Donor, self = ''): Namespaces {
  const ns: Namespaces = { pid: undefined, ipc: undefined, uts: modes.uts === 'host' ? 'host' : undefined };
  // --userns container:<id> (and a pod's members): podman's run waits on it as on a dependency.
  const userRef = joinedRef(modes.user);
  if (userRef !== undefined) {
    const d = donor(userRef);
    if (!d.running) throw conflict(`some dependencies of container ${self} are not started: ${d.id}: container state improper`);
    ns.userPath = `/proc/${d.pid}/ns/user`;
  }
  // A pod's members join its infra container's UTS namespace (libpod; Docker has only host).
  const utsRef = joinedRef(modes.uts);
  if (utsRef !== undefined) {
    const d = donor(utsRef);
    if (!d.running) throw internal(`container ${d.id} is not running`);
    ns.uts = { path: `/proc/${d.pid}/ns/uts` };
  }
  const cgroupRef = joinedRef(modes.cgroup);
  if (cgroupRef !== undefined) {
    const d = donor(cgroupRef);
    if (!d.running) throw internal(`container ${d.id} is not running`);
    ns.cgroup = { path: `/proc/${d.pid}/ns/cgroup` };
  }
  const pidRef = joinedRef(modes.pid);
  if (modes.pid === 'host') ns.pid = 'host';
  else if (pidRef !== undefined) {
    const d = donor(pidRef);
    if (!d.running) throw internal(`container ${d.id} is not running`);
    ns.pid = { path: `/proc/${d.pid}/ns/pid` };
  }
  const ipcRef = joinedRef(modes.ipc);
  if (modes.ipc === 'host') {
    ns.ipc = 'host';
    ns.shm = { bind: '/dev/shm' };
  } else if (modes.ipc === 'none') {
    ns.shm = 'none';
  } else if (ipcRef !== undefined) {
    const d = donor(ipcRef);
    if (!d.running) throw internal(`can't join IPC of container ${d.id}: container ${d.id} is not running`);
    if (d.ipcMode !== 'shareable')
      throw internal(`can't join IPC of container ${d.id}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`);
    ns.ipc = { path: `/proc/${d.pid}/ns/ipc` };
    ns.shm = { bind: d.shm };
  }
  return ns;
}
