// podman --remote pull, push, search, login/logout and build against berth, beside Podman's own service
// (the oracle) where the output is the point: the same registries (Debian's docker-registry, one open,
// one with htpasswd auth), the same image, the same lines and exit codes.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TEST_BASE, TestEngine, run } from '../helpers/engine.js';
import { PodmanService, podmanClient, type PodmanClient } from '../helpers/podman.js';
import { TestRegistry } from '../helpers/registry.js';

const images = inject('images');
let dir: string;
let open: TestRegistry;
let locked: TestRegistry;
let engine: TestEngine;
let searching: TestEngine;
let berth: PodmanClient;
let berthSearching: PodmanClient;
let oracle: PodmanService;

beforeAll(async () => {
  dir = await mkdtemp(join(TEST_BASE, 'berth-lp-transfer-'));
  const hash = (
    await run('python3', ['-c', 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))', 'secret'])
  ).stdout.trim();
  await writeFile(join(dir, 'htpasswd'), `alice:${hash}\n`);
  [open, locked] = await Promise.all([TestRegistry.start(), TestRegistry.start(`auth:\n  htpasswd: {realm: berth-basic, path: ${join(dir, 'htpasswd')}}`)]);
  await open.pushArchive(images.busybox.archive, 'lib/busybox:1');
  // A registries.conf of its own: a search registry that is down, then the open one; an alias to it.
  await writeFile(
    join(dir, 'registries.conf'),
    [
      `unqualified-search-registries = ["127.0.0.1:1", "${open.host}"]`,
      'short-name-mode = "enforcing"',
      '[aliases]',
      `"mybox" = "${open.host}/lib/busybox"`,
      '',
    ].join('\n'),
  );
  [engine, searching, oracle] = await Promise.all([
    TestEngine.start(),
    TestEngine.start(['--registries-conf', join(dir, 'registries.conf')]),
    PodmanService.start({ subnet: '10.231.5.0/24' }),
  ]);
  berth = await podmanClient(engine.socket, engine.dir);
  berthSearching = await podmanClient(searching.socket, searching.dir);
  expect((await engine.docker(['load', '-i', images.busybox.archive])).code).toBe(0);
  expect((await oracle.podman(['load', '-i', images.busybox.archive])).code).toBe(0);
}, 120_000);
afterAll(async () => {
  await Promise.all([engine?.destroy(), searching?.destroy(), oracle?.stop(), open?.stop(), locked?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Both clients run `args`; podman's own answer must be what berth answers. */
/**
 * podman copies a pull's or push's blobs at once and prints each as it starts, in whatever order that
 * is: a run of `Copying blob` lines is compared as a set.
 */
function blobsAsSet(text: string): string {
  const out: string[] = [];
  let run: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('Copying blob ')) {
      run.push(line);
      continue;
    }
    out.push(...run.sort(), line);
    run = [];
  }
  return [...out, ...run.sort()].join('\n');
}

async function same(args: string[], o: { stdout?: boolean } = {}) {
  const [ours, theirs] = await Promise.all([berth.podman(args), oracle.podman(args)]);
  expect(ours.code, `berth: ${ours.stderr}`).toBe(theirs.code);
  expect(blobsAsSet(ours.stderr)).toBe(blobsAsSet(theirs.stderr));
  if (o.stdout !== false) expect(ours.stdout).toBe(theirs.stdout);
  return ours;
}

describe('podman pull', () => {
  it('streams podman lines and prints the image ID', async () => {
    const out = await same(['pull', '--tls-verify=false', `${open.host}/lib/busybox:1`]);
    expect(out.stdout).toBe(`${images.busybox.id.replace('sha256:', '')}\n`);
    expect(out.stderr).toMatch(/^Trying to pull .*\.\.\.\nGetting image source signatures\nCopying blob sha256:/);
    expect((await engine.docker(['image', 'inspect', '-f', '{{.Id}}', `${open.host}/lib/busybox:1`])).stdout.trim()).toBe(images.busybox.id);
  });

  it('prints only the ID with -q, and answers a pull of a local image (policy=missing) with the ID alone', async () => {
    await same(['pull', '-q', '--tls-verify=false', `${open.host}/lib/busybox:1`]);
    const id = images.busybox.id.replace('sha256:', '');
    const res = await engine.http('POST', '/v4.3.1/libpod/images/pull?reference=busybox&policy=missing&quiet=false');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBeUndefined();
    expect(res.body.toString()).toBe(`{"images":["${id}"],"id":"${id}"}\n`);
  });

  it('pulls what a short name names locally from its own registry, as podman does (localhost: nothing there)', async () => {
    // A name without a registries.conf alias (Debian aliases busybox: its alias would be the first candidate).
    expect((await engine.docker(['tag', 'busybox', 'localhost/mylocal:latest'])).code).toBe(0);
    await oracle.client.ok(['tag', 'busybox', 'localhost/mylocal:latest']);
    const [ours, theirs] = await Promise.all([berth.podman(['pull', 'mylocal']), oracle.podman(['pull', 'mylocal'])]);
    expect(theirs.stderr.split('\n')[0]).toBe('Trying to pull localhost/mylocal:latest...');
    expect(ours.code).toBe(theirs.code);
    expect(ours.stderr.split('\n')[0]).toBe(theirs.stderr.split('\n')[0]);
    expect((await engine.docker(['rmi', 'localhost/mylocal:latest'])).code).toBe(0);
    await oracle.client.ok(['rmi', 'localhost/mylocal:latest']);
  });

  it('says what a registry lacks after the 200, and exits 125', async () => {
    await same(['pull', '--tls-verify=false', `${open.host}/lib/nosuch:1`]);
    await same(['pull', '--tls-verify=false', `${open.host}/lib/busybox@sha256:${'0'.repeat(64)}`]);
    await same(['pull', '--tls-verify=false', '127.0.0.1:1/x']);
  });

  it('refuses a short name without an alias when registries.conf has no search registries', async () => {
    await same(['pull', 'nosuchimage']);
  });

  it('resolves a short name through the aliases of registries.conf.d', async () => {
    const [ours, theirs] = await Promise.all([berth.podman(['pull', 'alpine']), oracle.podman(['pull', 'alpine'])]);
    expect(ours.code).toBe(125);
    expect(theirs.code).toBe(125);
    const head = (s: string) => s.split('\n').slice(0, 2).join('\n');
    expect(head(ours.stderr)).toBe(head(theirs.stderr));
  });

  it('tries each search registry in turn, and follows an alias to a registry', async () => {
    const out = await berthSearching.podman(['pull', '--tls-verify=false', 'lib/busybox:1']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toMatch(
      new RegExp(`^Trying to pull 127\\.0\\.0\\.1:1/lib/busybox:1\\.\\.\\.\nTrying to pull ${open.host.replace(/\./g, '\\.')}/lib/busybox:1\\.\\.\\.\n`),
    );
    // Gone again, so the alias has nothing local to name (a local image under the alias's name would be pulled by that name).
    expect((await searching.docker(['rmi', `${open.host}/lib/busybox:1`])).code).toBe(0);
    const alias = await berthSearching.podman(['pull', '--tls-verify=false', 'mybox:1']);
    expect(alias.code, alias.stderr).toBe(0);
    expect(alias.stderr).toContain(`Resolved "mybox" as an alias (${join(dir, 'registries.conf')})\nTrying to pull ${open.host}/lib/busybox:1...\n`);
  });
});

describe('podman push', () => {
  it('uploads with --tls-verify=false as podman does, and pulls back the same image', async () => {
    const ours = await berth.podman(['push', '--tls-verify=false', 'busybox', `${open.host}/berth/busybox:2`]);
    const theirs = await oracle.podman(['push', '--tls-verify=false', 'busybox', `${open.host}/oracle/busybox:2`]);
    expect(ours.code, ours.stderr).toBe(0);
    expect(blobsAsSet(ours.stderr)).toBe(blobsAsSet(theirs.stderr));
    const back = await oracle.podman(['pull', '--tls-verify=false', `${open.host}/berth/busybox:2`]);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toBe(`${images.busybox.id.replace('sha256:', '')}\n`);
  });

  it('refuses an image that is not here as podman does', async () => {
    await same(['push', '--tls-verify=false', 'nosuchlocal', `${open.host}/x/y:1`]);
  });

  it('sends --creds, and what podman login stored, in X-Registry-Auth', async () => {
    const dest = `${locked.host}/berth/busybox:1`;
    const denied = await berth.podman(['push', '--tls-verify=false', 'busybox', dest]);
    expect(denied.code).toBe(125);
    expect(denied.stderr).toMatch(/^Error: /m);
    const pushed = await berth.podman(['push', '--tls-verify=false', '--creds', 'alice:secret', 'busybox', dest]);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(await berth.ok(['login', '--tls-verify=false', '-u', 'alice', '-p', 'secret', locked.host])).toBe('Login Succeeded!\n');
    await engine.docker(['rmi', dest]);
    const pulled = await berth.podman(['pull', '--tls-verify=false', dest]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(await berth.ok(['logout', locked.host])).toBe(`Removed login credentials for ${locked.host}\n`);
    const again = await berth.podman(['pull', '--tls-verify=false', dest]);
    expect(again.code).toBe(125);
    expect(again.stderr).toContain(`Trying to pull ${dest}...\nError: initializing source docker://${dest}: `);
  });
});

describe('podman search', () => {
  it("lists a registry's catalog as podman does", async () => {
    await open.pushArchive(images.busybox.archive, 'other/thing:1');
    await same(['search', '--tls-verify=false', `${open.host}/busybox`]);
    await same(['search', '--tls-verify=false', `${open.host}/`], { stdout: false });
    await same(['search', 'busybox']);
    await same(['search', '--tls-verify=false', '--list-tags', `${open.host}/lib/busybox`]);
    await same(['search', '--tls-verify=false', '--filter', 'is-official=true', `${open.host}/busybox`]);
  });
});

/** Build output with IDs made comparable. */
const normalize = (s: string) => s.replace(/[0-9a-f]{64}/g, '<id>').replace(/--> [0-9a-f]{11}$/gm, '--> <short>');

describe('the Docker API beside it', () => {
  it('still refuses to squash, as dockerd outside experimental mode', async () => {
    const res = await engine.http('POST', '/v1.41/build?squash=1', Buffer.alloc(1024));
    expect(res.status).toBe(400);
    expect(res.json().message).toBe('squash is only supported with experimental mode');
  });
});

describe('podman build', () => {
  let ctx: string;
  beforeAll(async () => {
    ctx = await mkdtemp(join(dir, 'ctx-'));
  });

  async function build(containerfile: string, args: string[]) {
    await writeFile(join(ctx, 'Containerfile'), containerfile);
    const [ours, theirs] = await Promise.all([berth.podman(['build', ...args, ctx]), oracle.podman(['build', ...args, ctx])]);
    expect(ours.code, ours.stderr).toBe(theirs.code);
    expect(normalize(ours.stdout)).toBe(normalize(theirs.stdout));
    expect(ours.stderr).toBe(theirs.stderr);
    return ours;
  }

  it('prints the steps, COMMIT, the tag under localhost/ and the ID', async () => {
    const out = await build('FROM busybox\nRUN echo built > /built.txt\nENV A=1\nCMD ["cat", "/built.txt"]\n', ['-t', 'b1']);
    const id = out.stdout.trim().split('\n').at(-1)!;
    expect((await engine.docker(['run', '--rm', 'localhost/b1'])).stdout).toBe('built\n');
    expect((await engine.docker(['image', 'inspect', '-f', '{{.Id}}', 'localhost/b1:latest'])).stdout.trim()).toBe(`sha256:${id}`);
    // Again: from the cache, without a name.
    await build('FROM busybox\nRUN echo built > /built.txt\nENV A=1\nCMD ["cat", "/built.txt"]\n', []);
  });

  it('numbers the steps of each stage; without layers (and --squash) commits once, saying what it copies', async () => {
    const multi = 'FROM busybox AS a\nRUN echo a > /a\nFROM busybox\nCOPY --from=a /a /a\nCMD ["cat", "/a"]\n';
    await build(multi, ['-t', 'b2']);
    await build(multi, ['--layers=false', '-t', 'b2n']);
    await build(multi, ['--squash', '-t', 'b2s']);
  });

  it('passes build args and labels', async () => {
    await build('FROM busybox\nARG X=1\nRUN echo $X > /x\n', ['--build-arg', 'X=2', '--label', 'l=1', '--label', 'k=a b', '-t', 'b3']);
    expect((await engine.docker(['run', '--rm', 'localhost/b3', 'cat', '/x'])).stdout).toBe('2\n');
    expect((await engine.docker(['image', 'inspect', '-f', '{{.Config.Labels.l}}', 'localhost/b3'])).stdout.trim()).toBe('1');
  });

  it('squashes the layers a build adds into one over its base', async () => {
    await writeFile(
      join(ctx, 'Containerfile'),
      'FROM busybox\nRUN echo a > /a && echo gone > /gone\nRUN rm /gone /bin/true && echo b > /b\nCMD ["cat", "/a", "/b"]\n',
    );
    const out = await berth.podman(['build', '--squash', '-t', 'sq', ctx]);
    expect(out.code, out.stderr).toBe(0);
    expect(normalize(out.stdout)).toBe(
      'STEP 1/4: FROM busybox\nSTEP 2/4: RUN echo a > /a && echo gone > /gone\nSTEP 3/4: RUN rm /gone /bin/true && echo b > /b\nSTEP 4/4: CMD ["cat", "/a", "/b"]\nCOMMIT sq\nGetting image source signatures\n' +
        'Copying blob sha256:<id>\n'.repeat(3) +
        'Copying config sha256:<id>\nWriting manifest to image destination\nStoring signatures\n--> <short>\nSuccessfully tagged localhost/sq:latest\n<id>\n',
    );
    const layers = (name: string) => engine.docker(['image', 'inspect', '-f', '{{len .RootFS.Layers}}', name]).then((r) => Number(r.stdout.trim()));
    expect(await layers('localhost/sq')).toBe((await layers('busybox')) + 1);
    expect((await engine.docker(['run', '--rm', 'localhost/sq'])).stdout).toBe('a\nb\n');
    const gone = await engine.docker(['run', '--rm', 'localhost/sq', 'ls', '/gone', '/bin/true']);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('/gone: No such file or directory');
    expect(gone.stderr).toContain('/bin/true: No such file or directory');
  });

  it("exits with a failed RUN's code, and says which step", async () => {
    await build('FROM busybox\nRUN exit 3\n', ['-t', 'b5']);
    await build('FROM busybox\nRUN nosuchcmd\n', ['-t', 'b7']);
  });

  it('pulls a base image that is not here, saying so as podman does', async () => {
    await open.pushArchive(images.busybox.archive, 'base/busybox:1');
    await build(`FROM ${open.host}/base/busybox:1\nRUN echo hi\n`, ['--tls-verify=false', '-t', 'b9']);
  });

  it('refuses a base image the short-name rules cannot find', async () => {
    await build('FROM nosuchbase\nRUN exit 3\n', ['-t', 'b6']);
  });
});
