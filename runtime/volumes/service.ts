// Local volumes: a directory per volume under <root>/volumes/<name>/_data, recorded in the DB (the row
// last on create, first on remove: a crash leaves at most a directory without a row).
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { DB } from '../state/db.js';
import { conflict, invalid, notFound } from '../errors.js';
import type { EventLog } from '../events/log.js';

export interface Volume {
  name: string;
  driver: string;
  labels: Record<string, string>;
  options: Record<string, string>;
  anonymous: boolean;
  createdAt: string;
  mountpoint: string;
}

interface VolumeRow {
  name: string;
  driver: string;
  labels: string;
  options: string;
  anonymous: number;
  created_at: string;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export class VolumeService {
  constructor(private readonly db: DB, private readonly root: string, private readonly events: EventLog) {}

  mountpoint = (name: string) => join(this.root, 'volumes', name, '_data');

  private parse = (r: VolumeRow): Volume => ({
    name: r.name, driver: r.driver, labels: JSON.parse(r.labels) as Record<string, string>, options: JSON.parse(r.options) as Record<string, string>,
    anonymous: r.anonymous === 1, createdAt: r.created_at, mountpoint: this.mountpoint(r.name),
  });

  find(name: string): Volume | undefined {
    const row = this.db.prepare('SELECT * FROM volumes WHERE name = ?').get(name) as VolumeRow | undefined;
    return row && this.parse(row);
  }

  get(name: string): Volume {
    const v = this.find(name);
    if (!v) throw notFound(`get ${name}: no such volume`);
    return v;
  }

  all(): Volume[] {
    return (this.db.prepare('SELECT * FROM volumes ORDER BY name').all() as VolumeRow[]).map(this.parse);
  }

  /** Creates a volume (a generated name when none); an existing one with that name is returned as is, as dockerd does. */
  async create(o: { name?: string; driver?: string; labels?: Record<string, string>; options?: Record<string, string>; anonymous?: boolean } = {}): Promise<Volume> {
    const name = o.name || randomBytes(32).toString('hex');
    if (!NAME.test(name)) throw invalid(`create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
    const driver = o.driver || 'local';
    if (driver !== 'local') throw notFound(`create ${name}: error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    if (o.options && Object.keys(o.options).length) throw invalid(`create ${name}: driver options (type, device, o) are not supported yet by this berth`);
    const existing = this.find(name);
    if (existing) return existing;
    await mkdir(this.mountpoint(name), { recursive: true, mode: 0o755 });
    this.db.prepare('INSERT OR IGNORE INTO volumes (name, driver, labels, options, anonymous, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(name, driver, JSON.stringify(o.labels ?? {}), JSON.stringify(o.options ?? {}), o.anonymous ? 1 : 0, new Date().toISOString());
    this.events.record('volume', 'create', name, { driver });
    return this.get(name);
  }

  /** Removes a volume; `users` are the containers that mount it (409 unless there are none). */
  async remove(name: string, users: string[], force = false): Promise<void> {
    const v = this.find(name);
    if (!v) {
      if (force) return;
      throw notFound(`get ${name}: no such volume`);
    }
    if (users.length) throw conflict(`remove ${name}: volume is in use - [${users.join(', ')}]`);
    this.db.prepare('DELETE FROM volumes WHERE name = ?').run(name);
    await rm(join(this.root, 'volumes', name), { recursive: true, force: true });
    this.events.record('volume', 'destroy', name, { driver: v.driver });
  }
}

