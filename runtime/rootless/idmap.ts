// The engine's own user namespace maps (/proc/self/uid_map, gid_map): in a rootless engine 0 → the user,
// 1..N → the user's subordinate range (pause.ts); in a rootful one the identity. Fixed for the process's
// life (Node never changes namespace), so read once.
import { readFileSync } from 'node:fs';

/** One line of a uid_map or gid_map, as the OCI spec writes it. */
export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export type IdKind = 'uid' | 'gid';

const maps = new Map<IdKind, IdMapping[]>();

/** This process's map of `kind` ids. */
export function ownIdMap(kind: IdKind): IdMapping[] {
  let map = maps.get(kind);
  if (!map) {
    let text = '';
    try {
      text = readFileSync(`/proc/self/${kind}_map`, 'utf8');
    } catch {
      // no /proc: no map to tell
    }
    map = text
      .split('\n')
      .map((l) => l.trim().split(/\s+/).map(Number))
      .filter((f) => f.length === 3 && f.every(Number.isFinite))
      .map(([containerID = 0, hostID = 0, size = 0]) => ({ containerID, hostID, size }));
    maps.set(kind, map);
  }
  return map;
}

/** The user's host uid and gid: what ns 0 maps to (`0 <uid> 1`). */
export function outsideIds(): { uid: number; gid: number } {
  const zero = (kind: IdKind) => ownIdMap(kind).find((l) => l.containerID === 0)?.hostID ?? 0;
  return { uid: zero('uid'), gid: zero('gid') };
}

/** The highest ns id mapped (65536 with a 65536-id subuid range: podman's maxUID). */
export function nsMax(kind: IdKind): number {
  return ownIdMap(kind).reduce((max, l) => Math.max(max, l.containerID + l.size - 1), 0);
}

/** How many ids the namespace maps. */
export function mappedCount(kind: IdKind): number {
  return ownIdMap(kind).reduce((n, l) => n + l.size, 0);
}
