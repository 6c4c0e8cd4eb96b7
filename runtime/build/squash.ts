// podman build --squash: the layers the last stage added over its base become one layer; the base's
// stay as they are. The added layers are applied in order over the base's rootfs (an overlay whose
// upper dir collects the result, their whiteouts applied as removals, which overlayfs records in the
// upper dir), and that upper dir is committed as the one new layer. The config is the built image's,
// its history the base's plus one line.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageService } from '../images/service.js';
import { parseConfig, type ImageRecord } from '../images/store.js';
import { commitImage } from '../images/commit.js';
import { mountOverlay, unmount } from '../storage/rootfs.js';
import { unpackLayer } from '../storage/unpack.js';

export async function squashImage(
  images: Pick<ImageService, 'store' | 'layers' | 'lock' | 'tmpDir'>,
  built: ImageRecord,
  base: ImageRecord | undefined,
  work: string,
): Promise<ImageRecord> {
  const below = base ? images.layers.stack(base.top_layer) : [];
  const added = images.layers.stack(built.top_layer).slice(below.length); // bottom first
  const dir = join(work, 'squash');
  const [upper, scratch, merged, empty] = ['upper', 'work', 'merged', 'empty'].map((d) => join(dir, d)) as [string, string, string, string];
  for (const d of [upper, scratch, merged, empty]) await mkdir(d, { recursive: true });
  const lower = base ? images.layers.diffDirs(base.top_layer) : [];
  await mountOverlay(lower.length ? lower : [empty], upper, scratch, merged);
  try {
    for (const layer of added) await unpackLayer(await images.layers.tarStream(layer.diff_id), merged, { applyWhiteouts: true });
  } finally {
    await unmount(merged);
  }
  const config = parseConfig(built);
  const baseConfig = base ? parseConfig(base) : undefined;
  try {
    return await commitImage(images, {
      parent: base,
      parentDiffIds: baseConfig?.rootfs?.diff_ids ?? [],
      upper,
      emptyLayer: 'skip',
      document: ({ diffIds, empty: none }) => {
        const created = new Date().toISOString();
        const history = [...(baseConfig?.history ?? []), { created, created_by: 'squashed', ...(none ? { empty_layer: true } : {}) }];
        return Buffer.from(JSON.stringify({ ...config, created, history, rootfs: { type: 'layers', diff_ids: diffIds } }));
      },
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
