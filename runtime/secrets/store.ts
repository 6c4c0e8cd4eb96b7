// Secrets (podman's `secret` resource, the `file` driver): a row per secret in the state DB, its bytes in
// <root>/secrets/filedriver/<id> (mode 0600, dir 0700). The file is written (whole, renamed into place)
// before its row and removed after it, so a crash leaves at most an unreferenced file, never a row
// without its data.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DB } from '../state/db.js';
import { EngineError, invalid, notFound } from '../errors.js';

export interface Secret {
  /** 25 hex digits, as podman's. */
  id: string;
  name: string;
  driver: string;
  /** The driver's options (the file driver's `path`: where its data lies). */
  options: Record<string, string>;
  labels: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

interface SecretRow {
  id: string;
  name: string;
  driver: string;
  options: string;
  labels: string;
  created_at: string;
  updated_at: string;
}

/** podman's bound: the data of a secret is 1 byte to 512000 bytes. */
export const MAX_SECRET_SIZE = 512000;
/** podman's rule for secret names: up to 64 of [a-zA-Z0-9-_.], starting and ending alphanumeric. */
const NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9_.-]{0,62}[a-zA-Z0-9])?$/;

const parse = (r: SecretRow): Secret => ({
  id: r.id,
  name: r.name,
  driver: r.driver,
  options: JSON.parse(r.options) as Record<string, string>,
  labels: JSON.parse(r.labels) as Record<string, string>,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export class SecretStore {
  private readonly dir: string;

  constructor(
    private readonly db: DB,
    root: string,
  ) {
    this.dir = join(root, 'secrets', 'filedriver');
  }

  all(): Secret[] {
    return (this.db.prepare('SELECT * FROM secrets ORDER BY created_at, rowid').all() as SecretRow[]).map(parse);
  }

  /** By name, full ID or unique ID prefix, as podman looks secrets up. */
  find(ref: string): Secret | undefined {
    const row =
      (this.db.prepare('SELECT * FROM secrets WHERE name = ?').get(ref) as SecretRow | undefined) ??
      (this.db.prepare('SELECT * FROM secrets WHERE id = ?').get(ref) as SecretRow | undefined);
    if (row) return parse(row);
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    const rows = this.db.prepare("SELECT * FROM secrets WHERE id LIKE ? || '%'").all(ref) as SecretRow[];
    return rows.length === 1 ? parse(rows[0]!) : undefined;
  }

  get(ref: string): Secret {
    const s = this.find(ref);
    if (!s) throw notFound(`no secret with name or id "${ref}": no such secret`);
    return s;
  }

  async create(o: { name: string; data: Buffer; driver?: string; labels?: Record<string, string> }): Promise<Secret> {
    const driver = o.driver || 'file';
    if (driver !== 'file') throw invalid(`${driver}: unsupported secret driver: invalid argument`);
    if (!NAME.test(o.name))
      throw invalid(`only 64 [a-zA-Z0-9-_.] characters allowed, and the start and end character must be [a-zA-Z0-9]: ${o.name}: invalid secret name`);
    if (o.data.length === 0 || o.data.length >= MAX_SECRET_SIZE) throw invalid('secret data must be larger than 0 and less than 512000 bytes');
    if (this.byName(o.name)) throw new EngineError('internal', `${o.name}: secret name in use`);
    const id = randomBytes(13).toString('hex').slice(0, 25);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = join(this.dir, `.${id}.tmp`);
    await writeFile(tmp, o.data, { mode: 0o600 });
    await rename(tmp, join(this.dir, id));
    const created = new Date().toISOString();
    try {
      this.db
        .prepare('INSERT INTO secrets (id, name, driver, options, labels, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(id, o.name, driver, JSON.stringify({ path: this.dir }), JSON.stringify(o.labels ?? {}), created, created);
    } catch (err) {
      await rm(join(this.dir, id), { force: true });
      // Two creates of one name at once: the UNIQUE constraint refuses the second.
      if (this.byName(o.name)) throw new EngineError('internal', `${o.name}: secret name in use`);
      throw err;
    }
    return this.get(id);
  }

  private byName(name: string): Secret | undefined {
    const row = this.db.prepare('SELECT * FROM secrets WHERE name = ?').get(name) as SecretRow | undefined;
    return row && parse(row);
  }

  /** A secret's bytes, by name or ID. */
  async data(ref: string): Promise<Buffer> {
    return readFile(join(this.dir, this.get(ref).id));
  }

  async remove(ref: string): Promise<Secret> {
    const s = this.get(ref);
    this.db.prepare('DELETE FROM secrets WHERE id = ?').run(s.id);
    await rm(join(this.dir, s.id), { force: true });
    return s;
  }
}
