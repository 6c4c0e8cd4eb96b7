// Exec session records. Docker keeps a finished session until its container goes; so does this table.
import type { DB } from '../state/db.js';
import { notFound } from '../errors.js';

/** What an exec runs and how: the create request's fields berth reads, stored as JSON as the client sent them. */
export interface ExecConfig {
  Cmd?: string[] | null;
  Env?: string[] | null;
  User?: string;
  WorkingDir?: string;
  Privileged?: boolean;
  Tty?: boolean;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  DetachKeys?: string;
  ConsoleSize?: number[] | null; // [height, width]
}

export type ExecState = 'created' | 'running' | 'exited';

interface ExecRow {
  id: string;
  container_id: string;
  config: string;
  state: ExecState;
  pid: number;
  exit_code: number | null;
  created_at: number;
}

export interface ExecSession extends Omit<ExecRow, 'config'> {
  config: ExecConfig;
}

const parse = ({ config, ...rest }: ExecRow): ExecSession => ({ ...rest, config: JSON.parse(config) as ExecConfig });

export class ExecStore {
  constructor(private readonly db: DB) {}

  insert(id: string, containerId: string, config: ExecConfig): void {
    this.db
      .prepare('INSERT INTO exec_sessions (id, container_id, config, state, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(id, containerId, JSON.stringify(config), 'created', Date.now());
  }

  get(id: string): ExecSession {
    const s = this.find(id);
    if (!s) throw notFound(`No such exec instance: ${id}`);
    return s;
  }

  /** The session, or undefined once its container (and with it the record) is gone. */
  find(id: string): ExecSession | undefined {
    const row = this.db.prepare('SELECT * FROM exec_sessions WHERE id = ?').get(id) as ExecRow | undefined;
    return row && parse(row);
  }

  ofContainer(containerId: string): ExecSession[] {
    return (this.db.prepare('SELECT * FROM exec_sessions WHERE container_id = ? ORDER BY created_at').all(containerId) as ExecRow[]).map(parse);
  }

  /** Moves a session from one state to the next; false when another path got there first. */
  transition(id: string, from: ExecState, to: { state: ExecState; pid?: number; exit_code?: number | null }): boolean {
    const r = this.db
      .prepare('UPDATE exec_sessions SET state = ?, pid = COALESCE(?, pid), exit_code = COALESCE(?, exit_code) WHERE id = ? AND state = ?')
      .run(to.state, to.pid ?? null, to.exit_code ?? null, id, from);
    return r.changes === 1;
  }

  remove(id: string): void {
    this.db.prepare('DELETE FROM exec_sessions WHERE id = ?').run(id);
  }

  removeOfContainer(containerId: string): void {
    this.db.prepare('DELETE FROM exec_sessions WHERE container_id = ?').run(containerId);
  }
}
