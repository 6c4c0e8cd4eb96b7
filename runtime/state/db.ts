import Database from 'better-sqlite3';
import { join } from 'node:path';
import { migrations, migrationSteps } from './migrations.js';
import { crashPoint } from '../util/crash.js';
import { EngineError } from '../errors.js';
import { mayUseReserve, SpaceReserve } from './reserve.js';

export type DB = Database.Database;

/**
 * Opens the state DB in WAL mode and brings its schema up to date. Failures name the DB file. With
 * `reserveDir`, writes of operations that free space may use a space reserve kept there (reserve.ts).
 */
export function openDatabase(path: string, o: { reserveDir?: string } = {}): DB {
  let db: DB | undefined;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > migrations.length) {
      throw new Error(`it has schema ${current}, newer than this berth (${migrations.length})`);
    }
    if (current < migrations.length) {
      // Foreign keys are off while migrating (the pragma is a no-op inside a transaction), as SQLite's
      // table-rebuild procedure needs; no migration may leave more broken references than it found.
      db.pragma('foreign_keys = OFF');
      for (let version = current; version < migrations.length; version++) {
        db.transaction(() => {
          const before = (db!.pragma('foreign_key_check') as unknown[]).length;
          db!.exec(migrations[version]!);
          migrationSteps[version + 1]?.(db!);
          crashPoint(`migrate:${version + 1}`); // a kill -9 here leaves the DB as it was before this migration
          const after = (db!.pragma('foreign_key_check') as unknown[]).length;
          if (after > before) throw new Error(`migration ${version + 1} broke ${after - before} foreign key reference(s)`);
          db!.pragma(`user_version = ${version + 1}`);
        })();
      }
      db.pragma('foreign_keys = ON');
    }
    cacheStatements(db);
    if (o.reserveDir) guardWrites(db, path, new SpaceReserve(join(o.reserveDir, 'space-reserve')));
    return db;
  } catch (err) {
    db?.close();
    throw new Error(`state DB ${path}: ${(err as Error).message}`);
  }
}

const diskFull = (err: unknown) => (err as { code?: string })?.code === 'SQLITE_FULL';

/**
 * Statements' runs and transactions that fail because the disk is full: inside an operation that frees
 * space, the reserve is released and the write tried once more; otherwise the caller gets an error that
 * says what is full. Only the outermost write retries (SQLite rolls a failed transaction back whole).
 */
function guardWrites(db: DB, path: string, reserve: SpaceReserve): void {
  reserve.restore();
  const guard =
    <A extends unknown[], R>(write: (...args: A) => R) =>
    (...args: A): R => {
      if (db.inTransaction) return write(...args);
      try {
        return write(...args);
      } catch (err) {
        if (!diskFull(err)) throw err;
        if (mayUseReserve()) {
          reserve.release();
          try {
            return write(...args);
          } catch (again) {
            if (!diskFull(again)) throw again;
          }
        }
        throw new EngineError('internal', `write ${path}: no space left on device`);
      }
    };
  const prepare = db.prepare.bind(db) as (sql: string, ...internal: unknown[]) => Database.Statement;
  db.prepare = ((sql: string, ...internal: unknown[]) => {
    const statement = prepare(sql, ...internal);
    if (!statement.reader && !guarded.has(statement)) {
      statement.run = guard(statement.run.bind(statement));
      guarded.add(statement);
    }
    return statement;
  }) as unknown as DB['prepare'];
  const transaction = db.transaction.bind(db);
  db.transaction = ((fn: (...args: unknown[]) => unknown) => {
    const t = transaction(fn);
    return Object.assign(guard(t), { default: t.default, deferred: t.deferred, immediate: t.immediate, exclusive: t.exclusive });
  }) as DB['transaction'];
  const close = db.close.bind(db);
  db.close = () => {
    reserve.close();
    return close();
  };
}

const guarded = new WeakSet<Database.Statement>();

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
