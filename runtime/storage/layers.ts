// Layers: each unpacked once per chain ID into <root>/layers/<chain>/diff (an overlayfs lower dir), with
// its uncompressed tar kept as a blob so that save and push reproduce the exact diff ID.
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PassThrough, Transform, type Readable } from 'node:stream';
import type { DB } from '../state/db.js';
import { EngineError, invalid } from '../errors.js';
import { hex } from '../util/digest.js';
import { openLayer } from './decompress.js';
import { unpackLayer, UnsafeArchiveError } from './unpack.js';
import { clientGone, DEFAULT_MAX_LAYER_SIZE, layerTooLarge, limitSize, settledBoth } from './streams.js';

export interface LayerRecord {
  chain_id: string;
  diff_id: string;
  parent: string | null;
  size: number;
  tar_size: number;
  created_at: number;
}

export class LayerStore {
  readonly layersDir: string;
  readonly blobsDir: string;
  /** Compressed blobs of pulls that were cut off, kept (unlike tmp/) across restarts to resume them. */
  readonly partialDir: string;

  /**
   * @param maxLayerSize the most bytes a layer (an import, a build context) may expand to: past it the
   * work stops with a 400, so a compression bomb cannot fill the disk.
   */
  constructor(
    private readonly db: DB,
    root: string,
    private readonly tmpDir: string,
    readonly maxLayerSize = DEFAULT_MAX_LAYER_SIZE,
  ) {
    this.layersDir = join(root, 'layers');
    this.blobsDir = join(root, 'blobs', 'sha256');
    this.partialDir = join(root, 'partial');
  }

  async init(): Promise<void> {
    await mkdir(this.layersDir, { recursive: true });
    await mkdir(this.blobsDir, { recursive: true });
    await mkdir(this.partialDir, { recursive: true });
  }

  get(chainId: string): LayerRecord | undefined {
    return this.db.prepare('SELECT * FROM layers WHERE chain_id = ?').get(chainId) as LayerRecord | undefined;
  }

  diffDir = (chainId: string) => join(this.layersDir, hex(chainId), 'diff');
  blobPath = (diffId: string) => join(this.blobsDir, hex(diffId));
  partialPath = (digest: string) => join(this.partialDir, hex(digest));

  /** A layer as its uncompressed tar: the blob may be stored as loaded (a tar) or as pulled (gzip, zstd). */
  async tarStream(diffId: string): Promise<Readable> {
    return (await openLayer(this.blobPath(diffId))).stream;
  }

  /** The unpacked dirs of a stack, top first: overlayfs lowerdir order. */
  diffDirs(topChainId: string | null): string[] {
    return this.stack(topChainId)
      .map((l) => this.diffDir(l.chain_id))
      .reverse();
  }

  /** The layers of a stack, bottom first. */
  stack(topChainId: string | null): LayerRecord[] {
    if (!topChainId) return [];
    const rows = this.db
      .prepare(
        `WITH RECURSIVE s(chain_id, depth) AS (SELECT ?, 0 UNION ALL
           SELECT l.parent, s.depth + 1 FROM layers l JOIN s ON l.chain_id = s.chain_id WHERE l.parent IS NOT NULL)
         SELECT layers.* FROM s JOIN layers USING (chain_id) ORDER BY depth DESC`,
      )
      .all(topChainId) as LayerRecord[];
    return rows;
  }

  /**
   * Imports one layer file (gzip, zstd or plain tar) as chainId on top of parent. The diff ID is checked
   * before anything becomes visible: the blob and the unpacked dir are built under tmp and renamed into
   * place, and the DB row is written last, so a crash leaves only files that gc() removes.
   */
  async import(file: string, diffId: string, chainId: string, parent: string | null, signal?: AbortSignal): Promise<LayerRecord> {
    const existing = this.get(chainId);
    if (existing) return existing;
    return this.importStream((await openLayer(file)).stream, diffId, chainId, parent, { signal });
  }

  /**
   * Imports an uncompressed layer tar as it streams in (a pull unpacks while it downloads): one pass
   * writes the tar blob, hashes it against `diffId` and unpacks it; nothing is recorded unless all
   * three succeed. `o.blobFrom`: a file that already holds this layer (compressed: a pull's download)
   * and becomes its blob at the commit, instead of writing the tar out again.
   */
  async importStream(
    tarStream: Readable,
    diffId: string,
    chainId: string,
    parent: string | null,
    o: { beforeCommit?: () => Promise<void>; blobFrom?: string; signal?: AbortSignal } = {},
  ): Promise<LayerRecord> {
    const existing = this.get(chainId);
    if (existing) {
      tarStream.destroy();
      return existing;
    }
    const work = await mkdtemp(join(this.tmpDir, 'layer-'));
    try {
      const tar = join(work, 'layer.tar');
      const diff = join(work, 'diff');
      await mkdir(diff);
      const hash = createHash('sha256');
      let tarSize = 0;
      const file = o.blobFrom ? undefined : createWriteStream(tar);
      const measure = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          tarSize += chunk.length;
          if (!file || file.write(chunk)) done(null, chunk);
          else file.once('drain', () => done(null, chunk));
        },
        flush(done) {
          if (file) file.end(done);
          else done();
        },
      });
      file?.on('error', (err) => measure.destroy(err));
      const tee = new PassThrough();
      const bound = limitSize(this.maxLayerSize, (max) => layerTooLarge(diffId, max));
      const onAbort = () => tarStream.destroy(clientGone());
      o.signal?.addEventListener('abort', onAbort);
      let size: number;
      try {
        if (o.signal?.aborted) throw clientGone();
        [, { size }] = await settledBoth(pipeline(tarStream, bound, measure, tee), unpackLayer(tee, diff), (err) => {
          tarStream.destroy(err);
          tee.destroy(err);
        });
      } catch (err) {
        // The blob file may still be opening: wait until it is closed, so the removal below finds it.
        if (file && !file.closed) {
          const closed = new Promise<void>((resolve) => file.once('close', () => resolve()));
          file.destroy();
          await closed;
        }
        if (err instanceof EngineError) throw err;
        if (err instanceof UnsafeArchiveError) throw invalid(err.message);
        throw invalid(`invalid layer ${diffId}: ${(err as Error).message}`);
      } finally {
        o.signal?.removeEventListener('abort', onAbort);
      }
      const actual = 'sha256:' + hash.digest('hex');
      if (actual !== diffId) throw invalid(`layer digest mismatch: expected ${diffId}, got ${actual}`);
      // A pull checks the compressed blob's digest, and waits for the parent layer's record, here.
      await o.beforeCommit?.();
      const raced = this.get(chainId);
      if (raced) return raced;
      const finalDir = join(this.layersDir, hex(chainId));
      await rm(finalDir, { recursive: true, force: true }); // a leftover of a crashed import
      await mkdir(finalDir);
      await rename(diff, join(finalDir, 'diff'));
      await rename(o.blobFrom ?? tar, this.blobPath(diffId));
      const record: LayerRecord = { chain_id: chainId, diff_id: diffId, parent, size, tar_size: tarSize, created_at: Date.now() };
      this.db
        .prepare(
          'INSERT OR IGNORE INTO layers (chain_id, diff_id, parent, size, tar_size, created_at) VALUES (@chain_id, @diff_id, @parent, @size, @tar_size, @created_at)',
        )
        .run(record);
      return record;
    } finally {
      await rm(work, { recursive: true, force: true, maxRetries: 3 });
    }
  }

  /** Chain IDs that some image or container stands on. */
  private usedChainIds(): Set<string> {
    const rows = this.db
      .prepare(
        `WITH RECURSIVE used(chain_id) AS (SELECT top_layer FROM images WHERE top_layer IS NOT NULL UNION
           SELECT top_layer FROM containers WHERE top_layer IS NOT NULL UNION
           SELECT l.parent FROM layers l JOIN used u ON l.chain_id = u.chain_id WHERE l.parent IS NOT NULL)
         SELECT chain_id FROM used`,
      )
      .all() as { chain_id: string }[];
    return new Set(rows.map((r) => r.chain_id));
  }

  /** Removes layers no image uses, and files no DB row owns (leftovers of a crash). Returns what went. */
  async gc(): Promise<LayerRecord[]> {
    const used = this.usedChainIds();
    const all = this.db.prepare('SELECT * FROM layers').all() as LayerRecord[];
    const unused = all.filter((l) => !used.has(l.chain_id));
    const removed: LayerRecord[] = [];
    // Rows go first (children before parents, in one transaction), files after: a crash in between leaves
    // only ownerless files, which the next gc removes.
    const del = this.db.prepare('DELETE FROM layers WHERE chain_id = ?');
    this.db.transaction(() => {
      const remaining = new Set(unused.map((l) => l.chain_id));
      while (remaining.size > 0) {
        for (const l of unused) {
          if (!remaining.has(l.chain_id)) continue;
          const hasChild = unused.some((c) => c.parent === l.chain_id && remaining.has(c.chain_id));
          if (!hasChild) {
            del.run(l.chain_id);
            remaining.delete(l.chain_id);
            removed.push(l);
          }
        }
      }
    })();
    const kept = this.db.prepare('SELECT chain_id, diff_id FROM layers').all() as LayerRecord[];
    const keptDirs = new Set(kept.map((l) => hex(l.chain_id)));
    const keptBlobs = new Set(kept.map((l) => hex(l.diff_id)));
    // Files no row owns: a crash's leftovers, or (a DB lost and the loss accepted) whole images. Said in
    // the log: nothing the DB cannot vouch for goes silently. (The files of rows removed above are not.)
    const removedDirs = new Set(removed.map((l) => hex(l.chain_id)));
    const removedBlobs = new Set(removed.map((l) => hex(l.diff_id)));
    for (const name of await readdir(this.layersDir)) {
      if (keptDirs.has(name)) continue;
      if (!removedDirs.has(name)) process.stderr.write(`berth: removing layer ${join(this.layersDir, name)}: the state DB has no record of it\n`);
      await rm(join(this.layersDir, name), { recursive: true, force: true });
    }
    for (const name of await readdir(this.blobsDir)) {
      if (keptBlobs.has(name)) continue;
      if (!removedBlobs.has(name)) process.stderr.write(`berth: removing blob ${join(this.blobsDir, name)}: the state DB has no record of it\n`);
      await rm(join(this.blobsDir, name), { force: true });
    }
    return removed;
  }

  async blobSize(diffId: string): Promise<number> {
    return (await stat(this.blobPath(diffId))).size;
  }
}
