import Database from 'better-sqlite3';
import { migrations } from './migrations.js';

export type DB = Database.Database;

/** Opens the state DB in WAL mode and brings its schema up to date. */
export function openDatabase(path: string): DB {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    db.close();
    throw new Error(`state DB ${path} has schema ${current}, newer than this berth (${migrations.length})`);
  }
  for (let version = current; version < migrations.length; version++) {
    db.transaction(() => {
      db.exec(migrations[version]!);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
  cacheStatements(db);
  return db;
}

/**
 * Makes `db.prepare(sql)` reuse one compiled statement per SQL text. The stores prepare on every call,
 * and better-sqlite3 compiles on every prepare: a 200-container list spent most of its time there.
 * Calls with more arguments (better-sqlite3's own, as pragma(), which then plucks) are not cached; a
 * statement's modes (safeIntegers) stay with its SQL text, which no caller here mixes.
 */
function cacheStatements(db: DB): void {
  const prepare = db.prepare.bind(db) as (sql: string, ...internal: unknown[]) => Database.Statement;
  const statements = new Map<string, Database.Statement>();
  db.prepare = ((sql: string, ...internal: unknown[]) => {
    if (internal.length) return prepare(sql, ...internal);
    let statement = statements.get(sql);
    if (!statement) {
      if (statements.size >= 1000) statements.clear(); // SQL built from values must not grow it forever
      statements.set(sql, (statement = prepare(sql)));
    }
    return statement;
  }) as unknown as DB['prepare'];
}
