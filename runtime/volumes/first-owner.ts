// libpod's first mount of a volume (podman's fixVolumePermissions, once per volume: its NeedsChown): the
// volume takes the owner and mode of the directory it is mounted over, or, where the image has none,
// the container's user, so `podman run --user 1000 -v vol:/data` can write to /data. Later containers
// find it as it was left. dockerd has no such step (its copy-up alone): Docker's containers skip this.
import type { Stats } from 'node:fs';
import { chmod, lchown } from 'node:fs/promises';
import type { IdMapping } from '../rootless/idmap.js';
import { toNs, type UserNamespace } from '../rootless/userns-modes.js';
import { openInRoot } from '../util/in-root.js';

export interface FirstOwner {
  /** The container's rootfs (mounted) and where the volume goes in it. */
  rootfs: string;
  destination: string;
  /** The volume's directory. */
  mountpoint: string;
  /** The container's user, as the container sees it. */
  user: { uid: number; gid: number };
  /** The container's own user namespace, if it has one: its ids are mapped to the engine's. */
  userns?: UserNamespace;
}

export async function giveFirstOwner(o: FirstOwner): Promise<void> {
  const target = statInRoot(o.rootfs, o.destination);
  if (target) {
    await lchown(o.mountpoint, target.uid, target.gid);
    await chmod(o.mountpoint, target.mode & 0o7777);
    return;
  }
  const outer = (map: IdMapping[] | undefined, id: number) => toNs(id, map ?? []) ?? id;
  await lchown(o.mountpoint, outer(o.userns?.uidMappings, o.user.uid), outer(o.userns?.gidMappings, o.user.gid));
}

/** The rootfs's entry at `path` (symlinks resolved inside the root), if there is one. */
function statInRoot(rootfs: string, path: string): Stats | undefined {
  let fd;
  try {
    fd = openInRoot(rootfs, path);
  } catch {
    return undefined;
  }
  try {
    return fd.stat();
  } finally {
    fd.close();
  }
}
