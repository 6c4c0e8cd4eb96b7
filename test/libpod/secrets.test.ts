// podman --remote secret commands against berth, beside Podman's own service: the same output and exit
// codes; the data kept under the engine's root, readable by root only.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestEngine, run } from '../helpers/engine.js';
import { PODMAN, PodmanService, podmanClient, type PodmanClient } from '../helpers/podman.js';

let engine: TestEngine;
let berth: PodmanClient;
let oracle: PodmanService;

beforeAll(async () => {
  [engine, oracle] = await Promise.all([TestEngine.start(), PodmanService.start({ subnet: '10.231.6.0/24' })]);
  berth = await podmanClient(engine.socket, engine.dir);
});
afterAll(async () => {
  await Promise.all([engine?.destroy(), oracle?.stop()]);
});

/** The same command against both: berth's stdout, stderr and exit code must be podman's (IDs aside). */
/** podman with `printf <text> |` as its stdin. */
const piped = (client: PodmanClient, text: string, args: string[]) =>
  run('sh', ['-c', `printf '%s\\n' "$0" | "$@"`, text, PODMAN, ...client.argv, ...args], { env: client.env });

async function same(args: string[], input?: string) {
  const clean = (s: string) => s.replace(/\b[0-9a-f]{25}\b/g, '<id>');
  const [ours, theirs] = await Promise.all([berth.podman(args, { input }), oracle.podman(args, { input })]);
  expect({ code: ours.code, stdout: clean(ours.stdout), stderr: clean(ours.stderr) }, args.join(' ')).toEqual({
    code: theirs.code,
    stdout: clean(theirs.stdout),
    stderr: clean(theirs.stderr),
  });
  return ours;
}

describe('podman --remote secret', () => {
  it('creates from stdin and from a file, lists, inspects, removes', async () => {
    // From stdin: the client wants a pipe (a socket, as Node's stdio gives, it refuses).
    const [made, theirs] = await Promise.all([berth, oracle.client].map((c) => piped(c, 'hello', ['secret', 'create', 'ps1', '-'])));
    expect(made).toMatchObject({ code: 0, stderr: '' });
    expect(theirs).toMatchObject({ code: 0, stderr: '' });
    const id = made.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{25}$/);
    await same(['secret', 'create', '--label', 'k=v', 'ps2', '/etc/hostname']);
    await same(['secret', 'create', 'ps1', '/etc/hostname']);
    await same(['secret', 'ls', '--format', '{{.Name}} {{.Driver}}', '--filter', 'name=ps1']);
    await same(['secret', 'ls', '--filter', 'name=ps2', '--format', '{{.Name}}']);
    await same(['secret', 'inspect', '--format', '{{.Spec.Name}} {{.Spec.Driver.Name}} {{.Spec.Labels}}', 'ps2']);
    // By ID and by a prefix of it.
    expect(await berth.ok(['secret', 'inspect', '--format', '{{.Spec.Name}}', id, id.slice(0, 8)])).toBe('ps1\nps1\n');
    const [ours] = JSON.parse(await berth.ok(['secret', 'inspect', 'ps1']));
    expect(ours).toMatchObject({
      ID: id,
      Spec: { Name: 'ps1', Driver: { Name: 'file', Options: { path: join(engine.dir, 'root', 'secrets', 'filedriver') } } },
    });
    expect(Date.parse(ours.CreatedAt)).toBeGreaterThan(0);
    // The data: one file per secret, 0600, in a 0700 directory; the DB holds no data.
    const dir = ours.Spec.Driver.Options.path;
    expect(await readFile(join(dir, id), 'utf8')).toBe('hello\n');
    expect((await stat(join(dir, id))).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    await same(['secret', 'inspect', 'nope']);
    await same(['secret', 'rm', 'nope']);
    await same(['secret', 'rm', 'ps1'], undefined);
    expect(await readdir(dir)).toHaveLength(1);
    await same(['secret', 'rm', '-a']);
    await same(['secret', 'ls', '--format', '{{.Name}}']);
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses an empty secret and a name with a slash', async () => {
    expect(await run('sh', ['-c', ': | "$@"', 'sh', PODMAN, ...berth.argv, 'secret', 'create', 'pse', '-'], { env: berth.env })).toMatchObject({ code: 125 });
    const slash = await berth.podman(['secret', 'create', 'a/b', '/etc/hostname']);
    expect(slash.code).toBe(125);
    expect((await berth.podman(['secret', 'ls', '-q'])).stdout).toBe('');
  });

  it('keeps secrets in the state DB across a restart', async () => {
    const id = (await berth.ok(['secret', 'create', 'pkeep', '/etc/hostname'])).trim();
    await engine.stop();
    const db = new Database(join(engine.dir, 'root', 'berth.db'), { readonly: true });
    try {
      expect(db.prepare('SELECT name FROM secrets WHERE id = ?').get(id)).toEqual({ name: 'pkeep' });
    } finally {
      db.close();
    }
    await engine.start();
    expect((await berth.ok(['secret', 'inspect', '--format', '{{.ID}}', 'pkeep'])).trim()).toBe(id);
    await berth.ok(['secret', 'rm', 'pkeep']);
  });
});
