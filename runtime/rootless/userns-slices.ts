// Slices of the engine's user namespace for `--userns auto` containers: each takes `size` IDs of ns
// 1..max (ns 0 is the user, who an auto container never sees) that no existing container holds, first
// fit from the bottom, as podman's allocator hands out 0:1:1024, then 0:1025:1024... A slice is held
// for the container's life (created, running or stopped) and free again once it is removed.

/** A run of ns IDs: start..start+size-1. */
export interface IdRange {
  start: number;
  size: number;
}

export const isIdRange = (r: IdRange | undefined): r is IdRange => r !== undefined && r.size > 0;

/** The lowest free run of `size` IDs in 1..max, or undefined when none is left. */
export function claimRange(taken: IdRange[], size: number, max: number): IdRange | undefined {
  if (size <= 0) return undefined;
  let start = 1;
  for (const r of [...taken].sort((a, b) => a.start - b.start)) {
    if (r.start + r.size <= start) continue;
    if (r.start - start >= size) break;
    start = r.start + r.size;
  }
  return start + size - 1 <= max ? { start, size } : undefined;
}

/** A mapping line: container IDs containerID.. to ns IDs hostID.. (the OCI spec's shape). */
export interface IdRun {
  containerID: number;
  hostID: number;
  size: number;
}

const covers = (runs: IdRun[], id: number, side: 'containerID' | 'hostID') => runs.some((m) => id >= m[side] && id < m[side] + m.size);

/**
 * auto's mapping with podman's `uidmapping=`/`gidmapping=` runs (`extra`), as containers/storage builds
 * it: the container IDs 0..size-1 that no extra run covers take the slice's ns IDs in order, skipping
 * those an extra run maps to; the extra runs follow.
 */
export function autoMapping(slice: IdRange, size: number, extra: IdRun[]): IdRun[] {
  const out: IdRun[] = [];
  let host = slice.start;
  const end = slice.start + slice.size;
  for (let id = 0; id < size; id++) {
    if (covers(extra, id, 'containerID')) continue;
    while (host < end && covers(extra, host, 'hostID')) host++;
    if (host >= end) break;
    const last = out.at(-1);
    if (last && last.containerID + last.size === id && last.hostID + last.size === host) last.size++;
    else out.push({ containerID: id, hostID: host, size: 1 });
    host++;
  }
  return [...out, ...extra];
}

/** How many ns IDs from `start` the slice must span so that autoMapping finds enough once the extra runs' are skipped. */
export function autoSpan(start: number, size: number, extra: IdRun[]): number {
  let wanted = 0;
  for (let id = 0; id < size; id++) if (!covers(extra, id, 'containerID')) wanted++;
  let span = wanted;
  for (let i = 0; i < 64; i++) {
    let holes = 0;
    for (let h = start; h < start + span; h++) if (covers(extra, h, 'hostID')) holes++;
    if (span - holes >= wanted) return span;
    span = wanted + holes;
  }
  return span;
}
