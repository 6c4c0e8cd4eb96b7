// The image as a container in a user namespace of its own sees it (rootless --userns keep-id, nomap,
// auto), as podman's storage makes it: a "mapped" layer of the container's own, made once from an
// overlay of the image's layers with owners shifted through it (image owner X -> map(X)), so the layer
// holds a copy of each file whose owner changed. The container's rootfs is then that layer over the
// image's, under its upper dir, which holds only what the container changed: diff lists those, and
// commit and export map their owners back to the container's view (ns id -> container id).
import { chmod, lchown, lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from '../errors.js';
import { mountOverlay, unmountOwn } from '../storage/rootfs.js';
import type { OwnerMap } from '../storage/upper-layer.js';
import { crashPoint } from '../util/crash.js';
import { type IdMapping, nsMax } from './idmap.js';
import { toNs, userNamespaceOf, type UserNamespace } from './userns-modes.js';
import type { IdRange } from './userns-slices.js';

/** podman's overflow id: what a layer records for an owner the container's namespace does not map. */
const OVERFLOW_ID = 65534;

/** Where a container's mapped layer is made and kept (all in its storage dir, on one filesystem). */
export interface MappedLayerDirs {
  /** The finished layer: there only when complete (renamed from `temp`), so never shifted twice. */
  layer: string;
  /** The shifting mount's upper dir while the layer is made. */
  temp: string;
  work: string;
  /** Where the image's layers are mounted (over `temp`) to be shifted. */
  mount: string;
  /** The container's upper dir: its root is the rootfs's `/`, so it gets the mapped root's owner and mode. */
  upper: string;
}

const exists = (path: string) =>
  lstat(path).then(
    () => true,
    () => false,
  );

/**
 * Makes the mapped layer unless it is complete: the image's layers (`lowers`, top first) mounted over an
 * empty `temp`, every file chowned through that mount (overlay copies it up into `temp`), `prepare` run
 * on the mounted tree (keep-id's passwd entry: part of the image as the container sees it, not of its
 * changes), unmounted, the upper dir's root given the layer's root owner (it is the rootfs's `/`),
 * renamed into place. A partial one (a crash, a failure) is wiped and made afresh.
 */
export async function makeMappedLayer(dirs: MappedLayerDirs, lowers: string[], ns: UserNamespace, prepare?: (root: string) => Promise<void>): Promise<void> {
  if (await exists(dirs.layer)) return;
  await unmountOwn(dirs.mount);
  await Promise.all([dirs.temp, dirs.work].map((dir) => rm(dir, { recursive: true, force: true })));
  await mountOverlay(lowers, dirs.temp, dirs.work, dirs.mount);
  try {
    await shiftTree(dirs.mount, ns);
    await prepare?.(dirs.mount);
  } finally {
    await unmountOwn(dirs.mount);
  }
  const top = await lstat(dirs.temp);
  await mkdir(dirs.upper, { recursive: true });
  await lchown(dirs.upper, top.uid, top.gid);
  await chmod(dirs.upper, top.mode & 0o7777);
  await rename(dirs.temp, dirs.layer);
  await Promise.all([dirs.work, dirs.mount].map((dir) => rm(dir, { recursive: true, force: true })));
}

/**
 * Each file of owner X (stored as ns X) chowned to map(X); owners the mapping lacks stay (the container
 * sees them as nobody, as podman's). Mount points below are left alone.
 */
async function shiftTree(root: string, ns: UserNamespace): Promise<void> {
  const dev = (await lstat(root)).dev;
  let first = true;
  const shift = async (path: string): Promise<void> => {
    const st = await lstat(path);
    if (st.dev !== dev) return;
    const uid = toNs(st.uid, ns.uidMappings);
    const gid = toNs(st.gid, ns.gidMappings);
    if ((uid !== undefined && uid !== st.uid) || (gid !== undefined && gid !== st.gid)) {
      await lchown(path, uid ?? st.uid, gid ?? st.gid);
      // chown clears set-id bits; the image's are part of what the container should see.
      if (!st.isSymbolicLink() && st.mode & 0o6000) await chmod(path, st.mode & 0o7777);
      if (first) crashPoint('mapped:shifting');
      first = false;
    }
    if (st.isDirectory()) for (const name of await readdir(path)) await shift(join(path, name));
  };
  await shift(root);
}

/** An ns id as the container sees it (the mapping's inverse); podman's overflow id where it has none. */
function toContainer(id: number, map: IdMapping[]): number {
  const m = map.find((l) => id >= l.hostID && id < l.hostID + l.size);
  return m ? m.containerID + (id - m.hostID) : OVERFLOW_ID;
}

/** ns ids -> the ids a container sees (those it lacks: the overflow id), for tar's owner maps. */
function seenThrough(ns: UserNamespace): OwnerMap {
  return {
    uid: (id) => toContainer(id, ns.uidMappings),
    gid: (id) => toContainer(id, ns.gidMappings),
    ids: { uid: nsMax('uid') + 1, gid: nsMax('gid') + 1 },
  };
}

/**
 * How commit and export write a container's owners: as it sees them (undefined: as stored, the engine's
 * own namespace). A container whose rootfs was chowned in place by an engine before mapped layers (its
 * bundle holds `legacyMarker`) keeps the refusal: its upper dir holds the whole image, shifted.
 */
export async function ownersAsSeen(
  spec: { namespaces: { user?: string }; userRange?: IdRange },
  legacyMarker: string,
  verb: string,
): Promise<OwnerMap | undefined> {
  const ns = userNamespaceOf(spec);
  if (!ns) return undefined;
  if (await exists(legacyMarker)) {
    throw new EngineError(
      'conflict',
      `berth cannot ${verb} a container with --userns=${spec.namespaces.user}: its root filesystem is owned as that user namespace maps it (created before berth kept a mapped layer: recreate it)`,
    );
  }
  return seenThrough(ns);
}

/** Container ids -> ns ids (undefined: the container's namespace has no such id): what docker cp in writes. */
export interface OwnersToNs {
  uid(id: number): number | undefined;
  gid(id: number): number | undefined;
}

/**
 * docker cp's owner maps for a container (undefined: the engine's own namespace, ids as they are): `out`
 * as the container sees the ns ids (ownersAsSeen's), `in` its inverse. Legacy containers included: their
 * files are stored through the same mapping, only their upper dir differs (which cp does not read whole).
 */
export function cpOwnerMaps(spec: { namespaces: { user?: string }; userRange?: IdRange }): { out: OwnerMap; in: OwnersToNs } | undefined {
  const ns = userNamespaceOf(spec);
  if (!ns) return undefined;
  return { out: seenThrough(ns), in: { uid: (id) => toNs(id, ns.uidMappings), gid: (id) => toNs(id, ns.gidMappings) } };
}
