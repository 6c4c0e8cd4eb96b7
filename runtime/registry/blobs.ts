// Which compressed blob a layer is in a registry repository: learned from pulls and pushes, so a push
// can skip (HEAD) or mount what a registry already has, and a re-push gives the same manifest.
import type { DB } from '../state/db.js';

export interface KnownBlob {
  repository: string; // host/path
  digest: string;
  mediaType: string;
  size: number;
}

export class BlobIndex {
  constructor(private readonly db: DB) {}

  remember(diffId: string, blob: KnownBlob): void {
    this.db
      .prepare('INSERT OR REPLACE INTO layer_blobs (diff_id, repository, digest, media_type, size) VALUES (?, ?, ?, ?, ?)')
      .run(diffId, blob.repository, blob.digest, blob.mediaType, blob.size);
  }

  /** Known blobs of a layer, those in `repository` first. */
  known(diffId: string, repository: string): KnownBlob[] {
    const rows = this.db.prepare('SELECT repository, digest, media_type AS mediaType, size FROM layer_blobs WHERE diff_id = ?').all(diffId) as KnownBlob[];
    return rows.sort((a, b) => Number(b.repository === repository) - Number(a.repository === repository));
  }
}
