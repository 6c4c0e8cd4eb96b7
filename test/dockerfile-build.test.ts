// docker build (the classic builder the CLI uses without buildx) against berth, through the real docker
// CLI: the course notes' Containerfile, multi-stage builds, build args, targets, .dockerignore, ADD of
// archives and URLs, the layer cache, failures, context escapes, a cancelled build — and that nothing
// (containers, mounts) is left behind. History lines are the ones dockerd 20.10's builder writes.
import { afterAll, describe, expect, inject, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TEST_BASE, run } from './helpers/engine.js';
import { cliOf } from './helpers/cli.js';
import { suiteEngine } from './helpers/suite.js';
import { TestRegistry } from './helpers/registry.js';

const images = inject('images');
const engine = suiteEngine({ load: [images.busybox.archive] });
const { docker, ok, env } = cliOf(() => engine);

/** Every directory the tests made, removed at the end even when a test failed halfway. */
const made: string[] = [];
afterAll(async () => {
  for (const dir of made) await rm(dir, { recursive: true, force: true });
});

type File = string | { data: string; mode?: number } | { symlink: string } | { dir: true; mode?: number };

/** A build context directory with these files (modes set explicitly: the checksums depend on them). */
async function context(files: Record<string, File>): Promise<string> {
  const dir = await mkdtemp(join(TEST_BASE, 'berth-ctx-'));
  made.push(dir);
  for (const [path, spec] of Object.entries(files)) {
    const full = join(dir, path);
    await mkdir(join(full, '..'), { recursive: true });
    if (typeof spec === 'string') {
      await writeFile(full, spec);
      await chmod(full, 0o644);
    } else if ('symlink' in spec) await symlink(spec.symlink, full);
    else if ('dir' in spec) {
      await mkdir(full, { recursive: true });
      await chmod(full, spec.mode ?? 0o755);
    } else {
      await writeFile(full, spec.data);
      await chmod(full, spec.mode ?? 0o644);
    }
  }
  return dir;
}

const build = (dir: string, args: string[] = []) => docker(['build', ...args, dir]);
const history = async (image: string) => (await ok(['history', '--no-trunc', '--format', '{{.CreatedBy}}', image])).trim().split('\n');
const inspect = async (image: string, format: string) => JSON.parse(await ok(['image', 'inspect', '--format', `{{json ${format}}}`, image]));
const stepsUsingCache = (out: string) => out.split('\n').filter((l) => l === ' ---> Using cache').length;

/** A `docker build` in the background, once its RUN step has printed `started`. */
async function buildUntilStarted(dir: string, args: string[] = []) {
  const cli = spawn('docker', ['build', ...args, dir], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    cli.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('started\n')) resolve();
    });
    cli.on('exit', () => reject(new Error(`docker build ended early: ${out}`)));
  });
  return cli;
}

/** Nothing of a build is left: no container, no mount under the engine's directory. */
async function nothingLeft(): Promise<void> {
  expect((await ok(['ps', '-aq'])).trim()).toBe('');
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m?.startsWith(engine.dir));
  expect(mounts).toEqual([]);
}

describe('docker build', () => {
  it("builds the course notes' Containerfile, and its image runs as expected", async () => {
    const dir = await context({
      'app.sh': { data: '#!/bin/sh\necho "$GREETING, $1"\nid -u\npwd\ncat built.txt site/index.html notes.txt\n', mode: 0o755 },
      'notes.txt': 'notes\n',
      'site/index.html': '<h1>site</h1>\n',
      Containerfile: [
        'FROM busybox',
        'LABEL org.example.course="containers" version="1.0"',
        'MAINTAINER Student <student@example.com>',
        'RUN mkdir -p /opt/app && echo "built at build time" > /opt/app/built.txt',
        'EXPOSE 8080 9090/udp',
        'ENV APP_HOME=/opt/app GREETING="hello from the image"',
        'ADD site.tar.gz $APP_HOME/',
        'ADD notes.txt ${APP_HOME}/',
        'COPY --chown=nobody:nobody app.sh $APP_HOME/app.sh',
        'USER nobody',
        'WORKDIR $APP_HOME',
        'ENTRYPOINT ["/opt/app/app.sh"]',
        'CMD ["world"]',
      ].join('\n'),
    });
    await run('tar', ['-czf', join(dir, 'site.tar.gz'), '-C', dir, 'site']);
    await rm(join(dir, 'site'), { recursive: true });
    const res = await build(dir, ['-f', join(dir, 'Containerfile'), '-t', 'course:1']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('Step 1/13 : FROM busybox');
    expect(res.stdout).toContain('Step 13/13 : CMD ["world"]');
    expect(res.stdout).toMatch(/ ---> Running in [0-9a-f]{12}\n/);
    expect(res.stdout).toMatch(/Removing intermediate container [0-9a-f]{12}\n/);
    expect(res.stdout).toMatch(/Successfully built [0-9a-f]{12}\nSuccessfully tagged course:1\n$/);
    expect(await ok(['run', '--rm', 'course:1'])).toBe('hello from the image, world\n65534\n/opt/app\nbuilt at build time\n<h1>site</h1>\nnotes\n');
    expect(await ok(['run', '--rm', 'course:1', 'students'])).toMatch(/^hello from the image, students\n/);
    const config = await inspect('course:1', '.Config');
    expect(config).toMatchObject({
      User: 'nobody',
      WorkingDir: '/opt/app',
      Entrypoint: ['/opt/app/app.sh'],
      Cmd: ['world'],
      ExposedPorts: { '8080/tcp': {}, '9090/udp': {} },
      Labels: { 'org.example.course': 'containers', version: '1.0' },
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'APP_HOME=/opt/app', 'GREETING=hello from the image'],
    });
    expect(await inspect('course:1', '.Author')).toBe('Student <student@example.com>');
    expect(await ok(['run', '--rm', '--entrypoint', 'stat', 'course:1', '-c', '%U %a', '/opt/app/app.sh'])).toBe('nobody 755\n');
    const lines = await history('course:1');
    expect(lines[0]).toBe('/bin/sh -c #(nop)  CMD ["world"]');
    expect(lines[1]).toBe('/bin/sh -c #(nop)  ENTRYPOINT ["/opt/app/app.sh"]');
    expect(lines[2]).toBe('/bin/sh -c #(nop) WORKDIR /opt/app');
    expect(lines[7]).toBe('/bin/sh -c #(nop)  ENV APP_HOME=/opt/app GREETING=hello from the image');
    expect(lines[8]).toBe('/bin/sh -c #(nop)  EXPOSE 8080 9090/udp');
    expect(lines[9]).toBe('/bin/sh -c mkdir -p /opt/app && echo "built at build time" > /opt/app/built.txt');
    expect(lines[11]).toBe('/bin/sh -c #(nop)  LABEL org.example.course=containers version=1.0');
    await nothingLeft();
    await rm(dir, { recursive: true });
  });

  it('writes the history and checksums dockerd writes', async () => {
    // dockerd 20.10's classic builder gives exactly these lines for this context sent by the docker CLI.
    const dir = await context({
      'a.txt': 'hello\n',
      'dir/sub/x.txt': 'x\n',
      'dir/y.txt': 'y\n',
      'dir/sub': { dir: true },
      dir: { dir: true },
      Dockerfile:
        'FROM busybox\nADD a.txt /add/\nCOPY dir /copied\nCOPY --chown=1000:1000 a.txt /chowned.txt\nHEALTHCHECK --interval=30s --retries=3 CMD wget -q localhost || exit 1\nSHELL ["/bin/sh", "-c"]\nVOLUME /data\n',
    });
    expect((await build(dir, ['-t', 'golden'])).code).toBe(0);
    expect((await history('golden')).slice(0, 6)).toEqual([
      '/bin/sh -c #(nop)  VOLUME [/data]',
      '/bin/sh -c #(nop)  SHELL [/bin/sh -c]',
      `/bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL" "wget -q localhost || exit 1"] "30s" "0s" "0s" '\\x03'}`,
      '/bin/sh -c #(nop) COPY --chown=1000:1000file:00ec16333078d287782d462baefc8bb9eb0231dc3aefba3ca3e2f7e5cf0cadda in /chowned.txt ',
      '/bin/sh -c #(nop) COPY dir:5748ff1873e8e8c019ac9933ecd772c1740810aa56f8a0ac3653f516c6c8f326 in /copied ',
      '/bin/sh -c #(nop) ADD file:00ec16333078d287782d462baefc8bb9eb0231dc3aefba3ca3e2f7e5cf0cadda in /add/ ',
    ]);
    expect(await inspect('golden', '.Config.Healthcheck')).toEqual({ Test: ['CMD-SHELL', 'wget -q localhost || exit 1'], Interval: 30e9, Retries: 3 });
    expect(await ok(['run', '--rm', 'golden', 'sh', '-c', 'cat /add/a.txt /copied/y.txt /copied/sub/x.txt; stat -c "%u:%g" /chowned.txt'])).toBe(
      'hello\ny\nx\n1000:1000\n',
    );
    await rm(dir, { recursive: true });
  });

  it('copies an artifact from a builder stage; --target stops at a stage', async () => {
    const dir = await context({
      Dockerfile: [
        'ARG BASE=busybox',
        'FROM $BASE AS builder',
        'RUN mkdir /out && echo artifact > /out/app.bin',
        'FROM busybox',
        'COPY --from=builder /out/app.bin /usr/local/bin/',
        'RUN echo final stage',
        'CMD ["cat", "/usr/local/bin/app.bin"]',
      ].join('\n'),
    });
    const res = await build(dir, ['-t', 'multi']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('Step 1/7 : ARG BASE=busybox\nStep 2/7 : FROM $BASE AS builder\n');
    expect(await ok(['run', '--rm', 'multi'])).toBe('artifact\n');
    expect((await docker(['run', '--rm', 'multi', 'ls', '/out'])).code).not.toBe(0); // only the artifact came over
    const target = await build(dir, ['--target', 'builder', '-t', 'multi-builder']);
    expect(target.code, target.stderr).toBe(0);
    expect(target.stdout).toContain('Step 3/3 : RUN mkdir');
    expect(target.stdout).not.toContain('final stage');
    expect(await ok(['run', '--rm', 'multi-builder', 'cat', '/out/app.bin'])).toBe('artifact\n');
    expect((await build(dir, ['--target', 'nope'])).stderr).toContain('failed to reach build target nope in Dockerfile');
    await rm(dir, { recursive: true });
  });

  it('takes --build-arg, -f, -t a -t b, --no-cache and --label', async () => {
    const dir = await context({ 'build/Dockerfile.dev': 'FROM busybox\nARG VERSION=1\nARG UNSET\nRUN echo "v=$VERSION u=${UNSET:-none}" > /v\n' });
    const res = await build(dir, [
      '-f',
      join(dir, 'build/Dockerfile.dev'),
      '--build-arg',
      'VERSION=2',
      '--build-arg',
      'EXTRA=1',
      '-t',
      'args:a',
      '-t',
      'args:b',
      '--label',
      'team=infra',
    ]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('[Warning] One or more build-args [EXTRA] were not consumed');
    expect(res.stdout).toContain('Successfully tagged args:a\nSuccessfully tagged args:b\n');
    expect(await ok(['run', '--rm', 'args:b', 'cat', '/v'])).toBe('v=2 u=none\n');
    expect(await ok(['image', 'inspect', '--format', '{{.Id}}', 'args:a'])).toBe(await ok(['image', 'inspect', '--format', '{{.Id}}', 'args:b']));
    expect((await history('args:a')).slice(0, 2)).toEqual([
      '/bin/sh -c #(nop)  LABEL team=infra',
      '|1 VERSION=2 /bin/sh -c echo "v=$VERSION u=${UNSET:-none}" > /v',
    ]);
    const again = await build(dir, ['-f', join(dir, 'build/Dockerfile.dev'), '--build-arg', 'VERSION=2', '--no-cache']);
    expect(again.code).toBe(0);
    expect(stepsUsingCache(again.stdout)).toBe(0);
    await rm(dir, { recursive: true });
  });

  it('leaves out what .dockerignore excludes, keeping its exceptions', async () => {
    const dir = await context({
      '.dockerignore': '# build junk\n*.log\nnode_modules\ndocs\n!docs/keep.md\nsecret?.txt\n',
      'app.js': 'app',
      'debug.log': 'x',
      'sub/inner.log': 'kept: only top-level *.log is excluded',
      'node_modules/m/index.js': 'x',
      'docs/a.md': 'x',
      'docs/keep.md': 'keep',
      'secret1.txt': 'x',
      Dockerfile: 'FROM busybox\nCOPY . /ctx\n',
    });
    expect((await build(dir, ['-t', 'ignored'])).code).toBe(0);
    const files = (await ok(['run', '--rm', 'ignored', 'find', '/ctx', '-type', 'f'])).trim().split('\n').sort();
    expect(files).toEqual(['/ctx/.dockerignore', '/ctx/Dockerfile', '/ctx/app.js', '/ctx/docs/keep.md', '/ctx/sub/inner.log']);
    await rm(dir, { recursive: true });
  });

  it('extracts local archives (gzip, bzip2, xz, plain) with ADD and downloads URLs', async () => {
    const dir = await context({ 'payload/p.txt': 'payload\n', Dockerfile: '' });
    for (const [flag, name] of [
      ['-czf', 'p.tar.gz'],
      ['-cjf', 'p.tar.bz2'],
      ['-cJf', 'p.tar.xz'],
      ['-cf', 'p.tar'],
    ] as const) {
      await run('tar', [flag, join(dir, name), '-C', join(dir, 'payload'), '.']);
    }
    const server = createServer((req, res) => {
      if (req.url === '/remote.txt') res.writeHead(200, { 'last-modified': 'Wed, 21 Oct 2015 07:28:00 GMT' }).end('remote\n');
      else res.writeHead(404).end('no');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      await writeFile(
        join(dir, 'Dockerfile'),
        `FROM busybox\nADD p.tar.gz /gz/\nADD p.tar.bz2 /bz2\nADD p.tar.xz /xz\nADD p.tar /plain/\nCOPY p.tar.gz /copied/\nADD ${url}/remote.txt /downloads/\n`,
      );
      const res = await build(dir, ['-t', 'archives']);
      expect(res.code, res.stderr).toBe(0);
      const out = await ok([
        'run',
        '--rm',
        'archives',
        'sh',
        '-c',
        'cat /gz/p.txt /bz2/p.txt /xz/p.txt /plain/p.txt; ls /copied; cat /downloads/remote.txt; stat -c "%a %Y" /downloads/remote.txt',
      ]);
      expect(out).toBe('payload\npayload\npayload\npayload\np.tar.gz\nremote\n600 1445412480\n');
      expect((await history('archives'))[0]).toMatch(/^\/bin\/sh -c #\(nop\) ADD [0-9a-f]{64} in \/downloads\/ $/);
      await writeFile(join(dir, 'Dockerfile'), `FROM busybox\nADD ${url}/missing.txt /x\n`);
      const missing = await build(dir);
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toContain('with status 404');
    } finally {
      server.close();
      await rm(dir, { recursive: true });
    }
  });

  it('fails a failing step with its exit code and message, leaving its container unless --force-rm, as dockerd', async () => {
    const dir = await context({ Dockerfile: 'FROM busybox\nRUN echo before && echo on stderr >&2 && false\nRUN echo never\n' });
    const res = await build(dir);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('before\n');
    expect(res.stdout).not.toContain('never');
    expect(res.stderr).toContain("The command '/bin/sh -c echo before && echo on stderr >&2 && false' returned a non-zero code: 1");
    await writeFile(join(dir, 'Dockerfile'), 'FROM busybox\nRUN ["sh", "-c", "exit 3"]\n');
    const three = await build(dir);
    expect(three.code).toBe(3);
    expect(three.stderr).toContain("The command 'sh -c exit 3' returned a non-zero code: 3");
    // dockerd keeps a failed step's container with --rm (the default): one per failed build here.
    const kept = (await ok(['ps', '-aq', '--filter', 'status=exited'])).trim().split('\n').filter(Boolean);
    expect(kept).toHaveLength(2);
    await ok(['rm', ...kept]);
    const forced = await build(dir, ['--force-rm']);
    expect(forced.code).toBe(3);
    await nothingLeft();
    await rm(dir, { recursive: true });
  });

  it('refuses sources outside the context, and bad Dockerfiles with their line', async () => {
    const outside = await mkdtemp(join(TEST_BASE, 'berth-outside-'));
    made.push(outside);
    await writeFile(join(outside, 'secret'), 'secret');
    const dir = await context({ a: 'a', b: 'b', link: { symlink: join(outside, 'secret') }, up: { symlink: '../..' }, Dockerfile: '' });
    for (const [line, message] of [
      ['COPY ../secret /', 'COPY failed: forbidden path outside the build context: ../secret'],
      ['COPY link /x', 'COPY failed: forbidden path outside the build context: link (link -> '],
      ['ADD up/etc/passwd /x', 'ADD failed: forbidden path outside the build context: up/etc/passwd (up -> ../..)'],
      ['COPY /etc/passwd /x', 'file not found in build context or excluded by .dockerignore: stat etc/passwd'],
      ['COPY a b /dst', 'When using COPY with more than one source file, the destination must be a directory and end with a /'],
      ['FOO bar', 'dockerfile parse error line 2: unknown instruction: FOO'],
    ]) {
      await writeFile(join(dir, 'Dockerfile'), `FROM busybox\n${line}\n`);
      const res = await build(dir);
      expect(res.code, line).not.toBe(0);
      expect(res.stderr, line).toContain(message);
    }
    await nothingLeft();
    await rm(dir, { recursive: true });
    await rm(outside, { recursive: true });
  });

  it('rebuilds an unchanged context from the cache, fast, and rebuilds from a changed file on', async () => {
    const dir = await context({
      'a.txt': 'a',
      'b.txt': 'b',
      Dockerfile: [
        'FROM busybox',
        'ENV A=1',
        'RUN echo one > /one',
        'COPY a.txt /a.txt',
        'RUN echo two > /two',
        'LABEL l=1',
        'COPY b.txt /b.txt',
        'WORKDIR /w',
        'RUN echo three > /three',
        'CMD ["cat", "/b.txt"]',
      ].join('\n'),
    });
    const first = await build(dir, ['-t', 'cached']);
    expect(first.code, first.stderr).toBe(0);
    expect(stepsUsingCache(first.stdout)).toBe(0);
    const start = Date.now();
    const second = await build(dir, ['-t', 'cached']);
    const ms = Date.now() - start;
    expect(second.code).toBe(0);
    expect(stepsUsingCache(second.stdout)).toBe(9);
    expect(second.stdout).not.toContain('Running in');
    expect(ms).toBeLessThan(2000);
    expect(second.stdout.match(/Successfully built (\w+)/)![1]).toBe(first.stdout.match(/Successfully built (\w+)/)![1]);
    await writeFile(join(dir, 'b.txt'), 'changed');
    const third = await build(dir, ['-t', 'cached']);
    expect(stepsUsingCache(third.stdout)).toBe(5); // ENV, RUN, COPY a, RUN, LABEL; COPY b.txt and after are built
    expect(await ok(['run', '--rm', 'cached'])).toBe('changed');
    await rm(dir, { recursive: true });
  });

  it('pulls a base image that is not here; -q prints only the image ID', async () => {
    const registry = await TestRegistry.start();
    try {
      await registry.pushArchive(images.busybox.archive, 'base/busybox:1');
      const dir = await context({ Dockerfile: `FROM ${registry.host}/base/busybox:1\nRUN echo pulled > /p\n` });
      const res = await build(dir, ['-t', 'from-pull']);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toContain('Pulling from base/busybox');
      expect(await ok(['run', '--rm', 'from-pull', 'cat', '/p'])).toBe('pulled\n');
      const quiet = await build(dir, ['-q']);
      expect(quiet.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
      await rm(dir, { recursive: true });
    } finally {
      await registry.stop();
    }
  });

  it('cancels the build when the client goes away, leaving nothing behind', async () => {
    const dir = await context({ Dockerfile: 'FROM busybox\nRUN echo started && sleep 60\n' });
    const cli = await buildUntilStarted(dir);
    cli.kill('SIGKILL');
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && (await ok(['ps', '-aq'])).trim() !== '') await new Promise((r) => setTimeout(r, 100));
    await nothingLeft();
    const prune = await ok(['builder', 'prune', '-f']);
    expect(prune).toMatch(/Total reclaimed space/);
    await rm(dir, { recursive: true });
  });

  it('leaves nothing of a build the engine was killed in (kill -9) once it is back', async () => {
    const dir = await context({ Dockerfile: 'FROM busybox AS a\nRUN echo a > /a\nFROM busybox\nCOPY --from=a /a /a\nRUN echo started && sleep 60\n' });
    const cli = await buildUntilStarted(dir, ['--no-cache']);
    await engine.stop('SIGKILL');
    cli.kill('SIGKILL');
    await engine.start();
    await nothingLeft();
    expect(await ok(['run', '--rm', 'busybox', 'true'])).toBe('');
    await rm(dir, { recursive: true });
  });
});
