// State DB migration 14: container rows made before ContainerSpec (Docker's Config and HostConfig in
// JSON columns) become spec + echo rows. A kill -9 in the middle leaves the DB as it was (the migration
// and its row conversion run in one transaction); a container made before starts, stops and inspects
// the same after it.
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { GOLDEN } from './helpers/golden.js';
import { suiteEngine } from './helpers/suite.js';
import { migrations } from '../runtime/state/migrations.js';
import { dockerOf } from '../server/compat/create/to-docker.js';

const engine = suiteEngine({ load: [join(GOLDEN, 'dockerd-busybox.tar')] });
const SPEC_MIGRATION = 14;
/** How to undo each migration after 14, so the DB is as the code before 14 left it. */
const LATER: Record<number, string> = {
  15: 'ALTER TABLE networks DROP COLUMN ipam_options;',
  16: 'ALTER TABLE endpoints DROP COLUMN links;',
  17: "UPDATE containers SET echo = coalesce(json_extract(echo, '$.docker'), '{}');",
  18: 'DROP TABLE secrets;',
  19: 'ALTER TABLE images DROP COLUMN manifest_digest; ALTER TABLE images DROP COLUMN manifest_type; ALTER TABLE images DROP COLUMN manifest_size;',
  20: 'DROP TABLE pods;',
  21: 'ALTER TABLE volumes DROP COLUMN needs_chown;',
};

const ok = async (args: string[]) => {
  const r = await engine.docker(args);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout.trim();
};
const inspect = async (name: string) => JSON.parse(await ok(['inspect', name]))[0];

/**
 * The DB as the code before migration 14 left it: each row's Docker Config/HostConfig in `config` and
 * `host_config` (rebuilt from spec + echo: the converter's table tests show that is what the old code
 * wrote), no spec or echo columns, schema version 13 (the later migrations undone first).
 */
function downgrade(path: string): void {
  const db = new Database(path);
  try {
    db.transaction(() => {
      for (let n = migrations.length; n > SPEC_MIGRATION; n--) db.exec(LATER[n]!);
      db.exec("ALTER TABLE containers ADD COLUMN config TEXT NOT NULL DEFAULT '{}'; ALTER TABLE containers ADD COLUMN host_config TEXT NOT NULL DEFAULT '{}';");
      for (const row of db.prepare('SELECT id, spec, echo FROM containers').all() as { id: string; spec: string; echo: string }[]) {
        const { config, hostConfig } = dockerOf(JSON.parse(row.spec), { docker: JSON.parse(row.echo) });
        db.prepare('UPDATE containers SET config = ?, host_config = ? WHERE id = ?').run(JSON.stringify(config), JSON.stringify(hostConfig), row.id);
      }
      db.exec('ALTER TABLE containers DROP COLUMN spec; ALTER TABLE containers DROP COLUMN echo;');
      db.pragma(`user_version = ${SPEC_MIGRATION - 1}`);
    })();
  } finally {
    db.close();
  }
}

const columns = (path: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return {
      version: db.pragma('user_version', { simple: true }),
      names: (db.prepare('PRAGMA table_info(containers)').all() as { name: string }[]).map((c) => c.name),
    };
  } finally {
    db.close();
  }
};

describe('migration to ContainerSpec rows', () => {
  it('has every later migration undoable here (this test downgrades to the one before it)', () => {
    expect(Object.keys(LATER).map(Number)).toEqual(migrations.map((_, i) => i + 1).filter((n) => n > SPEC_MIGRATION));
  });

  it('survives a kill -9 mid-migration, then migrates; an old container starts, stops and inspects the same', async () => {
    await ok([
      'create',
      '--name',
      'old',
      '-e',
      'A=1',
      '-l',
      'team=x',
      '-p',
      '127.0.0.1::80',
      '--cap-add',
      'net_admin',
      '--restart',
      'on-failure:2',
      '--memory',
      '64m',
      '--tmpfs',
      '/scratch:size=1m',
      '--dns',
      '1.1.1.1',
      '--log-opt',
      'max-size=1m',
      '--health-cmd',
      'true',
      '-w',
      '/tmp',
      'busybox',
      'sleep',
      '300',
    ]);
    const before = await inspect('old');
    const path = join(engine.root, 'berth.db');
    await engine.stop();
    downgrade(path);
    expect(columns(path)).toEqual({ version: SPEC_MIGRATION - 1, names: expect.arrayContaining(['config', 'host_config']) });

    // Killed after the rows are converted, before the transaction commits: nothing of it stays.
    await expect(engine.start([], { BERTH_CRASH_AT: `migrate:${SPEC_MIGRATION}` })).rejects.toThrow();
    expect(engine.process?.signalCode).toBe('SIGKILL');
    const cut = columns(path);
    expect(cut.version).toBe(SPEC_MIGRATION - 1);
    expect(cut.names).toEqual(expect.arrayContaining(['config', 'host_config']));
    expect(cut.names).not.toContain('spec');

    await engine.start();
    const migrated = columns(path);
    expect(migrated.version).toBe(migrations.length);
    expect(migrated.names).toEqual(expect.arrayContaining(['spec', 'echo']));
    expect(migrated.names).not.toContain('config');
    expect(migrated.names).not.toContain('host_config');
    expect(await inspect('old')).toEqual(before);

    await ok(['start', 'old']);
    const running = await inspect('old');
    expect(running.State.Running).toBe(true);
    expect(running.NetworkSettings.Ports['80/tcp'][0].HostIp).toBe('127.0.0.1');
    expect(await ok(['exec', 'old', 'sh', '-c', 'echo $A; pwd; grep nameserver /etc/resolv.conf; mount | grep -c /scratch'])).toBe(
      '1\n/tmp\nnameserver 1.1.1.1\n1',
    );
    await ok(['stop', '-t', '1', 'old']);
    const after = await inspect('old');
    expect(after.State.Status).toBe('exited');
    const stable = (i: typeof before) => ({ ...i, State: undefined, NetworkSettings: undefined });
    expect(stable(after)).toEqual(stable(before));
    await ok(['rm', 'old']);
  }, 120_000);
});
