// Network names as dockerd 20.10 takes them: duplicates made without CheckDuplicate below API 1.44 (with a
// warning), refused with it or from 1.44; an ambiguous name refused where it is looked up; names with "/";
// the state DB migration that lets names repeat keeps endpoints and their foreign keys.
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TEST_BASE } from './helpers/engine.js';
import { GOLDEN } from './helpers/golden.js';
import { suiteEngine } from './helpers/suite.js';
import { dockerPy } from './helpers/docker-py.js';
import { openDatabase } from '../runtime/state/db.js';
import { migrations } from '../runtime/state/migrations.js';

const engine = suiteEngine({ load: [join(GOLDEN, 'dockerd-busybox.tar')] });

const python = (script: string) => dockerPy(engine.socket, script, { version: '1.41' });
const ids = async (name: string) =>
  (await engine.docker(['network', 'ls', '--no-trunc', '--format', '{{.ID}} {{.Name}}'])).stdout
    .trim()
    .split('\n')
    .map((l) => l.split(' '))
    .filter(([, n]) => n === name)
    .map(([id]) => id);

describe('duplicate network names', () => {
  // docker-py at 1.41, as it talks to dockerd 20.10 (berth's newest version would refuse duplicates).
  it('docker-py (no CheckDuplicate) makes a second network of a name, warned; the CLI refuses a third', async () => {
    const py = await python(["a = c.api.create_network('dupnet')", "b = c.api.create_network('dupnet')", 'print(json.dumps([a, b]))'].join('\n'));
    expect(py.stderr).toBe('');
    const [a, b] = JSON.parse(py.stdout) as { Id: string; Warning: string }[];
    expect(a!.Warning).toBe('');
    expect(b!.Warning).toBe(`Network with name dupnet (id : ${a!.Id}) already exists`);
    expect((await ids('dupnet')).sort()).toEqual([a!.Id, b!.Id].sort());

    // The CLI sends CheckDuplicate: true below 1.44; from 1.44 dockerd refuses duplicates regardless.
    for (const env of [{ DOCKER_API_VERSION: '1.41' }, {}]) {
      const cli = await engine.docker(['network', 'create', 'dupnet'], { env });
      expect(cli.code).toBe(1);
      expect(cli.stderr).toContain('network with name dupnet already exists');
    }
    const at144 = await engine.http('POST', '/v1.44/networks/create', { Name: 'dupnet' });
    expect(at144.status).toBe(409);
    expect(at144.json().message).toBe('network with name dupnet already exists');

    // An ambiguous name is refused by inspect and rm (dockerd words them differently); IDs still work.
    const inspect = await engine.docker(['network', 'inspect', 'dupnet']);
    expect(inspect.code).toBe(1);
    expect(inspect.stderr).toContain('2 matches found based on name: network dupnet is ambiguous');
    const raw = await engine.http('GET', '/v1.41/networks/dupnet');
    expect(raw.status).toBe(400);
    const rmByName = await engine.docker(['network', 'rm', 'dupnet'], { env: { DOCKER_API_VERSION: '1.41' } });
    expect(rmByName.code).toBe(1);
    expect(rmByName.stderr).toContain('network dupnet is ambiguous (2 matches found based on name)');
    const run = await engine.docker(['run', '--rm', '--network', 'dupnet', 'busybox', 'true']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('network dupnet is ambiguous');

    expect((await engine.docker(['network', 'rm', a!.Id])).code).toBe(0);
    // One left: the name resolves again, and a container runs on it.
    const out = await engine.docker(['run', '--rm', '--network', 'dupnet', 'busybox', 'sh', '-c', 'ip -4 -o addr show eth0 | wc -l']);
    expect(out.stderr).toBe('');
    expect(out.stdout.trim()).toBe('1');
    expect((await engine.docker(['network', 'rm', 'dupnet'])).code).toBe(0);
    expect(await ids('dupnet')).toEqual([]);
  }, 60_000);
});

describe('concurrent creates of one name', () => {
  it('with CheckDuplicate make exactly one network', async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, () => engine.http('POST', '/v1.41/networks/create', { Name: 'racenet', CheckDuplicate: true })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    expect(await ids('racenet')).toHaveLength(1);
    expect((await engine.docker(['network', 'rm', 'racenet'])).code).toBe(0);
  });
});

describe('network names with "/"', () => {
  it('creates, inspects, connects to and removes a network named a/b', async () => {
    const created = await engine.docker(['network', 'create', 'team/app']);
    expect(created.stderr).toBe('');
    const id = created.stdout.trim();
    try {
      const inspect = await engine.docker(['network', 'inspect', '-f', '{{.Name}} {{.Id}}', 'team/app']);
      expect(inspect.stdout.trim()).toBe(`team/app ${id}`);
      expect((await engine.docker(['create', '--name', 'slashy', 'busybox', 'sleep', '60'])).code).toBe(0);
      const connect = await engine.docker(['network', 'connect', 'team/app', 'slashy']);
      expect(connect.stderr).toBe('');
      expect((await engine.docker(['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'slashy'])).stdout).toContain('"team/app"');
      expect((await engine.docker(['start', 'slashy'])).stderr).toBe('');
      const addr = await engine.docker(['exec', 'slashy', 'sh', '-c', 'ip -4 -o addr | grep -c eth1']);
      expect(addr.stdout.trim()).toBe('1');
      const disconnect = await engine.docker(['network', 'disconnect', 'team/app', 'slashy']);
      expect(disconnect.stderr).toBe('');
    } finally {
      await engine.docker(['rm', '-f', 'slashy']);
      const rmed = await engine.docker(['network', 'rm', 'team/app']);
      expect(rmed.stderr).toBe('');
    }
    expect((await engine.http('GET', '/networks/team/app')).status).toBe(404);
  }, 60_000);
});

describe('state DB migration to repeatable network names', () => {
  it('rebuilds networks without UNIQUE, keeps endpoints and their foreign keys', async () => {
    const dir = await mkdtemp(join(TEST_BASE, 'berth-netnames-'));
    try {
      const path = join(dir, 'state.db');
      const old = new Database(path);
      // The DB as it was just before the rebuild (later migrations may follow it).
      const rebuild = migrations.findIndex((m) => m.includes('CREATE TABLE networks_new'));
      expect(rebuild).toBeGreaterThan(0);
      for (const m of migrations.slice(0, rebuild)) old.exec(m);
      old.pragma(`user_version = ${rebuild}`);
      old.pragma('foreign_keys = OFF'); // the fixture's endpoint needs no container row
      old
        .prepare(
          "INSERT INTO networks (id, name, driver, bridge, subnets, options, labels, created_at) VALUES ('n1', 'net', 'bridge', 'br', '[]', '{}', '{}', 'x')",
        )
        .run();
      old.prepare("INSERT INTO endpoints (container_id, network_id, position, aliases) VALUES ('c1', 'n1', 0, '[]')").run();
      expect(() =>
        old
          .prepare(
            "INSERT INTO networks (id, name, driver, bridge, subnets, options, labels, created_at) VALUES ('n2', 'net', 'bridge', 'br', '[]', '{}', '{}', 'x')",
          )
          .run(),
      ).toThrow(/UNIQUE/);
      old.close();

      const db = openDatabase(path);
      try {
        expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
        expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
        db.prepare(
          "INSERT INTO networks (id, name, driver, bridge, subnets, options, labels, created_at) VALUES ('n2', 'net', 'bridge', 'br', '[]', '{}', '{}', 'x')",
        ).run();
        expect(db.prepare("SELECT COUNT(*) AS n FROM networks WHERE name = 'net'").get()).toEqual({ n: 2 });
        expect(db.prepare('SELECT network_id FROM endpoints').all()).toEqual([{ network_id: 'n1' }]);
        // endpoints still reference the (rebuilt) networks table
        expect(() => db.prepare("DELETE FROM networks WHERE id = 'n1'").run()).toThrow(/FOREIGN KEY/);
      } finally {
        db.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
