// Requests built to hurt: a cut-off archive, JSON nested thousands deep, a body past the JSON bound,
// compression bombs, and a client that leaves while its load is being written. The engine answers
// each with Docker's 4xx error shape, stays up, and leaves nothing in tmp/.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createHash } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { readdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { GOLDEN } from './helpers/golden.js';
import { TestEngine } from './helpers/engine.js';
import { chunkOf, dockerArchive, tarOf } from './helpers/archive.js';
import { TestRegistry } from './helpers/registry.js';

const MiB = 1024 * 1024;

/** Engine with a small --max-layer-size (set through its environment variable) for the bombs. */
let small: TestEngine;
/** Engine with the default bound, for what must pass and for the client that leaves. */
let plain: TestEngine;
let registry: TestRegistry;

beforeAll(async () => {
  registry = await TestRegistry.start();
  small = await TestEngine.create();
  await small.start([], { BERTH_MAX_LAYER_SIZE: '64MiB' });
  plain = await TestEngine.start();
  const layer = await tarOf([
    { name: 'bin/', type: 'directory' },
    { name: 'bin/sh', content: '#!/bin/true\n', mode: 0o755 },
  ]);
  const { archive } = await dockerArchive([layer], 'hostile-base:1');
  for (const engine of [small, plain]) {
    expect((await engine.http('POST', '/images/load?quiet=1', archive, { 'content-type': 'application/x-tar' })).status).toBe(200);
  }
}, 60_000);

afterAll(async () => {
  await registry?.stop();
  await small?.destroy();
  await plain?.destroy();
});

/** A tar of one file of `size` zero bytes (after `extra` entries), gzipped as it is made; also its diff ID. */
async function zeroBomb(size: number, extra: { name: string; content: string }[] = [], level = 9): Promise<{ gz: Buffer; diffId: string }> {
  const pack = tar.pack();
  const hash = createHash('sha256');
  pack.on('data', (c) => hash.update(chunkOf(c)));
  const gzip = createGzip({ level });
  const chunks: Buffer[] = [];
  gzip.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((resolve) => gzip.on('end', resolve));
  pack.pipe(gzip);
  for (const e of extra) pack.entry({ name: e.name, mtime: new Date(0) }, e.content);
  const entry = pack.entry({ name: 'zeros', size, mtime: new Date(0) });
  const block = Buffer.alloc(MiB);
  for (let left = size; left > 0; left -= block.length) {
    if (!entry.write(left >= block.length ? block : block.subarray(0, left))) await new Promise<void>((r) => entry.once('drain', () => r()));
  }
  entry.end(undefined); // streamx's types want an argument; undefined ends without writing
  pack.finalize();
  await done;
  return { gz: Buffer.concat(chunks), diffId: 'sha256:' + hash.digest('hex') };
}

interface Answer {
  status: number;
  body: string;
}

/** A request that reads the answer even if the engine answers before the body is sent (and then closes). */
function send(engine: TestEngine, method: string, path: string, body: Buffer, contentType: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath: engine.socket, method, path, headers: { 'content-type': contentType, 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', (err) => setTimeout(() => reject(err), 1000)); // EPIPE after an early answer: the answer wins
    const timer = setTimeout(() => req.destroy(new Error('no answer in 60 s')), 60_000);
    req.on('close', () => clearTimeout(timer));
    req.end(body);
  });
}

const alive = async (engine: TestEngine) => expect((await engine.http('GET', '/_ping')).status).toBe(200);

/** tmp/ empties once the request's work is over (cleanup runs just after the answer). */
async function expectTmpEmpty(engine: TestEngine, withinMs = 5000) {
  const deadline = Date.now() + withinMs;
  let left: string[] = [];
  while (Date.now() < deadline) {
    left = await readdir(join(engine.root, 'tmp'));
    if (left.length === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(left).toEqual([]);
}

describe('archives cut off', () => {
  it('docker load of the first 5000 bytes of an image fails with a 400 and the engine stays up', async () => {
    const cut = join(plain.dir, 'cut.tar');
    await writeFile(cut, (await readFile(join(GOLDEN, 'dockerd-layered.tar'))).subarray(0, 5000));
    const res = await plain.docker(['load', '-i', cut]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/invalid image archive: Unexpected end of data/);
    await alive(plain);
    await expectTmpEmpty(plain);
  });
});

describe('JSON bodies', () => {
  it('answers 400 to a create body nested 5000 deep', async () => {
    const body = `{"Image":"hostile-base:1","Labels":{"x":${'['.repeat(5000)}${']'.repeat(5000)}}}`;
    const res = await send(plain, 'POST', '/containers/create', Buffer.from(body), 'application/json');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ message: 'invalid JSON: nested deeper than 512 levels' });
    await alive(plain);
  });

  it('answers 400 to an exec start body nested 5000 deep (the hijacked form parses its own)', async () => {
    const res = await send(plain, 'POST', '/exec/nonexistent/start', Buffer.from('{"a":'.repeat(5000) + '1' + '}'.repeat(5000)), 'application/json');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).message).toBe('invalid JSON: nested deeper than 512 levels');
    await alive(plain);
  });

  it('refuses an exec start (Upgrade) announcing a body over 32 MiB before reading it', async () => {
    const socket = connect(plain.socket);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    await new Promise((r) => socket.once('connect', r));
    socket.write(
      'POST /exec/whatever/start HTTP/1.1\r\nHost: berth\r\nContent-Type: application/json\r\nContent-Length: 40000000\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n{',
    );
    await new Promise((r) => socket.once('close', r));
    const answer = Buffer.concat(chunks).toString();
    expect(answer).toMatch(/^HTTP\/1.1 413 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({ message: 'request body is larger than the limit of 32 MiB' });
    await alive(plain);
  });

  it('takes nesting up to the bound (an unknown field 500 deep is ignored, as dockerd ignores it)', async () => {
    const body = `{"Image":"hostile-base:1","Cmd":["/bin/sh"],"Unknown":${'['.repeat(500)}${']'.repeat(500)}}`;
    const res = await send(plain, 'POST', '/containers/create', Buffer.from(body), 'application/json');
    expect(res.status).toBe(201);
    await plain.http('DELETE', `/containers/${JSON.parse(res.body).Id}`);
  });

  it('runs a 1.2 MB create (20 000 --env-file variables) from the docker CLI', async () => {
    const file = join(plain.dir, 'big.env');
    const vars = Array.from({ length: 20_000 }, (_, i) => `VARIABLE_NUMBER_${i}=${'v'.repeat(40)}${i}`);
    await writeFile(file, vars.join('\n') + '\n');
    const res = await plain.docker(['create', '--name', 'many-env', '--env-file', file, 'hostile-base:1', '/bin/sh']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const env = (await plain.http('GET', '/containers/many-env/json')).json().Config.Env as string[];
    expect(env.filter((e) => e.startsWith('VARIABLE_NUMBER_'))).toEqual(vars);
    expect((await plain.docker(['rm', 'many-env'])).code).toBe(0);
  });

  it("refuses a JSON body over 32 MiB with 413 and Docker's error shape, which the docker CLI shows", async () => {
    const file = join(plain.dir, 'huge.env');
    await writeFile(file, Array.from({ length: 400_000 }, (_, i) => `V${i}=${'x'.repeat(80)}`).join('\n') + '\n');
    const res = await plain.docker(['create', '--env-file', file, 'hostile-base:1', '/bin/sh']);
    expect(res.code).not.toBe(0);
    expect(res.stderr, res.stderr).toContain('request body is larger than the limit of 32 MiB');
    expect((await plain.http('GET', '/containers/json?all=1')).json()).toEqual([]);
    await alive(plain);
  });
});

describe('compression bombs (--max-layer-size 64MiB)', () => {
  let bomb: { gz: Buffer; diffId: string };
  beforeAll(async () => {
    bomb = await zeroBomb(200 * MiB, [{ name: 'Dockerfile', content: 'FROM scratch\nCOPY zeros /\n' }]);
  }, 60_000);

  it('stops a docker import at the bound with a 400', async () => {
    const res = await send(small, 'POST', '/images/create?fromSrc=-&repo=bomb&tag=1', bomb.gz, 'application/x-tar');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).message).toBe("the imported tarball expands to more than 64 MiB, the engine's limit (berth serve --max-layer-size)");
    await alive(small);
    await expectTmpEmpty(small);
  });

  it('stops a docker load at the bound with a 400 the CLI shows', async () => {
    const { archive } = await dockerArchive([bomb.gz], 'bomb:1', [bomb.diffId]);
    const file = join(small.dir, 'bomb.tar');
    await writeFile(file, archive);
    const res = await small.docker(['load', '-i', file]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain(`layer ${bomb.diffId} expands to more than 64 MiB, the engine's limit (berth serve --max-layer-size)`);
    await alive(small);
    await expectTmpEmpty(small);
    expect((await small.http('GET', '/images/bomb:1/json')).status).toBe(404);
  });

  it('refuses a load whose archive holds a file larger than the bound', async () => {
    const { archive } = await dockerArchive([Buffer.alloc(65 * MiB)], 'big:1');
    const res = await send(small, 'POST', '/images/load?quiet=1', archive, 'application/x-tar');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).message).toBe(
      "invalid image archive: layer0/layer.tar expands to more than 64 MiB, the engine's limit (berth serve --max-layer-size)",
    );
    await alive(small);
    await expectTmpEmpty(small);
  });

  it("stops a docker pull at the bound, with the error in the pull's stream", async () => {
    {
      const { archive } = await dockerArchive([bomb.gz], 'bomb:1', [bomb.diffId]);
      const file = join(small.dir, 'bomb-push.tar');
      await writeFile(file, archive);
      await registry.pushArchive(file, 'bomb:1');
      const res = await small.docker(['pull', `${registry.host}/bomb:1`]);
      expect(res.code).not.toBe(0);
      expect(res.stderr).toContain(`layer ${bomb.diffId} expands to more than 64 MiB, the engine's limit (berth serve --max-layer-size)`);
      await alive(small);
      await expectTmpEmpty(small);
      expect(await readdir(join(small.root, 'partial'))).toEqual([]);
    }
  });

  it('stops a build context at the bound with a 400', async () => {
    const res = await send(small, 'POST', '/build?t=bomb:2', bomb.gz, 'application/x-tar');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).message).toBe("the build context expands to more than 64 MiB, the engine's limit (berth serve --max-layer-size)");
    await alive(small);
    await expectTmpEmpty(small);
  });

  it("stops a remote build context's download at the bound", async () => {
    // 100 MiB, uncompressed: what arrives is bounded as much as what it expands to.
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-tar' });
      let sent = 0;
      const chunk = Buffer.alloc(MiB);
      const more = () => {
        while (sent < 100 * MiB) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      res.on('close', () => (sent = Infinity));
      more();
    });
    server.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/context.tar`;
    try {
      const res = await send(small, 'POST', `/build?remote=${encodeURIComponent(url)}`, Buffer.alloc(0), 'text/plain');
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body).message).toBe(`${url} expands to more than 64 MiB, the engine's limit (berth serve --max-layer-size)`);
      await alive(small);
      await expectTmpEmpty(small);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('refuses a bad --max-layer-size at start', async () => {
    const engine = await TestEngine.create();
    try {
      await expect(engine.start(['--max-layer-size', 'lots'])).rejects.toThrow(/invalid size "lots"/);
    } finally {
      await engine.destroy();
    }
  });
});

describe('a client that leaves', () => {
  // 1 GiB of zeros (5 MB gzipped, fast) with its true diff ID: loaded or pulled whole, it would be an image.
  let big: { gz: Buffer; diffId: string };
  let archive: Buffer;
  beforeAll(async () => {
    big = await zeroBomb(1024 * MiB, [{ name: 'Dockerfile', content: 'FROM scratch\nCOPY zeros /\n' }], 1);
    archive = (await dockerArchive([big.gz], 'left:1', [big.diffId])).archive;
  }, 60_000);

  /** Bytes of the files under a directory. */
  async function du(dir: string): Promise<number> {
    let total = 0;
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const path = join(dir, e.name);
      if (e.isDirectory()) total += await du(path);
      else if (e.isFile()) total += (await stat(path).catch(() => ({ size: 0 }))).size;
    }
    return total;
  }

  /**
   * Sends the request, and drops the connection once the engine is expanding it: `staging` is in tmp/
   * and tmp/ holds more than the whole compressed upload could be.
   */
  async function leaveWhileWriting(path: string, body?: Buffer, staging = /^layer-/) {
    const req = httpRequest({ socketPath: plain.socket, method: 'POST', path, headers: body ? { 'content-type': 'application/x-tar' } : {} });
    req.on('error', () => undefined);
    req.on('response', (res) => res.resume());
    req.end(body);
    const tmp = join(plain.root, 'tmp');
    const deadline = Date.now() + 20_000;
    for (;;) {
      const staged = await readdir(tmp);
      if (staged.some((d) => staging.test(d)) && (await du(tmp)) > 64 * MiB) break;
      if (Date.now() > deadline) throw new Error(`the layer was never written: ${staged.join(' ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    req.destroy();
    await expectTmpEmpty(plain, 3000);
    // Nothing keeps growing after, and the half-written layer became nothing.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await readdir(tmp)).toEqual([]);
    expect(await readdir(join(plain.root, 'layers'))).toHaveLength(1); // hostile-base's only
    await alive(plain);
  }

  it('stops a load being written when its client disconnects', async () => {
    await leaveWhileWriting('/images/load?quiet=1', archive);
    expect((await plain.http('GET', '/images/left:1/json')).status).toBe(404);
  }, 60_000);

  it('stops an import being written when its client disconnects', async () => {
    await leaveWhileWriting('/images/create?fromSrc=-&repo=left-import&tag=1', big.gz, /^layer-/); // the body is all read: the layer is being unpacked
    expect((await plain.http('GET', '/images/left-import:1/json')).status).toBe(404);
  }, 60_000);

  it('stops a build context being unpacked when its client disconnects', async () => {
    await leaveWhileWriting('/build?t=left-build:1', big.gz, /^build-/);
    expect((await plain.http('GET', '/images/left-build:1/json')).status).toBe(404);
  }, 60_000);

  it('stops a pull being unpacked when its client disconnects', async () => {
    const file = join(plain.dir, 'left.tar');
    await writeFile(file, archive);
    await registry.pushArchive(file, 'left:1');
    await leaveWhileWriting(`/images/create?fromImage=${registry.host}/left&tag=1`);
    expect((await plain.http('GET', `/images/${registry.host}/left:1/json`)).status).toBe(404);
  }, 60_000);
});

describe('attach stdin from a client that resets', () => {
  it("closes the container's stdin and lets go of the output when the client's connection fails", async () => {
    expect((await plain.docker(['load', '-i', inject('images').busybox.archive])).code).toBe(0);
    // 8 MB of output first: the client never reads it, so its receive queue is full when it goes, and
    // the engine sees the connection reset (an error), not an end.
    const created = await plain.http('POST', '/containers/create', {
      Image: 'busybox',
      Cmd: ['sh', '-c', 'head -c 8000000 /dev/zero; cat >/dev/null; echo done'],
      OpenStdin: true,
      StdinOnce: true,
      AttachStdin: true,
      AttachStdout: true,
    });
    expect(created.status).toBe(201);
    const id = created.json().Id as string;
    try {
      const socket = connect(plain.socket);
      socket.on('error', () => undefined);
      await new Promise((r) => socket.once('connect', r));
      socket.write(
        `POST /containers/${id}/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\nHost: berth\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`,
      );
      socket.pause();
      expect((await plain.http('POST', `/containers/${id}/start`)).status).toBe(204);
      await new Promise((r) => setTimeout(r, 1500));
      socket.write('some input\n');
      await new Promise((r) => setTimeout(r, 300));
      socket.destroy();
      // cat sees EOF and the container ends.
      const deadline = Date.now() + 10_000;
      let state: { Running: boolean } = { Running: true };
      while (Date.now() < deadline) {
        state = (await plain.http('GET', `/containers/${id}/json`)).json().State;
        if (!state.Running) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(state.Running).toBe(false);
      // And the engine let go of the attach: no file of the container is still open (its log was being
      // streamed to the client when it went).
      const openFiles = async () => {
        const fds = await readdir(`/proc/${plain.process!.pid}/fd`);
        const targets = await Promise.all(fds.map((fd) => readlink(`/proc/${plain.process!.pid}/fd/${fd}`).catch(() => '')));
        return targets.filter((t) => t.includes(id));
      };
      for (let i = 0; i < 20 && (await openFiles()).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await openFiles()).toEqual([]);
      await alive(plain);
    } finally {
      await plain.http('DELETE', `/containers/${id}?force=1`);
    }
  }, 60_000);
});

describe('a registry that sends without end', () => {
  /**
   * A registry whose answer at `endless` is 256 MiB of spaces (bounded, so an engine without the bound
   * answers too, only much later); `/v2/` asks for a token from `/token` when `tokens` is set.
   */
  async function registryServer(endless: string, tokens = false) {
    const server = createServer((req, res) => {
      const base = `http://${req.headers.host}`;
      if (req.url === '/v2/' && tokens && !req.headers.authorization) {
        return res.writeHead(401, { 'www-authenticate': `Bearer realm="${base}/token",service="endless"` }).end();
      }
      if (req.url === '/v2/') return res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      if (!req.url!.startsWith(endless)) return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/vnd.docker.distribution.manifest.v2+json' });
      let sent = 0;
      const chunk = Buffer.alloc(MiB, ' ');
      const more = () => {
        while (sent < 256 * MiB) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      res.on('close', () => (sent = Infinity));
      more();
    });
    server.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    return { server, host: `127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  it('stops reading a manifest past 4 MiB', async () => {
    const { server, host } = await registryServer('/v2/endless/manifests/');
    try {
      const res = await send(plain, 'POST', `/images/create?fromImage=${host}/endless&tag=1`, Buffer.alloc(0), 'text/plain');
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toEqual({ message: `manifest for ${host}/endless:1 is larger than 4 MiB` });
      await alive(plain);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  }, 60_000);

  it('stops reading a token past 4 MiB', async () => {
    const { server, host } = await registryServer('/token', true);
    try {
      const res = await send(plain, 'POST', `/images/create?fromImage=${host}/endless&tag=1`, Buffer.alloc(0), 'text/plain');
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(JSON.parse(res.body).message).toContain("the token server's answer is larger than 4 MiB");
      await alive(plain);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  }, 60_000);
});
