// podman --remote secret commands against berth, beside Podman's own service: the same output and exit
// codes; the data kept under the engine's root, readable by root only.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TestEngine, run } from '../helpers/engine.js';
import { PODMAN, PodmanService, sideBySide, type PodmanClient } from '../helpers/podman.js';

let engine: TestEngine;
let berth: PodmanClient;
let oracle: PodmanService;
const images = inject('images');

beforeAll(async () => {
  ({ engine, berth, oracle } = await sideBySide({ subnet: '10.231.6.0/24' }));
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
    await same(['secret', 'create', '--driver', 'foo', 'psx', '/etc/hostname']);
    await same(['secret', 'create', 'a/b', '/etc/hostname']);
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

describe("a container's secrets", () => {
  const docker = async (args: string[]) => {
    const r = await engine.docker(args);
    expect(r.code, `docker ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };
  const show = ['sh', '-c', 'stat -c "%a %u %g %n" /run/secrets/* /etc/app.key; cat /run/secrets/pcs /etc/app.key; echo "[$SEC]"'];

  it('mounts each read-only at /run/secrets/<target> with its mode and owner, and sets env ones at start only', async () => {
    await docker(['load', '-i', images.busybox.archive]);
    const id = (await berth.ok(['secret', 'create', 'pcs', '/etc/hostname'])).trim();
    const hostname = await readFile('/etc/hostname', 'utf8');
    // Until libpod's create is wired, the spec's secrets go into a Docker-made container's record (the engine stopped).
    await docker(['create', '--name', 'withsecrets', '-e', 'SEC=plain', 'busybox', 'sleep', '1000']);
    await engine.stop();
    const db = new Database(join(engine.dir, 'root', 'berth.db'));
    try {
      const row = db.prepare("SELECT spec FROM containers WHERE name = 'withsecrets'").get() as { spec: string };
      const spec = JSON.parse(row.spec);
      spec.secrets = [
        { id, name: 'pcs', type: 'mount', target: 'pcs', uid: 0, gid: 0, mode: 0o444 },
        { id, name: 'pcs', type: 'mount', target: '/etc/app.key', uid: 1000, gid: 1001, mode: 0o400 },
        { id, name: 'pcs', type: 'env', target: 'SEC' },
      ];
      db.prepare("UPDATE containers SET spec = ? WHERE name = 'withsecrets'").run(JSON.stringify(spec));
    } finally {
      db.close();
    }
    await engine.start();
    await docker(['start', 'withsecrets']);
    const out = await docker(['exec', 'withsecrets', ...show]);
    expect(out).toBe(`444 0 0 /run/secrets/pcs\n400 1000 1001 /etc/app.key\n${hostname}${hostname}[${hostname}]\n`);
    // Read-only, and the value is nowhere in the record the APIs show.
    expect((await engine.docker(['exec', 'withsecrets', 'sh', '-c', 'echo x > /run/secrets/pcs'])).code).not.toBe(0);
    // (The variable's value replaced the container's own SEC=plain in the process, not in the record.)
    expect(JSON.parse(await docker(['inspect', '-f', '{{json .Config.Env}}', 'withsecrets']))).toContain('SEC=plain');
    // A secret removed meanwhile: the running container keeps its copy, the next start fails.
    await berth.ok(['secret', 'rm', 'pcs']);
    expect(await docker(['exec', 'withsecrets', 'cat', '/run/secrets/pcs'])).toBe(hostname);
    await docker(['stop', '-t', '0', 'withsecrets']);
    const again = await engine.docker(['start', 'withsecrets']);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('secret pcs');
    await docker(['rm', '-f', 'withsecrets']);
  });

  it('through podman --remote run --secret, as podman does', async () => {
    await oracle.client.ok(['load', '-i', images.busybox.archive]);
    const run = [
      'run',
      '-d',
      '--name',
      'ps',
      '--secret',
      'pcs2',
      '--secret',
      // Another secret: podman mounts one secret's file twice from one copy, so the last mode wins for both.
      'pcs3,target=/etc/app.key,uid=1000,gid=1001,mode=0400',
      '--secret',
      'pcs2,type=env,target=SEC',
      'busybox',
      'sleep',
      '1000',
    ];
    for (const name of ['pcs2', 'pcs3'])
      await Promise.all([berth.ok(['secret', 'create', name, '/etc/hostname']), oracle.client.ok(['secret', 'create', name, '/etc/hostname'])]);
    await Promise.all([berth.ok(run), oracle.client.ok(run)]);
    const showPcs2 = ['exec', 'ps', 'sh', '-c', 'stat -c "%a %u %g %n" /run/secrets/* /etc/app.key; cat /run/secrets/pcs2; echo "[$SEC]"'];
    const [ours, theirs] = await Promise.all([berth.ok(showPcs2), oracle.client.ok(showPcs2)]);
    expect(ours).toBe(theirs);
    await Promise.all([berth.ok(['rm', '-f', '-t', '0', 'ps']), oracle.client.ok(['rm', '-f', '-t', '0', 'ps'])]);
  });
});
