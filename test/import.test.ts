// docker import through the real CLI: a tarball (a file, stdin, a URL; plain, gzip, bzip2 or xz) becomes
// an image of exactly one layer with dockerd's import config; untrusted tars never write outside the
// layer; compared field for field with a reference dockerd's import of the same tar.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import tar from 'tar-stream';
import { TEST_BASE, TestEngine, httpOn, run } from './helpers/engine.js';
import { ReferenceDockerd, haveDockerd } from './helpers/dockerd.js';
import { tarOf } from './helpers/archive.js';

const images = inject('images');
let engine: TestEngine;
let dir: string;
/** `docker export` of a busybox container: a whole rootfs as a plain tar. */
let rootfs: string;
let rootfsDiffId: string;

const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');
const nowSeconds = () => Math.floor(Date.now() / 1000);
const goArch = process.arch === 'x64' ? 'amd64' : process.arch;

const ok = async (args: string[], input?: Buffer) => {
  const res = await engine.docker(args, { input });
  expect(res.stderr, `docker ${args.join(' ')}`).toBe('');
  expect(res.code, `docker ${args.join(' ')}`).toBe(0);
  return res.stdout;
};
const inspect = async (name: string) => JSON.parse(await ok(['image', 'inspect', name]))[0];
/** What `docker import` prints: the new image's ID, alone on its line. */
const importedId = (stdout: string) => {
  expect(stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
  return stdout.trim();
};
const post = (path: string, body?: Buffer) => engine.http('POST', path, body, body ? { 'content-type': 'text/plain' } : {});
const imageCount = async () => (await ok(['images', '-aq'])).split('\n').filter(Boolean).length;

beforeAll(async () => {
  engine = await TestEngine.start();
  dir = await mkdtemp(join(TEST_BASE, 'berth-import-'));
  await ok(['load', '-i', images.busybox.archive]);
  await ok(['create', '--name', 'src', 'busybox']);
  rootfs = join(dir, 'rootfs.tar');
  await ok(['export', '-o', rootfs, 'src']);
  await ok(['rm', 'src']);
  rootfsDiffId = sha(await readFile(rootfs));
});
afterAll(async () => {
  await engine?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('docker import', () => {
  it('imports a file as a one-layer image that runs', async () => {
    const id = importedId(await ok(['import', rootfs, 'imported:file']));
    const image = await inspect('imported:file');
    expect(image.Id).toBe(id);
    expect(image.RepoTags).toEqual(['imported:file']);
    expect(image.Parent).toBe('');
    expect(image.Comment).toBe('Imported from -');
    expect(image.Architecture).toBe(goArch);
    expect(image.Os).toBe('linux');
    // One layer, and its diff ID is the digest of the tar as given (as dockerd computes it).
    expect(image.RootFS).toEqual({ Type: 'layers', Layers: [rootfsDiffId] });
    expect(image.Config.Cmd).toBeNull();
    expect(image.Config.Entrypoint).toBeNull();
    expect(image.Size).toBeGreaterThan(500_000);
    expect(await ok(['run', '--rm', 'imported:file', 'echo', 'hi'])).toBe('hi\n');
  });

  it('reads stdin with -, and puts -c and -m into the config', async () => {
    const id = importedId(
      await ok(['import', '-c', 'CMD ["/bin/echo", "from cmd"]', '-c', 'ENV GREETING=hello', '-c', 'WORKDIR /tmp', '-c', 'LABEL team=ships', '-m', 'a message', '-', 'imported:changes'], await readFile(rootfs)),
    );
    const image = await inspect('imported:changes');
    expect(image.Id).toBe(id);
    expect(image.Comment).toBe('a message');
    expect(image.Config.Cmd).toEqual(['/bin/echo', 'from cmd']);
    expect(image.Config.Env).toEqual(['GREETING=hello']);
    expect(image.Config.WorkingDir).toBe('/tmp');
    expect(image.Config.Labels).toEqual({ team: 'ships' });
    expect(await ok(['run', '--rm', 'imported:changes'])).toBe('from cmd\n');
    expect(await ok(['run', '--rm', 'imported:changes', 'sh', '-c', 'echo $GREETING; pwd'])).toBe('hello\n/tmp\n');
  });

  it('shows one history entry: no command, the comment', async () => {
    await ok(['import', '-m', 'one entry', rootfs, 'imported:history']);
    const lines = (await ok(['history', '--no-trunc', '--format', '{{json .}}', 'imported:history'])).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ ID: (await inspect('imported:history')).Id, CreatedBy: '', Comment: 'one entry' });
  });

  it('decompresses gzip, bzip2 and xz tarballs to the same layer', async () => {
    for (const [tool, ext] of [['gzip', 'gz'], ['bzip2', 'bz2'], ['xz', 'xz']] as const) {
      expect((await run(tool, ['-k', '-f', rootfs])).code).toBe(0);
      const file = `${rootfs}.${ext}`;
      expect((await stat(file)).size).toBeLessThan((await stat(rootfs)).size);
      await ok(['import', file, `imported:${tool}`]);
      expect((await inspect(`imported:${tool}`)).RootFS.Layers, tool).toEqual([rootfsDiffId]);
      expect(await ok(['run', '--rm', `imported:${tool}`, 'echo', tool])).toBe(`${tool}\n`);
    }
    // The same uncompressed tar is the same layer: stored once.
    expect((await readdir(join(engine.root, 'layers'))).filter((l) => l === rootfsDiffId.slice(7))).toHaveLength(1);
  });

  it("answers with dockerd's JSON-message stream, ending with the ID", async () => {
    const res = await post('/v1.50/images/create?fromSrc=-&repo=imported&tag=raw', await tarOf([{ name: 'hello.txt', content: 'hello\n' }]));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    const text = res.body.toString();
    expect(text).toMatch(/^\{"status":"sha256:[0-9a-f]{64}"\}\r\n$/);
    expect((await inspect('imported:raw')).Id).toBe(JSON.parse(text).status);
  });

  it('applies a platform, and refuses other operating systems', async () => {
    await ok(['import', '--platform', 'linux/arm64', rootfs, 'imported:arm64']);
    const image = await inspect('imported:arm64');
    expect([image.Os, image.Architecture]).toEqual(['linux', 'arm64']);
    const res = await post('/images/create?fromSrc=-&platform=windows/amd64', await readFile(rootfs));
    expect(res.status).toBe(400);
    expect(res.json().message).toBe('operating system is not supported');
  });

  it('records a tag and an import event, as dockerd', async () => {
    const since = nowSeconds() - 1;
    const id = importedId(await ok(['import', '-c', 'LABEL kind=event', rootfs, 'imported:events']));
    const out = await ok(['events', '--since', String(since), '--until', String(nowSeconds() + 1), '--filter', 'type=image', '--format', '{{json .}}']);
    const events = out.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.Actor.ID === id);
    expect(events.map((e) => [e.Action, e.Actor.Attributes])).toEqual([
      ['tag', { kind: 'event', name: 'imported:events' }],
      ['import', { kind: 'event', name: id }],
    ]);
  });
});

describe('refusals', () => {
  it('refuses bad changes, references and platforms with 400 before reading the tarball', async () => {
    const before = await imageCount();
    const body = await readFile(rootfs);
    for (const [query, message] of [
      ['changes=FROM%20busybox', /^FROM is not a valid change command$/i],
      ['changes=RUN%20true', /^RUN is not a valid change command$/i],
      ['repo=Imported', /must be lowercase/],
      [`repo=imported@sha256:${'a'.repeat(64)}`, /^cannot import digest reference$/],
      ['repo=imported&tag=bad:tag', /^invalid tag format$/],
      ['platform=linux/amd64/v1/extra', /invalid argument/],
    ] as const) {
      const res = await post(`/images/create?fromSrc=-&${query}`, body);
      expect(res.status, query).toBe(400);
      expect(res.headers['content-type']).toBe('application/json');
      expect(res.json().message, query).toMatch(message);
    }
    const cli = await engine.docker(['import', '-c', 'RUN true', rootfs]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/Error response from daemon: RUN is not a valid change command/i);
    expect(await imageCount()).toBe(before);
  });

  it('refuses a tar that escapes the layer and writes nothing outside it', async () => {
    const sentinel = join(dir, 'sentinel');
    await mkdir(sentinel);
    const climb = '../'.repeat(20) + sentinel.slice(1);
    const before = await imageCount();
    const layersBefore = (await readdir(join(engine.root, 'layers'))).sort();
    const cases = {
      'parent-directory path': [{ name: 'ok.txt', content: 'ok' }, { name: `${climb}/evil.txt`, content: 'x' }],
      'absolute symlink then a write through it': [{ name: 'escape', type: 'symlink' as const, linkname: sentinel }, { name: 'escape/evil.txt', content: 'x' }],
      'relative symlink then a write through it': [{ name: 'up', type: 'symlink' as const, linkname: climb }, { name: 'up/evil.txt', content: 'x' }],
      'hard link to a file outside': [{ name: 'hl', type: 'link' as const, linkname: `${climb}/../../etc/passwd` }],
    };
    for (const [what, entries] of Object.entries(cases)) {
      const file = join(dir, 'evil.tar');
      await writeFile(file, await tarOf(entries));
      const res = await engine.docker(['import', file, 'imported:evil']);
      expect(res.code, what).toBe(1);
      expect(res.stderr, what).toMatch(/Error response from daemon: .*(unsafe|symlink|outside|link)/i);
    }
    expect(await readdir(sentinel)).toEqual([]);
    expect(await imageCount()).toBe(before);
    expect((await readdir(join(engine.root, 'layers'))).sort()).toEqual(layersBefore);
    expect(await readdir(join(engine.root, 'tmp'))).toEqual([]);
  });

  it('refuses input that is not a tar, and truncated gzip and xz', async () => {
    const garbage = await post('/images/create?fromSrc=-', Buffer.from('this is not a tar archive at all'.repeat(40)));
    expect(garbage.status).toBe(400);
    for (const [tool, ext, message] of [['gzip', 'gz', /^Error processing tar file: unexpected end of file$/], ['xz', 'xz', /^Error processing tar file \(xz\): .*Unexpected end of input/]] as const) {
      expect((await run(tool, ['-k', '-f', rootfs])).code).toBe(0);
      const whole = await readFile(`${rootfs}.${ext}`);
      const res = await post('/images/create?fromSrc=-', whole.subarray(0, whole.length >> 1));
      expect(res.status, tool).toBe(400);
      expect(res.json().message, tool).toMatch(message);
    }
    expect(await readdir(join(engine.root, 'tmp'))).toEqual([]);
  });
});

