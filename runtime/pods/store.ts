// Pod records in the state DB. A pod's members are containers whose spec names the pod's ID; the pod's
// row holds what is the pod's own (spec, infra container, the creating API's echo).
import type { DB } from '../state/db.js';
import { notFound } from '../errors.js';
import type { PodSpec } from './spec.js';

export interface Pod {
  id: string;
  name: string;
  spec: PodSpec;
  /** What the creating API's client sent that the spec does not model (libpod: the create command...). */
  echo: Record<string, unknown>;
  /** The infra container's ID ('' without one, or while the pod is being made). */
  infraId: string;
  created: string;
}

interface PodRow {
  id: string;
  name: string;
  spec: string;
  echo: string;
  infra_id: string;
  created: string;
}

const parse = (r: PodRow): Pod => ({
  id: r.id,
  name: r.name,
  spec: JSON.parse(r.spec) as PodSpec,
  echo: JSON.parse(r.echo) as Record<string, unknown>,
  infraId: r.infra_id,
  created: r.created,
});

export class PodStore {
  constructor(private readonly db: DB) {}

  all(): Pod[] {
    return (this.db.prepare('SELECT * FROM pods ORDER BY created, rowid').all() as PodRow[]).map(parse);
  }

  get(id: string): Pod | undefined {
    const row = this.db.prepare('SELECT * FROM pods WHERE id = ?').get(id) as PodRow | undefined;
    return row && parse(row);
  }

  /** By full ID, name, or unique ID prefix, as podman looks pods up. */
  find(ref: string): Pod | undefined {
    const row =
      (this.db.prepare('SELECT * FROM pods WHERE id = ?').get(ref) as PodRow | undefined) ??
      (this.db.prepare('SELECT * FROM pods WHERE name = ?').get(ref) as PodRow | undefined);
    if (row) return parse(row);
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    const rows = this.db.prepare("SELECT * FROM pods WHERE id LIKE ? || '%' LIMIT 2").all(ref) as PodRow[];
    return rows.length === 1 ? parse(rows[0]!) : undefined;
  }

  /** podman's words for a pod that is not there. */
  resolve(ref: string): Pod {
    const pod = this.find(ref);
    if (!pod) throw notFound(`no pod with name or ID ${ref} found: no such pod`);
    return pod;
  }

  byName(name: string): Pod | undefined {
    const row = this.db.prepare('SELECT * FROM pods WHERE name = ?').get(name) as PodRow | undefined;
    return row && parse(row);
  }

  insert(p: Pod): void {
    this.db
      .prepare('INSERT INTO pods (id, name, spec, echo, infra_id, created) VALUES (?, ?, ?, ?, ?, ?)')
      .run(p.id, p.name, JSON.stringify(p.spec), JSON.stringify(p.echo), p.infraId, p.created);
  }

  setInfra(id: string, infraId: string): void {
    this.db.prepare('UPDATE pods SET infra_id = ? WHERE id = ?').run(infraId, id);
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM pods WHERE id = ?').run(id);
  }
}
