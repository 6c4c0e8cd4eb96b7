// The image records: images, their tags and digests, and how a user's name for an image resolves.
import type { DB } from '../state/db.js';
import { notFound } from '../errors.js';
import { isDigest } from '../util/digest.js';
import { familiarString, parseTaggedReference, referenceString, type Reference } from './reference.js';
import type { ImageConfig } from './config.js';

export interface ImageRecord {
  id: string;
  config: Buffer;
  top_layer: string | null;
  parent: string | null;
  created: string;
  size: number;
  labels: string | null;
  last_tag_time: string | null;
  added_at: number;
  /** The manifest the image came with (an OCI layout's), else NULL. */
  manifest_digest?: string | null;
  manifest_type?: string | null;
  manifest_size?: number | null;
}

export interface NewImage {
  id: string;
  config: Buffer;
  topLayer: string | null;
  parent: string | null;
  size: number;
}

export const parseConfig = (image: ImageRecord) => JSON.parse(image.config.toString('utf8')) as ImageConfig;

export class ImageStore {
  constructor(private readonly db: DB) {}

  get(id: string): ImageRecord | undefined {
    return this.db.prepare('SELECT * FROM images WHERE id = ?').get(id) as ImageRecord | undefined;
  }

  all(): ImageRecord[] {
    return this.db.prepare('SELECT * FROM images ORDER BY created DESC, id').all() as ImageRecord[];
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM images').get() as { n: number }).n;
  }

  tagsOf(id: string): string[] {
    return (this.db.prepare('SELECT name FROM tags WHERE image_id = ? ORDER BY name').all(id) as { name: string }[]).map((r) => r.name);
  }

  /** An image's tags in the order they were given (podman lists names so). */
  namesOf(id: string): string[] {
    return (this.db.prepare('SELECT name FROM tags WHERE image_id = ? ORDER BY rowid').all(id) as { name: string }[]).map((r) => r.name);
  }

  digestsOf(id: string): string[] {
    return (this.db.prepare('SELECT name FROM digests WHERE image_id = ? ORDER BY name').all(id) as { name: string }[]).map((r) => r.name);
  }

  allTags(): { name: string; image_id: string }[] {
    return this.db.prepare('SELECT name, image_id FROM tags ORDER BY name').all() as { name: string; image_id: string }[];
  }

  tagged(ref: string): string | undefined {
    return (this.db.prepare('SELECT image_id FROM tags WHERE name = ?').get(ref) as { image_id: string } | undefined)?.image_id;
  }

  /** The image a `repo@sha256:...` reference names, if any. */
  digested(ref: string): string | undefined {
    return (this.db.prepare('SELECT image_id FROM digests WHERE name = ?').get(ref) as { image_id: string } | undefined)?.image_id;
  }

  /** Containers created from the image (the containers table is the containers service's; read-only here). */
  containersUsing(id: string): { id: string; state: string }[] {
    return this.db.prepare('SELECT id, state FROM containers WHERE image_id = ?').all(id) as { id: string; state: string }[];
  }

  children(id: string): string[] {
    return (this.db.prepare('SELECT id FROM images WHERE parent = ?').all(id) as { id: string }[]).map((r) => r.id);
  }

  /**
   * Resolves what a user typed (`busybox`, `busybox:1`, `repo@sha256:..`, a full or short ID) the way
   * dockerd does: references first, then full IDs, then unique ID prefixes.
   */
  resolve(nameOrId: string): ImageRecord {
    const missing = () => notFound(`No such image: ${describe(nameOrId)}`);
    let ref: Reference | undefined;
    try {
      ref = parseTaggedReference(nameOrId);
    } catch (err) {
      if (!/^(sha256:)?[a-f0-9]{1,64}$/.test(nameOrId)) throw err;
    }
    if (ref) {
      const table = ref.digest ? 'digests' : 'tags';
      const key = referenceString(ref.digest ? { ...ref, tag: undefined } : ref);
      const row = this.db.prepare(`SELECT image_id FROM ${table} WHERE name = ?`).get(key) as { image_id: string } | undefined;
      if (row) return this.get(row.image_id)!;
    }
    const full = nameOrId.startsWith('sha256:') ? nameOrId : `sha256:${nameOrId}`;
    if (isDigest(full)) {
      const image = this.get(full);
      if (image) return image;
      throw missing();
    }
    if (/^(sha256:)?[a-f0-9]+$/.test(nameOrId)) {
      const matches = this.db.prepare("SELECT * FROM images WHERE id LIKE ? || '%' LIMIT 2").all(full) as ImageRecord[];
      if (matches.length === 1) return matches[0]!;
    }
    throw missing();
  }

  /**
   * Records an image and points tags at it, in one transaction. Returns the tags that moved away from
   * another image (that image stays, untagged, as Docker leaves it).
   */
  commit(image: NewImage, tags: string[]): { tag: string; previous: string }[] {
    const moved: { tag: string; previous: string }[] = [];
    const config = JSON.parse(image.config.toString('utf8')) as ImageConfig;
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT OR IGNORE INTO images (id, config, top_layer, parent, created, size, labels, last_tag_time, added_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)`,
        )
        .run(
          image.id,
          image.config,
          image.topLayer,
          image.parent,
          config.created ?? new Date(0).toISOString(),
          image.size,
          config.config?.Labels ? JSON.stringify(config.config.Labels) : null,
          Date.now(),
        );
      for (const tag of tags) {
        const previous = this.tagged(tag);
        if (previous && previous !== image.id) moved.push({ tag, previous });
        this.setTag(tag, image.id);
      }
    })();
    return moved;
  }

  /** The tags of a repository (`docker.io/library/busybox` → `latest`, ...). */
  tagsOfRepository(repository: string): string[] {
    const rows = this.db.prepare('SELECT name FROM tags WHERE substr(name, 1, ?) = ? ORDER BY name').all(repository.length + 1, `${repository}:`) as {
      name: string;
    }[];
    return rows.map((r) => r.name.slice(repository.length + 1)).filter((t) => !t.includes('/'));
  }

  /** Records `repo@sha256:...` (a pulled or pushed manifest digest) for an image: its RepoDigests. */
  setDigest(ref: string, id: string): void {
    this.db.prepare('INSERT INTO digests (name, image_id) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id').run(ref, id);
  }

  setTag(ref: string, id: string): void {
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO tags (name, image_id) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id').run(ref, id);
      this.db.prepare('UPDATE images SET last_tag_time = ? WHERE id = ?').run(new Date().toISOString(), id);
    })();
  }

  /** Records the manifest an image came with (podman shows its digest, type and size). */
  setManifest(id: string, m: { digest: string; mediaType: string; size: number }): void {
    this.db.prepare('UPDATE images SET manifest_digest = ?, manifest_type = ?, manifest_size = ? WHERE id = ?').run(m.digest, m.mediaType, m.size, id);
  }

  /** Removes a tag or digest reference; returns whether it existed. */
  untag(ref: string): boolean {
    const table = ref.includes('@') ? 'digests' : 'tags';
    return this.db.prepare(`DELETE FROM ${table} WHERE name = ?`).run(ref).changes > 0;
  }

  /** Deletes an image record with its references. Its layers are collected by LayerStore.gc. */
  remove(id: string): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM tags WHERE image_id = ?').run(id);
      this.db.prepare('DELETE FROM digests WHERE image_id = ?').run(id);
      this.db.prepare('UPDATE images SET parent = NULL WHERE parent = ?').run(id);
      this.db.prepare('DELETE FROM images WHERE id = ?').run(id);
    })();
  }
}

/** How dockerd names a missing image: references get their default tag, IDs stay as typed. */
function describe(nameOrId: string): string {
  try {
    return familiarString(parseTaggedReference(nameOrId));
  } catch {
    return nameOrId;
  }
}
