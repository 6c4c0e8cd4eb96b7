// Disk usage (`GET /system/df`, `docker system df`), counted as dockerd counts it: image sizes from
// their layers (shared = layers that more than one image has), each layer once in LayersSize, a
// container's writable layer by walking its upper dir, local volumes (those without driver options,
// which are mounts of something else) by walking their data dir. The build cache comes from whoever
// provides it: the engine gives DiskUsage the builder's cacheRecords.
import { lstat, readdir } from 'node:fs/promises';
import type { ImageService } from '../images/service.js';
import type { ImageRecord } from '../images/store.js';
import type { ContainerService } from '../containers/service.js';
import type { Container } from '../containers/store.js';
import type { Volume, VolumeService } from '../volumes/service.js';
import { openChildDirIfThere, openRoot, type RootedFd } from '../util/in-root.js';

/** One build cache record, in the Engine API's BuildCache shape. */
export interface BuildCacheRecord {
  ID: string;
  Parents: string[] | null;
  Type: string; // internal, frontend, source.local, source.git.checkout, exec.cachemount, regular
  Description: string;
  InUse: boolean;
  Shared: boolean;
  Size: number;
  CreatedAt: string;
  LastUsedAt: string | null;
  UsageCount: number;
}

/** What a builder offers `docker system df`: its cache records, now. */
export type BuildCacheProvider = () => Promise<BuildCacheRecord[]>;

export type DiskUsageType = 'container' | 'image' | 'volume' | 'build-cache';
export const DISK_USAGE_TYPES: readonly DiskUsageType[] = ['container', 'image', 'volume', 'build-cache'];

export interface DiskUsageReport {
  layersSize: number;
  images?: { image: ImageRecord; containers: number; sharedSize: number }[];
  containers?: { container: Container; sizeRw: number; sizeRootFs: number }[];
  volumes?: { volume: Volume; size: number; refCount: number }[];
  buildCache?: BuildCacheRecord[];
}

/**
 * Bytes under a directory as moby's directory.Size counts them: every non-directory entry's size
 * (symlinks their own, not their target's), a hard-linked inode once; what vanishes meanwhile is skipped.
 */
export async function directorySize(dir: string): Promise<number> {
  const seen = new Set<bigint>();
  let total = 0;
  // Through descriptors (util/in-root.ts): a running container swapping a directory for a symlink must
  // not have us walk (and measure) host directories.
  const walk = async (d: RootedFd): Promise<void> => {
    const entries = await readdir(d.self, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (e.isDirectory()) {
        const sub = openChildDirIfThere(d, e.name);
        if (!sub) continue;
        try {
          await walk(sub);
        } finally {
          sub.close();
        }
        continue;
      }
      const st = await lstat(d.child(e.name), { bigint: true }).catch(() => undefined);
      if (!st || st.size === 0n || seen.has(st.ino)) continue;
      seen.add(st.ino);
      total += Number(st.size);
    }
  };
  let top: RootedFd;
  try {
    top = openRoot(dir);
  } catch {
    return 0; // not there (yet): nothing in it
  }
  try {
    await walk(top);
  } finally {
    top.close();
  }
  return total;
}

export class DiskUsage {
  constructor(
    private readonly images: ImageService,
    private readonly containers: Pick<ContainerService, 'store' | 'paths'>,
    private readonly volumes: VolumeService,
    /** The build cache's records (the builder's). */
    private readonly buildCache: BuildCacheProvider,
  ) {}

  /** The usage of the kinds asked for (all when none); kinds not asked for are absent. */
  async report(types: readonly DiskUsageType[] = DISK_USAGE_TYPES): Promise<DiskUsageReport> {
    const wanted = new Set(types.length ? types : DISK_USAGE_TYPES);
    const out: DiskUsageReport = { layersSize: 0 };
    if (wanted.has('image')) Object.assign(out, this.imageUsage());
    if (wanted.has('container')) out.containers = await this.containerUsage();
    if (wanted.has('volume')) out.volumes = await this.volumeUsage();
    if (wanted.has('build-cache')) out.buildCache = await this.buildCache();
    return out;
  }

  private imageUsage(): Pick<DiskUsageReport, 'images' | 'layersSize'> {
    const all = this.images.store.all();
    const stacks = new Map(all.map((image) => [image.id, this.images.layers.stack(image.top_layer)]));
    const refs = new Map<string, number>();
    const sizes = new Map<string, number>();
    for (const stack of stacks.values()) {
      for (const l of stack) {
        refs.set(l.chain_id, (refs.get(l.chain_id) ?? 0) + 1);
        sizes.set(l.chain_id, l.size);
      }
    }
    const layersSize = [...sizes.values()].reduce((a, b) => a + b, 0);
    const images = all.map((image) => ({
      image,
      containers: this.images.store.containersUsing(image.id).length,
      sharedSize: stacks
        .get(image.id)!
        .filter((l) => refs.get(l.chain_id)! > 1)
        .reduce((a, l) => a + l.size, 0),
    }));
    return { images, layersSize };
  }

  private async containerUsage(): Promise<NonNullable<DiskUsageReport['containers']>> {
    return Promise.all(this.containers.store.all().map(async (container) => ({ container, ...(await this.containerSize(container)) })));
  }

  /** A container's writable layer, and that plus its image (`docker ps -s`, `inspect -s`, df). */
  async containerSize(container: Container): Promise<{ sizeRw: number; sizeRootFs: number }> {
    const sizeRw = await directorySize(this.containers.paths.upper(container.id));
    return { sizeRw, sizeRootFs: (this.images.store.get(container.image_id)?.size ?? 0) + sizeRw };
  }

  private async volumeUsage(): Promise<NonNullable<DiskUsageReport['volumes']>> {
    // Volumes with driver options are left out, as dockerd does: they are mounts of something else.
    const local = this.volumes.all().filter((v) => v.driver === 'local' && Object.keys(v.options).length === 0);
    return Promise.all(
      local.map(async (volume) => ({
        volume,
        size: await directorySize(volume.mountpoint),
        refCount: this.volumes.users(volume.name).length,
      })),
    );
  }
}
