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
