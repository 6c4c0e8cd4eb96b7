// docker import through the real CLI: a tarball (a file, stdin, a URL; plain, gzip, bzip2 or xz) becomes
// an image of exactly one layer with dockerd's import config; untrusted tars never write outside the
// layer; compared field for field with a reference dockerd's import of the same tar.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import tar from 'tar-stream';
import { TEST_BASE, TestEngine, httpOn, run } from './helpers/engine.js';
import { cliOf } from './helpers/cli.js';
import { ReferenceDockerd, haveDockerd } from './helpers/dockerd.js';
import { tarOf } from './helpers/archive.js';
import { resolverAddress } from './helpers/network.js';

const images = inject('images');
let engine: TestEngine;
let dir: string;
/** `docker export` of a busybox container: a whole rootfs as a plain tar. */
let rootfs: string;
let rootfsDiffId: string;

const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');
const nowSeconds = () => Math.floor(Date.now() / 1000);
const goArch = process.arch === 'x64' ? 'amd64' : process.arch;

const { ok } = cliOf(() => engine, { strict: true });
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
      await ok(
        [
          'import',
          '-c',
          'CMD ["/bin/echo", "from cmd"]',
          '-c',
          'ENV GREETING=hello',
          '-c',
          'WORKDIR /tmp',
          '-c',
          'LABEL team=ships',
          '-m',
          'a message',
          '-',
          'imported:changes',
        ],
        await readFile(rootfs),
      ),
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
    const lines = (await ok(['history', '--no-trunc', '--format', '{{json .}}', 'imported:history']))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ ID: (await inspect('imported:history')).Id, CreatedBy: '', Comment: 'one entry' });
  });

  it('decompresses gzip, bzip2 and xz tarballs to the same layer', async () => {
    for (const [tool, ext] of [
      ['gzip', 'gz'],
      ['bzip2', 'bz2'],
      ['xz', 'xz'],
    ] as const) {
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
    const events = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((e) => e.Actor.ID === id);
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
      'parent-directory path': [
        { name: 'ok.txt', content: 'ok' },
        { name: `${climb}/evil.txt`, content: 'x' },
      ],
      'absolute symlink then a write through it': [
        { name: 'escape', type: 'symlink' as const, linkname: sentinel },
        { name: 'escape/evil.txt', content: 'x' },
      ],
      'relative symlink then a write through it': [
        { name: 'up', type: 'symlink' as const, linkname: climb },
        { name: 'up/evil.txt', content: 'x' },
      ],
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
    for (const [tool, ext, message] of [
      ['gzip', 'gz', /^Error processing tar file: unexpected end of file$/],
      ['xz', 'xz', /^Error processing tar file \(xz\): .*Unexpected end of input/],
    ] as const) {
      expect((await run(tool, ['-k', '-f', rootfs])).code).toBe(0);
      const whole = await readFile(`${rootfs}.${ext}`);
      const res = await post('/images/create?fromSrc=-', whole.subarray(0, whole.length >> 1));
      expect(res.status, tool).toBe(400);
      expect(res.json().message, tool).toMatch(message);
    }
    expect(await readdir(join(engine.root, 'tmp'))).toEqual([]);
  });
});

describe('import from a URL', () => {
  /** What the server serves: a rootfs tar and its gzip, under these names. */
  let served: string;
  let server: Server;
  let base: string;
  /** A port nothing listens on (a server's, closed): connections to it are refused. */
  let closedPort: number;
  /** The paths berth asked for, in order. */
  const requested: string[] = [];
  /** `/held.tar` sends half the tar, then waits for this before the rest. */
  let held: Promise<void> = Promise.resolve();
  let releaseHeld = () => undefined as void;
  /** The digest of what `/unsized.tar` sent, once it is sent. */
  let unsizedDigest = '';
  let unsizedLength = 0;

  const url = (path: string) => `${base}${path}`;
  const create = (source: string, repo = '') => post(`/v1.50/images/create?fromSrc=${encodeURIComponent(source)}${repo ? `&repo=${repo}` : ''}`);
  /** The lines of a JSON-message stream, each ended with CRLF as dockerd ends them. */
  const messages = (body: Buffer) => {
    const text = body.toString();
    expect(text.endsWith('\r\n'), text).toBe(true);
    return text
      .slice(0, -2)
      .split('\r\n')
      .map((l) => JSON.parse(l));
  };
  /** What must be unchanged after a failed import: the images, the layers, an empty tmp. */
  const storeState = async () => ({
    images: await ok(['images', '-aq']),
    layers: (await readdir(join(engine.root, 'layers'))).sort(),
    tmp: await readdir(join(engine.root, 'tmp')),
  });

  beforeAll(async () => {
    served = join(dir, 'served');
    await mkdir(served);
    await writeFile(join(served, 'rootfs.tar'), await readFile(rootfs));
    expect((await run('gzip', ['-k', '-f', join(served, 'rootfs.tar')])).code).toBe(0);
    server = createServer((req, res) => {
      requested.push(req.url!);
      const sendFile = async (file: string) => {
        res.writeHead(200, { 'content-type': 'application/x-tar', 'content-length': (await stat(file)).size });
        createReadStream(file).pipe(res);
      };
      switch (req.url) {
        case '/rootfs.tar':
        case '/rootfs.tar.gz':
          void sendFile(join(served, req.url.slice(1)));
          return;
        case '/held.tar':
          void readFile(rootfs).then(async (whole) => {
            res.writeHead(200, { 'content-type': 'application/x-tar', 'content-length': whole.length });
            res.write(whole.subarray(0, whole.length >> 1));
            await held;
            res.end(whole.subarray(whole.length >> 1));
          });
          return;
        case '/unsized.tar': {
          // Streamed as it is packed: chunked, no Content-Length.
          const pack = tar.pack();
          const hash = createHash('sha256');
          let length = 0;
          pack.on('data', (chunk: unknown) => {
            const c = chunk as Buffer;
            hash.update(c);
            length += c.length;
            res.write(c);
          });
          pack.on('end', () => {
            unsizedDigest = 'sha256:' + hash.digest('hex');
            unsizedLength = length;
            res.end();
          });
          res.writeHead(200, { 'content-type': 'application/x-tar' });
          pack.entry({ name: 'hello.txt', mtime: new Date(0) }, 'hello from a stream\n');
          pack.entry({ name: 'big.bin', mtime: new Date(0) }, Buffer.alloc(1536 * 1024, 7));
          pack.finalize();
          return;
        }
        case '/truncated.tar':
          // Promises the whole tar, sends half, then drops the connection.
          void readFile(rootfs).then((whole) => {
            res.writeHead(200, { 'content-type': 'application/x-tar', 'content-length': whole.length });
            res.write(whole.subarray(0, whole.length >> 1), () => setTimeout(() => res.destroy(), 50));
          });
          return;
        case '/unavailable.tar':
          res.writeHead(503, { 'content-type': 'text/plain' });
          res.end('try again later\n');
          return;
        default:
          res.writeHead(404, { 'content-type': 'text/plain' });
          res.end('no such tarball\n');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    closedPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
  });
  afterAll(async () => {
    releaseHeld();
    server?.closeAllConnections();
    if (server?.listening) await new Promise((r) => server.close(r));
  });

  it('imports a URL through the CLI: the download, then the ID; the image runs', async () => {
    const source = url('/rootfs.tar');
    const out = await ok(['import', source, 'imported:url']);
    const image = await inspect('imported:url');
    // The CLI prints the statuses (not the progress bars) of a stream it does not draw on a terminal.
    expect(out).toBe(`Downloading from ${source}\n${image.Id}\n`);
    expect(requested.at(-1)).toBe('/rootfs.tar');
    expect(image.RepoTags).toEqual(['imported:url']);
    expect(image.Comment).toBe(`Imported from ${source}`);
    expect(image.RootFS).toEqual({ Type: 'layers', Layers: [rootfsDiffId] });
    expect(await ok(['run', '--rm', 'imported:url', 'echo', 'from a URL'])).toBe('from a URL\n');
  });

  it("streams dockerd's messages: Downloading, Importing with progress, then the ID", async () => {
    const source = url('/rootfs.tar');
    const size = (await stat(rootfs)).size;
    const res = await create(source, 'imported:url-raw');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    const all = messages(res.body);
    expect(all[0]).toEqual({ status: `Downloading from ${source}` });
    expect(all.at(-1)).toEqual({ status: (await inspect('imported:url-raw')).Id });
    const progress = all.slice(1, -1);
    expect(progress.length).toBeGreaterThan(0);
    for (const m of progress) {
      expect(m).toEqual({
        status: 'Importing',
        progressDetail: { current: expect.any(Number), total: size },
        progress: expect.stringMatching(/^\[=*> *\] +[\d.]+[kMG]?B\/[\d.]+[kMG]?B$/),
      });
    }
    const currents = progress.map((m) => m.progressDetail.current);
    expect(currents).toEqual([...currents].sort((a, b) => a - b));
    expect(new Set(currents).size).toBe(currents.length);
    // The last update is the whole download: a full bar.
    expect(currents.at(-1)).toBe(size);
    expect(progress.at(-1).progress).toMatch(new RegExp(`^\\[${'='.repeat(50)}>\\] `));
  });

  it('sends the first message while the download is still running', async () => {
    held = new Promise<void>((r) => (releaseHeld = r));
    const source = url('/held.tar');
    let first: (chunk: string) => void;
    const firstChunk = new Promise<string>((r) => (first = r));
    const whole = new Promise<string>((resolve, reject) => {
      const req = request(
        { socketPath: engine.socket, method: 'POST', path: `/images/create?fromSrc=${encodeURIComponent(source)}&repo=imported:held` },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => {
            first(c.toString());
            text += c.toString();
          });
          res.on('end', () => resolve(text));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
    // Half the tar is all there is until we have seen a message (or waited long enough to know none comes).
    const early = await Promise.race([firstChunk, new Promise<string>((r) => setTimeout(() => r('(nothing before the download ended)'), 10_000))]);
    releaseHeld();
    const text = await whole;
    expect(early).toMatch(new RegExp(`^\\{"status":"Downloading from ${source.replace(/[.]/g, '\\.')}"\\}\r\n`));
    expect(early).not.toContain('sha256:');
    const image = await inspect('imported:held');
    expect(text.endsWith(`{"status":"${image.Id}"}\r\n`)).toBe(true);
    expect(image.RootFS.Layers).toEqual([rootfsDiffId]);
  });

  it('imports a gzip URL to the same layer as the plain tar', async () => {
    const source = url('/rootfs.tar.gz');
    const out = await ok(['import', source, 'imported:url-gzip']);
    const image = await inspect('imported:url-gzip');
    expect(out).toBe(`Downloading from ${source}\n${image.Id}\n`);
    expect(requested.at(-1)).toBe('/rootfs.tar.gz');
    expect(image.Comment).toBe(`Imported from ${source}`);
    expect(image.RootFS.Layers).toEqual([rootfsDiffId]);
    expect(await ok(['run', '--rm', 'imported:url-gzip', 'echo', 'gunzipped'])).toBe('gunzipped\n');
  });

  it('reports the bytes so far when the server sends no length', async () => {
    const res = await create(url('/unsized.tar'), 'imported:unsized');
    expect(res.status).toBe(200);
    const all = messages(res.body);
    const image = await inspect('imported:unsized');
    expect(all.at(-1)).toEqual({ status: image.Id });
    const progress = all.slice(1, -1);
    expect(progress.length).toBeGreaterThan(0);
    for (const m of progress) {
      expect(m).toEqual({ status: 'Importing', progressDetail: { current: expect.any(Number) }, progress: expect.stringMatching(/^ *[\d.]+[kMG]?B$/) });
    }
    expect(progress.at(-1).progressDetail.current).toBe(unsizedLength);
    // go-units' HumanSize: four significant digits, decimal units; right-aligned in eight columns.
    expect(progress.at(-1).progress).toBe(`${Number((unsizedLength / 1e6).toPrecision(4))}MB`.padStart(8));
    expect(image.RootFS.Layers).toEqual([unsizedDigest]);
  });

  it('refuses a missing, failing or unreachable URL as an HTTP error before any message, storing nothing', async () => {
    const before = await storeState();
    const cases = [
      [url('/missing.tar'), 404, `failed to GET ${url('/missing.tar')} with status 404 Not Found: no such tarball`],
      [url('/unavailable.tar'), 500, `failed to GET ${url('/unavailable.tar')} with status 503 Service Unavailable: try again later`],
      [
        `http://127.0.0.1:${closedPort}/rootfs.tar`,
        500,
        `Get "http://127.0.0.1:${closedPort}/rootfs.tar": dial tcp 127.0.0.1:${closedPort}: connect: connection refused`,
      ],
      // An unknown host: a 500 worded by Go's resolver, as dockerd 20.10 answers (not Node's getaddrinfo ENOTFOUND).
      [
        'http://nosuchhost.invalid/rootfs.tar',
        500,
        `Get "http://nosuchhost.invalid/rootfs.tar": dial tcp: lookup nosuchhost.invalid on ${resolverAddress()}: no such host`,
      ],
    ] as const;
    for (const [source, status, message] of cases) {
      const res = await create(source, 'imported:failed');
      expect(res.status, source).toBe(status);
      expect(res.headers['content-type'], source).toBe('application/json');
      expect(res.json(), source).toEqual({ message });
      const cli = await engine.docker(['import', source, 'imported:failed']);
      expect(cli.code, source).toBe(1);
      expect(cli.stdout, source).toBe('');
      expect(cli.stderr, source).toBe(`Error response from daemon: ${message}\n`);
    }
    // The server was asked (twice each): the errors are its answers.
    expect(requested.filter((p) => p === '/missing.tar')).toHaveLength(2);
    expect(requested.filter((p) => p === '/unavailable.tar')).toHaveLength(2);
    expect(await storeState()).toEqual(before);
    expect(before.tmp).toEqual([]);
  });

  it('ends the stream with an error message when the download breaks off, storing nothing', async () => {
    const before = await storeState();
    const source = url('/truncated.tar');
    const res = await create(source, 'imported:truncated');
    expect(res.status).toBe(200);
    const all = messages(res.body);
    expect(all[0]).toEqual({ status: `Downloading from ${source}` });
    const last = all.at(-1);
    expect(last).toEqual({ errorDetail: { message: expect.stringMatching(/^Error processing tar file: /) }, error: last.errorDetail?.message });
    expect(all.some((m) => /^sha256:/.test(m.status ?? ''))).toBe(false);
    const cli = await engine.docker(['import', source, 'imported:truncated']);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toBe(`Downloading from ${source}\n`);
    expect(cli.stderr).toBe(`${last.error}\n`);
    expect(await storeState()).toEqual(before);
  });
});

describe.skipIf(!haveDockerd())('against a reference dockerd', () => {
  let dockerd: ReferenceDockerd | undefined;
  /** What differs between any two engines' imports of the same tar: identity, time, naming, storage, version. */
  const PER_ENGINE = ['Id', 'Created', 'RepoTags', 'RepoDigests', 'DockerVersion', 'Metadata', 'GraphDriver'];
  const CHANGES = ['CMD ["/bin/sh"]', 'ENV A=b', 'LABEL x=y', 'EXPOSE 80', 'USER 1000', 'WORKDIR /w', 'VOLUME /v', 'ENTRYPOINT ["/bin/echo"]'];

  beforeAll(async () => {
    dockerd = await ReferenceDockerd.start();
  });
  afterAll(async () => {
    await dockerd?.stop();
  });

  /** GET /v1.41/images/<name>/json on an engine's socket. */
  const inspectOn = async (socket: string, name: string) => {
    const res = await httpOn(socket, 'GET', `/v1.41/images/${name}/json`);
    expect(res.status, `${socket}: ${res.body}`).toBe(200);
    return res.json();
  };
  const historyArgs = (name: string) => ['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Comment}}|{{.Size}}', name];

  for (const [what, args, name] of [
    ['no changes', [], 'compare:plain'],
    ['every change and a message', [...CHANGES.flatMap((c) => ['-c', c]), '-m', 'msg'], 'compare:changes'],
  ] as const) {
    it(`inspects and shows the history as dockerd does, importing the same tar with ${what}`, async () => {
      const argv = ['import', ...args, rootfs, name];
      importedId(await ok(argv));
      const imported = await dockerd!.docker(argv);
      expect(imported.stderr, `dockerd: docker ${argv.join(' ')}`).toBe('');
      importedId(imported.stdout);

      const ours = await inspectOn(engine.socket, name);
      const theirs = await inspectOn(dockerd!.socket, name);
      const fields = [...new Set([...Object.keys(theirs), ...Object.keys(ours)])].filter((k) => !PER_ENGINE.includes(k)).sort();
      // Everything dockerd reports of an image's content and config is compared.
      expect(fields).toEqual(expect.arrayContaining(['Architecture', 'Comment', 'Config', 'ContainerConfig', 'Os', 'Parent', 'RootFS', 'Size', 'VirtualSize']));
      for (const field of fields) expect(ours[field], field).toEqual(theirs[field]);
      // The known difference: berth is not a Docker release, so it names none.
      expect(ours.DockerVersion).toBe('');
      expect(theirs.DockerVersion).not.toBe('');

      const history = await dockerd!.docker(historyArgs(name));
      expect(history.stderr).toBe('');
      expect(history.stdout.trim().split('\n'), 'one entry').toHaveLength(1);
      expect(await ok(historyArgs(name))).toBe(history.stdout);
    });
  }
});
