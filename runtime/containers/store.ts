// Container records in the state DB, and how a user's name for a container resolves.
import type { DB } from '../state/db.js';
import { notFound } from '../errors.js';
import type { MountPoint } from '../volumes/mounts.js';
import type { HeldPort } from '../network/ports.js';
import type { ContainerSpec } from './spec.js';
import type { HealthState } from './health-state.js';

/** `initialized`: the runtime's container exists, its process waits for `start` (libpod's init). */
export type ContainerState = 'created' | 'initialized' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerRow {
  id: string;
  name: string;
  image_id: string;
  image_name: string;
  top_layer: string | null;
  /** ContainerSpec (JSON): what the container is, image defaults merged in. */
  spec: string;
  /** What the creating API's client sent that the spec does not model (JSON, opaque here): echoed by its views. */
  echo: string;
  created: string;
  state: ContainerState;
  pid: number;
  exit_code: number;
  error: string;
  oom_killed: number;
  started_at: string | null;
  finished_at: string | null;
  restart_count: number;
  stopped_by_user: number;
  run_id: number;
  mounts: string;
  ports: string;
  /** State.Health as JSON; null until a healthcheck first starts (health-state.ts). */
  health: string | null;
}

/** A container row with its JSON columns parsed. */
export interface Container extends Omit<ContainerRow, 'spec' | 'echo' | 'mounts' | 'ports' | 'health'> {
  spec: ContainerSpec;
  echo: ClientEcho;
  mounts: MountPoint[];
  /** Host ports published while it runs (empty otherwise). */
  ports: HeldPort[];
  health: HealthState | null;
}

/**
 * What each API's client sent that the spec does not model, by API family (`docker`: the compat API's
 * Config/HostConfig leftovers; `libpod`: the SpecGenerator's), kept for that family's views and never
 * read by the engine. A container made by one API has no echo of the other: its views show their defaults.
 */
export interface ClientEcho {
  docker?: Record<string, unknown>;
  libpod?: Record<string, unknown>;
}

const parse = (row: ContainerRow): Container => {
  const { spec, echo, mounts, ports, health, ...rest } = row;
  return {
    ...rest,
    spec: JSON.parse(spec) as ContainerSpec,
    echo: JSON.parse(echo) as ClientEcho,
    mounts: JSON.parse(mounts) as MountPoint[],
    ports: JSON.parse(ports) as HeldPort[],
    health: health === null ? null : (JSON.parse(health) as HealthState),
  };
};

export class ContainerStore {
  constructor(private readonly db: DB) {}

  get(id: string): Container | undefined {
    const row = this.db.prepare('SELECT * FROM containers WHERE id = ?').get(id) as ContainerRow | undefined;
    return row && parse(row);
  }

  all(): Container[] {
    return (this.db.prepare('SELECT * FROM containers ORDER BY created DESC, rowid DESC').all() as ContainerRow[]).map(parse);
  }

  byName(name: string): Container | undefined {
    const row = this.db.prepare('SELECT * FROM containers WHERE name = ?').get(name) as ContainerRow | undefined;
    return row && parse(row);
  }

  /** Full ID, name (with or without its leading slash), or a unique ID prefix, in dockerd's order. */
  resolve(nameOrId: string): Container {
    const exact = this.get(nameOrId) ?? this.byName(nameOrId.replace(/^\//, ''));
    if (exact) return exact;
    if (/^[a-f0-9]+$/.test(nameOrId)) {
      const rows = this.db.prepare("SELECT * FROM containers WHERE id LIKE ? || '%' LIMIT 2").all(nameOrId) as ContainerRow[];
      if (rows.length === 1) return parse(rows[0]!);
    }
    throw notFound(`No such container: ${nameOrId}`);
  }

  insert(c: Container): void {
    this.db
      .prepare(
        `INSERT INTO containers (id, name, image_id, image_name, top_layer, spec, echo, created, state, mounts, ports)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        c.id,
        c.name,
        c.image_id,
        c.image_name,
        c.top_layer,
        JSON.stringify(c.spec),
        JSON.stringify(c.echo),
        c.created,
        c.state,
        JSON.stringify(c.mounts),
        JSON.stringify(c.ports),
      );
  }

  update(id: string, fields: Partial<Omit<ContainerRow, 'id'>>): void {
    const keys = Object.keys(fields);
    if (keys.length === 0) return;
    this.db.prepare(`UPDATE containers SET ${keys.map((k) => `${k} = @${k}`).join(', ')} WHERE id = @id`).run({ ...fields, id });
  }

  /** Moves a run's state on only if it is still that run and still running (or initialized): one caller wins. */
  transition(id: string, runId: number, fields: Partial<Omit<ContainerRow, 'id'>>): boolean {
    const keys = Object.keys(fields);
    const sql = `UPDATE containers SET ${keys.map((k) => `${k} = @${k}`).join(', ')}
                 WHERE id = @id AND run_id = @runId AND state IN ('running', 'paused', 'initialized')`;
    return this.db.prepare(sql).run({ ...fields, id, runId }).changes === 1;
  }

  /** Records a probe's outcome, only while that run still runs (an exit or a pause meanwhile wins). */
  setHealth(id: string, runId: number, health: HealthState): boolean {
    return (
      this.db.prepare("UPDATE containers SET health = ? WHERE id = ? AND run_id = ? AND state = 'running'").run(JSON.stringify(health), id, runId).changes === 1
    );
  }

  setSpec(id: string, spec: ContainerSpec): void {
    this.db.prepare('UPDATE containers SET spec = ? WHERE id = ?').run(JSON.stringify(spec), id);
  }

  remove(id: string): void {
    this.db.prepare('DELETE FROM containers WHERE id = ?').run(id);
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Running and paused containers: the exit sweep's, twice a second, which must not parse every container. */
  live(): Container[] {
    return (this.db.prepare("SELECT * FROM containers WHERE state IN ('running', 'paused')").all() as ContainerRow[]).map(parse);
  }

  usingImage(imageId: string): Container[] {
    return (this.db.prepare('SELECT * FROM containers WHERE image_id = ?').all(imageId) as ContainerRow[]).map(parse);
  }

  count(): Record<ContainerState | 'total', number> {
    const rows = this.db.prepare('SELECT state, count(*) AS n FROM containers GROUP BY state').all() as { state: ContainerState; n: number }[];
    const out = { created: 0, initialized: 0, running: 0, paused: 0, restarting: 0, removing: 0, exited: 0, dead: 0, total: 0 };
    for (const r of rows) {
      out[r.state] = r.n;
      out.total += r.n;
    }
    return out;
  }
}
