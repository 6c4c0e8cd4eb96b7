// One image commit, for docker commit (containers/commit.ts) and each build step (build/image.ts):
// the changes (an overlay upper dir) as a layer tar, the caller's config over the resulting diff IDs,
// chain IDs, then under the images lock the layer imported and the image recorded, once.
import { lstat, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type OwnerMap, writeUpperAsLayer } from '../storage/upper-layer.js';
import { crashPoint } from '../util/crash.js';
import { chainIds, sha256 } from '../util/digest.js';
import type { ImageService } from './service.js';
import type { ImageRecord } from './store.js';

/** The digest of an empty tar (1024 zero bytes): a commit that changed nothing. */
export const EMPTY_TAR = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

export interface ImageCommit {
  /** The image below (undefined: FROM scratch). */
  parent?: ImageRecord;
  /** Diff IDs of the parent's layers (its config's rootfs). */
  parentDiffIds: string[];
  /** The changes, an overlay upper dir; none (or absent): nothing changed. */
  upper?: string;
  /** How the upper dir's owners are recorded (a rootless container in a user namespace of its own); as stored without. */
  owners?: OwnerMap;
  /**
   * What no change makes: an empty layer of its own (docker commit, whose upper dir must then exist), or
   * no layer at all (a build step, which marks its history line `empty_layer`).
   */
  emptyLayer: 'keep' | 'skip';
  /** Stops the writer of the upper dir while its tar is written (docker commit --pause); returns the resume, or undefined when there was nothing to freeze. */
  freeze?: () => Promise<(() => Promise<unknown>) | undefined>;
  /** The image's config document, over its layers' diff IDs (`empty`: this commit added none). */
  document(rootfs: { diffIds: string[]; empty: boolean }): Buffer;
  tags?: string[];
}

/** Records a committed image; returns it (an identical config is the same image). */
export async function commitImage(images: Pick<ImageService, 'store' | 'layers' | 'lock' | 'tmpDir'>, c: ImageCommit): Promise<ImageRecord> {
  const resume = c.freeze && (await c.freeze());
  if (resume) crashPoint('commit:paused'); // frozen, the DB still says running: reconcile() thaws it
  let work: string | undefined;
  try {
    work = await mkdtemp(join(images.tmpDir, 'commit-'));
    const layerFile = join(work, 'layer.tar');
    let diffId = EMPTY_TAR;
    try {
      if (c.upper && (await lstat(c.upper).catch(() => undefined))) ({ diffId } = await writeUpperAsLayer(c.upper, layerFile, c.owners));
    } finally {
      await resume?.().catch(() => undefined);
    }
    const empty = diffId === EMPTY_TAR && c.emptyLayer === 'skip';
    const diffIds = empty ? c.parentDiffIds : [...c.parentDiffIds, diffId];
    const config = c.document({ diffIds, empty });
    const id = sha256(config);
    const chains = chainIds(diffIds);
    return await images.lock.run(async () => {
      const top = empty ? (c.parent?.top_layer ?? null) : (await images.layers.import(layerFile, diffId, chains.at(-1)!, chains.at(-2) ?? null)).chain_id;
      const size = images.layers.stack(top).reduce((n, l) => n + l.size, 0);
      images.store.commit({ id, config, topLayer: top, parent: c.parent?.id ?? null, size }, c.tags ?? []);
      return images.store.get(id)!;
    });
  } finally {
    if (work) await rm(work, { recursive: true, force: true });
  }
}
