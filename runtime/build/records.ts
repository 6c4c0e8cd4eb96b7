// The build cache's bookkeeping: which images build steps made (the `build_cache` table), when they
// were last a cache hit, how often — for `docker builder prune` and the build cache of `docker system df`.
import type { DB } from '../state/db.js';

export interface BuildCacheRow {
  image_id: string;
  created_at: number;
  last_used: number;
  usage_count: number;
}

export class BuildCacheStore {
  constructor(private readonly db: DB) {}

  made(id: string): void {
    const now = Date.now();
    this.db
      .prepare('INSERT INTO build_cache (image_id, created_at, last_used) VALUES (?, ?, ?) ON CONFLICT(image_id) DO UPDATE SET last_used = excluded.last_used')
      .run(id, now, now);
  }

  used(id: string): void {
    this.db.prepare('UPDATE build_cache SET last_used = ?, usage_count = usage_count + 1 WHERE image_id = ?').run(Date.now(), id);
  }

  all(): BuildCacheRow[] {
    return this.db.prepare('SELECT * FROM build_cache ORDER BY created_at').all() as BuildCacheRow[];
  }
}
