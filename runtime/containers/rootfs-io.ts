// Reads and writes of a container's filesystem from outside it: docker diff, export and cp. Each holds
// the rootfs mounted for as long as it reads or writes (a stream: until the stream closes) and releases
// it after, so a running container keeps its mount and a stopped one is unmounted again. docker cp also
// mounts the container's volumes with driver options for the copy, as dockerd does.
import type { Readable } from 'node:stream';
import { invalid } from '../errors.js';
import { archivePath, extractInto, statPath, type PathStat } from './archive.js';
import { changes as upperChanges, exportRootfs, type ChangeKind, type ChangesOptions } from './filesystem.js';
import type { ContainerService } from './service.js';
import type { Container } from './store.js';
import { cpOwnerMaps, ownersAsSeen } from '../rootless/mapped-layer.js';

export type { PathStat } from './archive.js';
export type { ChangeKind } from './filesystem.js';

export interface Change {
  Path: string;
  Kind: ChangeKind;
}

export interface ExtractOptions {
  /** Own what is extracted by the container's configured user, not the archive's owners. */
  copyUIDGID: boolean;
  /** With copyUIDGID and no configured user, root owns it (podman's getContainerUser); dockerd keeps the archive's owners. */
  rootWithoutUser?: boolean;
  noOverwriteDirNonDir: boolean;
}

/** The rootfs mounted for `fn` (given the container and its merged dir), released when it settles. */
export function withRootfs<T>(containers: ContainerService, nameOrId: string, fn: (c: Container, root: string) => Promise<T> | T): Promise<T> {
  return holding(containers, containers.store.resolve(nameOrId), fn);
}

/** How a reader or writer holds what it reads: the rootfs alone, or (docker cp) with the option volumes mounted. */
type Hold = (containers: ContainerService, c: Container) => Promise<() => Promise<void>>;

const rootfsOnly: Hold = async (containers, c) => {
  const wasMounted = await containers.holdRootfs(c);
  return () => containers.releaseRootfs(c, wasMounted);
};
const forCopy: Hold = (containers, c) => containers.holdForCopy(c);

async function holding<T>(containers: ContainerService, c: Container, fn: (c: Container, root: string) => Promise<T> | T, hold: Hold = rootfsOnly): Promise<T> {
  const release = await hold(containers, c);
  try {
    return await fn(c, containers.paths.merged(c.id));
  } finally {
    await release();
  }
}

/** A stream out of the held rootfs: released when the stream closes, or at once when making it fails. */
async function streamFromRootfs<T extends { tar: Readable }>(
  containers: ContainerService,
  c: Container,
  make: (root: string) => T,
  hold: Hold = rootfsOnly,
): Promise<T> {
  const release = await hold(containers, c);
  try {
    const made = make(containers.paths.merged(c.id));
    made.tar.on('close', () => void release());
    return made;
  } catch (err) {
    await release();
    throw err;
  }
}

/** docker diff: what the container changed (its upper dir against the image's layers). */
export async function changes(containers: ContainerService, nameOrId: string, o: ChangesOptions = {}): Promise<Change[]> {
  const c = containers.store.resolve(nameOrId);
  await ownersAsSeen(c.spec, containers.paths.legacyMapped(c.id), 'diff'); // refused for a legacy mapped container
  return upperChanges(containers.paths.upper(c.id), await containers.lowerDirs(c), o);
}

/** docker export: the whole filesystem as a tar. */
export async function exportContainer(containers: ContainerService, nameOrId: string): Promise<Readable> {
  const c = containers.store.resolve(nameOrId);
  // A container in a user namespace of its own: the owners it sees.
  const owners = await ownersAsSeen(c.spec, containers.paths.legacyMapped(c.id), 'export');
  const { tar } = await streamFromRootfs(containers, c, (root) => ({ tar: exportRootfs(root, owners) }));
  containers.record(c, 'export');
  return tar;
}

/** docker cp's HEAD: a path's stat, as the container sees it (its volumes and binds included). */
export function statContainerPath(containers: ContainerService, nameOrId: string, path: string): Promise<PathStat> {
  return holding(containers, containers.store.resolve(nameOrId), (c, root) => statPath(root, path, nameOrId, containers.cpMounts(c)), forCopy);
}

/** docker cp out: a path's stat and a tar of it. */
export async function archiveContainerPath(containers: ContainerService, nameOrId: string, path: string): Promise<{ stat: PathStat; tar: Readable }> {
  const c = containers.store.resolve(nameOrId);
  if (!path) throw invalid('path is required');
  // A container in a user namespace of its own: the owners it sees (as export writes them).
  const owners = cpOwnerMaps(c.spec)?.out;
  const archived = await streamFromRootfs(containers, c, (root) => archivePath(root, path, nameOrId, containers.cpMounts(c), owners), forCopy);
  containers.record(c, 'archive-path');
  return archived;
}

/** docker cp in: a client's tar extracted into a directory of the container. */
export async function extractToContainer(
  containers: ContainerService,
  nameOrId: string,
  path: string,
  tar: Readable | undefined,
  o: ExtractOptions,
): Promise<void> {
  const c = containers.store.resolve(nameOrId);
  if (!path) throw invalid('path is required');
  if (!tar) throw invalid('expected a tar archive as the request body');
  await holding(
    containers,
    c,
    async (_, root) => {
      const owner = (await containers.cpOwner(c, o.copyUIDGID)) ?? (o.copyUIDGID && o.rootWithoutUser ? { uid: 0, gid: 0 } : undefined);
      // Owners are container ids (the archive's, or its user's): a user namespace of its own stores them as the ns ids it maps.
      const ids = cpOwnerMaps(c.spec)?.in;
      await extractInto(root, path, nameOrId, tar, owner, o.noOverwriteDirNonDir, containers.cpMounts(c), c.spec.security.readonlyRootfs, ids);
    },
    forCopy,
  );
  containers.record(c, 'extract-to-dir');
}
