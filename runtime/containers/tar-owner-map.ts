// Owners written the way a container in a user namespace of its own sees them, by GNU tar itself
// (--owner-map/--group-map): docker export and docker cp out of such a container.
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OwnerMap } from '../storage/upper-layer.js';

/** What a tar child needs for an OwnerMap: its arguments, its stdio after 0-2, and `close` once spawned. */
export interface TarOwnerMaps {
  args: string[];
  fds: number[];
  close(): void;
}

/** tar's owner and group maps for `owners` (none without), as the child's descriptors 3 and 4. */
export function tarOwnerMaps(owners: OwnerMap | undefined): TarOwnerMaps {
  if (!owners) return { args: [], fds: [], close: () => {} };
  const fds = [idMapFd(owners.uid, owners.ids.uid)];
  try {
    fds.push(idMapFd(owners.gid, owners.ids.gid));
  } catch (err) {
    closeSync(fds[0]!);
    throw err;
  }
  return { args: ['--owner-map=/dev/fd/3', '--group-map=/dev/fd/4'], fds, close: () => fds.forEach((fd) => closeSync(fd)) };
}

/**
 * tar's id map (`+old +new` lines for the ids 0..count-1 that `map` changes) in an unlinked file, open:
 * handed to tar as a descriptor, which it opens as /dev/fd/N (a pipe of Node's is a socket, which cannot
 * be opened so).
 */
function idMapFd(map: (id: number) => number, count: number): number {
  const lines: string[] = [];
  for (let id = 0; id < count; id++) {
    const to = map(id);
    if (to !== id) lines.push(`+${id} +${to}\n`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'berth-owner-map-'));
  try {
    const file = join(dir, 'map');
    writeFileSync(file, lines.join(''), { mode: 0o600 });
    return openSync(file, 'r');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
