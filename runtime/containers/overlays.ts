// Overlay volumes (podman's `-v src:dst:O`): the host directory is the read-only lower layer of an
// overlay whose upper and work directories live in the container's bundle, made anew at each start, so
// what the container writes there is gone when it stops and the host directory is never written.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { OverlaySpec } from './spec.js';
import { rootless } from '../rootless/mode.js';

export interface OciOverlay {
  destination: string;
  type: 'overlay';
  source: 'overlay';
  options: string[];
}

/** The OCI mounts of a run's overlays, their upper and work directories made empty under `bundle`. */
export async function prepareOverlays(bundle: string, overlays: OverlaySpec[] = []): Promise<OciOverlay[]> {
  const mounts: OciOverlay[] = [];
  for (const [i, o] of overlays.entries()) {
    const dir = join(bundle, 'overlays', String(i));
    await rm(dir, { recursive: true, force: true });
    await mkdir(join(dir, 'upper'), { recursive: true, mode: 0o755 });
    await mkdir(join(dir, 'work'), { mode: 0o700 });
    mounts.push({
      destination: o.target,
      type: 'overlay',
      source: 'overlay',
      // Rootless: overlay in a user namespace keeps its marks as user.* xattrs (storage/rootless-overlay.ts).
      options: [`lowerdir=${o.source}`, `upperdir=${join(dir, 'upper')}`, `workdir=${join(dir, 'work')}`, ...(rootless() ? ['userxattr'] : [])],
    });
  }
  return mounts;
}
