// The console's server over real HTTP against a real engine: the token and its cookie, 401 and 403, the
// API proxied with its streams (both ways, each side's end passed on), websockets with their Origin
// check, Docker's hijacked attach, and nothing at all without --console.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readFile, readdir, readlink, stat } from 'node:fs/promises';
import { request, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pack } from 'tar-stream';
import { startConsoleEngine, type ConsoleEngine } from '../helpers/console.js';
import { MAIN, TestEngine } from '../helpers/engine.js';
import { parseFrames } from '../helpers/hijack.js';

const images = inject('images');
let c: ConsoleEngine;
const cookie = () => `berth_console=${c.token}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (await what()) return;
  throw new Error('condition not met in time');
}

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** Starts a request to the console; resolves with the response as soon as its head arrives. */
function open(method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer) {
  const req = request(`${c.origin}${path}`, { method, headers });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.on('response', resolve);
    req.on('error', reject);
  });
  req.end(body);
  return { req, response };
}

async function fetchAll(method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<Answer> {
  const res = await open(method, path, headers, body).response;
  let text = '';
  for await (const chunk of res) text += chunk;
  return { status: res.statusCode!, headers: res.headers, body: text };
}

const docker = async (...args: string[]) => {
  const r = await c.engine.docker(args);
  expect(r.code, `docker ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout.trim();
};
const running = async (name: string) => (await docker('inspect', '-f', '{{.State.Running}}', name)) === 'true';

/** Connections the engine has accepted on the console's private API socket: the proxied requests in flight. */
async function apiConnections(): Promise<number> {
  const path = join(c.engine.runRoot, 'console-api.sock');
  const lines = (await readFile('/proc/net/unix', 'utf8')).split('\n');
  // St 03: connected (the listener itself is 01).
  return lines.filter((l) => l.endsWith(` ${path}`) && l.trim().split(/\s+/)[5] === '03').length;
}

/** TCP sockets the process listens on (its fds' inodes among /proc/net/tcp{,6}'s LISTEN rows). */
async function tcpListeners(pid: number): Promise<number> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const m = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''));
    if (m) inodes.add(m[1]!);
  }
  let n = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const row of (await readFile(table, 'utf8')).split('\n').slice(1)) {
      const f = row.trim().split(/\s+/);
      if (f[3] === '0A' && inodes.has(f[9]!)) n++;
    }
  }
  return n;
}

/** A raw websocket handshake (the Origin as given), then its frames' payloads as text. */
function websocket(path: string, headers: Record<string, string>) {
  const socket = connect(Number(new URL(c.origin).port), '127.0.0.1');
  const lines = [
    `GET ${path} HTTP/1.1`,
    `Host: ${new URL(c.origin).host}`,
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Sec-WebSocket-Version: 13',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  let raw = Buffer.alloc(0);
  let head: string | undefined;
  let text = '';
  socket.on('data', (d: Buffer) => {
    raw = Buffer.concat([raw, d]);
    if (head === undefined) {
      const end = raw.indexOf('\r\n\r\n');
      if (end < 0) return;
      head = raw.subarray(0, end).toString();
      raw = raw.subarray(end + 4);
    }
    // Server frames are unmasked; payloads under 64 KiB here.
    while (raw.length >= 2) {
      let len = raw[1]! & 0x7f;
      let at = 2;
      if (len === 126) {
        if (raw.length < 4) return;
        len = raw.readUInt16BE(2);
        at = 4;
      }
      if (raw.length < at + len) return;
      if ((raw[0]! & 0x0f) === 2 || (raw[0]! & 0x0f) === 1) text += raw.subarray(at, at + len).toString();
      raw = raw.subarray(at + len);
    }
  });
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return {
    socket,
    closed,
    head: () => head,
    text: () => text,
    /** A masked text frame, as a browser sends. */
    send(s: string) {
      const payload = Buffer.from(s);
      const mask = randomBytes(4);
      const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
      socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
    },
  };
}

beforeAll(async () => {
  c = await startConsoleEngine();
  expect((await c.engine.docker(['load', '-i', images.busybox.archive])).code).toBe(0);
}, 60_000);
afterAll(async () => {
  await c?.engine.destroy();
});

describe('the token', () => {
  it('is printed once, and written to run-root/console-token, 0600', async () => {
    expect(c.token).toMatch(/^[0-9a-f]{64}$/);
    expect(c.engine.stderr.match(/console at /g)).toHaveLength(1);
    const file = join(c.engine.runRoot, 'console-token');
    expect((await readFile(file, 'utf8')).trim()).toBe(c.token);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('answers 401 without it, with a wrong one and with a wrong cookie: a page for /, JSON for /api', async () => {
    const wrong = c.token.replace(/^./, (ch) => (ch === '0' ? '1' : '0'));
    const cases: Record<string, string>[] = [{}, { cookie: `berth_console=${wrong}` }, { cookie: 'berth_console=' }, { authorization: `Bearer ${wrong}` }];
    for (const headers of cases) {
      for (const path of ['/', '/app.js', '/index.html', '/api/_ping', '/api/v1.50/containers/json']) {
        const r = await fetchAll('GET', path, headers);
        expect(r.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
        if (path.startsWith('/api/')) expect(JSON.parse(r.body).message).toMatch(/token/);
        else expect(r.headers['content-type']).toMatch(/^text\/html/);
      }
    }
    const badQuery = await fetchAll('GET', `/?token=${wrong}`);
    expect(badQuery.status).toBe(401);
    expect(badQuery.headers['set-cookie']).toBeUndefined();
    // Only / trades a token: elsewhere the query is no key.
    expect((await fetchAll('GET', `/api/_ping?token=${c.token}`)).status).toBe(401);
  });

  it('is traded at /?token= for an HttpOnly, SameSite=Strict cookie and a 303 to /', async () => {
    const r = await fetchAll('GET', `/?token=${c.token}`);
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe('/');
    const [set] = r.headers['set-cookie'] ?? [];
    expect(set?.split(/;\s*/).sort()).toEqual([`berth_console=${c.token}`, 'HttpOnly', 'Path=/', 'SameSite=Strict'].sort());
  });

  it('opens the page, its files and the API with the cookie (or a Bearer token)', async () => {
    const page = await fetchAll('GET', '/', { cookie: cookie() });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<berth-console>');
    const app = await fetchAll('GET', '/app.js', { cookie: `other=1; ${cookie()}` });
    expect(app.status).toBe(200);
    expect(app.headers['content-type']).toMatch(/javascript/);
    expect((await fetchAll('GET', '/app.css', { cookie: cookie() })).status).toBe(200);
    const ping = await fetchAll('GET', '/api/_ping', { cookie: cookie() });
    expect([ping.status, ping.body]).toEqual([200, 'OK']);
    expect(ping.headers['api-version']).toBe('1.50');
    const version = await fetchAll('GET', '/api/v4.3.1/libpod/version', { authorization: `Bearer ${c.token}` });
    expect(version.status).toBe(200);
    expect(JSON.parse(version.body).Version).toBeTruthy();
    // The engine's own errors come through as they are.
    const missing = await fetchAll('GET', '/api/v1.50/containers/nosuch/json', { cookie: cookie() });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body).message).toMatch(/nosuch/);
  });
});

describe('cross-site requests', () => {
  it('refuses a state-changing request without X-Berth-Console, or from another origin, and changes nothing', async () => {
    await docker('run', '-d', '--name', 'csrf', 'busybox', 'sleep', '600');
    const stop = '/api/v1.50/containers/csrf/stop?t=0';
    const noHeader = await fetchAll('POST', stop, { cookie: cookie() });
    expect(noHeader.status).toBe(403);
    expect(JSON.parse(noHeader.body).message).toMatch(/X-Berth-Console/);
    const foreign = await fetchAll('POST', stop, { cookie: cookie(), 'x-berth-console': '1', origin: 'http://127.0.0.1:1' });
    expect(foreign.status).toBe(403);
    expect(JSON.parse(foreign.body).message).toMatch(/Origin/);
    const otherHost = await fetchAll('DELETE', '/api/v1.50/containers/csrf?force=1', {
      cookie: cookie(),
      'x-berth-console': '1',
      origin: 'http://evil.example',
    });
    expect(otherHost.status).toBe(403);
    expect(await running('csrf')).toBe(true);
    // The console's own page: its origin and the header.
    const own = await fetchAll('POST', stop, { cookie: cookie(), 'x-berth-console': '1', origin: c.origin });
    expect(own.status).toBe(204);
    expect(await running('csrf')).toBe(false);
    await docker('rm', 'csrf');
  });
});

describe('the proxy', () => {
  it('streams events as they happen, and ends the engine request when the browser goes away', async () => {
    const { req, response } = open('GET', '/api/v1.50/events?filters=%7B%22type%22%3A%5B%22container%22%5D%7D', { cookie: cookie() });
    const res = await response;
    expect(res.statusCode).toBe(200);
    let received = '';
    res.on('data', (d: Buffer) => (received += d.toString()));
    res.on('error', () => undefined);
    await until(async () => (await apiConnections()) === 1);
    await docker('create', '--name', 'evbox', 'busybox', 'true');
    await until(() => received.split('\n').some((l) => l.includes('"create"') && l.includes('"evbox"')));
    req.destroy();
    await until(async () => (await apiConnections()) === 0);
    await docker('rm', 'evbox');
  });

  it("ends the browser's response when the engine ends its stream (logs --follow of a container that exits)", async () => {
    await docker('run', '-d', '--name', 'shortlog', 'busybox', 'sh', '-c', 'echo first; sleep 1; echo last');
    const r = await fetchAll('GET', '/api/v1.50/containers/shortlog/logs?follow=1&stdout=1', { cookie: cookie() });
    expect(r.status).toBe(200);
    expect(r.body).toContain('first');
    expect(r.body).toContain('last');
    await docker('rm', 'shortlog');
  });

  it('streams a build context in (chunked) and the build out', async () => {
    const tar = pack();
    tar.entry({ name: 'Dockerfile' }, 'FROM busybox\nCOPY hello.txt /hello.txt\n');
    tar.entry({ name: 'hello.txt' }, 'hello from the console\n');
    tar.finalize();
    const req = request(`${c.origin}/api/v1.50/build?t=console-built:1`, {
      method: 'POST',
      headers: { cookie: cookie(), 'x-berth-console': '1', 'content-type': 'application/x-tar', 'transfer-encoding': 'chunked' },
    });
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      req.on('response', resolve);
      req.on('error', reject);
    });
    tar.pipe(req);
    const res = await response;
    let out = '';
    for await (const chunk of res) out += chunk;
    expect(res.statusCode, out).toBe(200);
    expect(out).not.toMatch(/"error/);
    const check = await c.engine.docker(['run', '--rm', 'console-built:1', 'cat', '/hello.txt']);
    expect(check.stdout).toBe('hello from the console\n');
    await docker('rmi', 'console-built:1');
  });

  it("passes Docker's hijacked attach (Upgrade: tcp) both ways", async () => {
    // It ticks too: a client gone without a word is seen at the engine's next write, as on its own socket.
    await docker('run', '-di', '--name', 'hij', 'busybox', 'sh', '-c', '(while :; do echo tick; sleep 0.5; done) & while read l; do echo "got $l"; done');
    const socket: Socket = connect(Number(new URL(c.origin).port), '127.0.0.1');
    let raw = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => (raw = Buffer.concat([raw, d])));
    socket.write(
      'POST /api/v1.50/containers/hij/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\n' +
        `Host: ${new URL(c.origin).host}\r\nAuthorization: Bearer ${c.token}\r\nX-Berth-Console: 1\r\n` +
        'Content-Type: text/plain\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n',
    );
    await until(() => raw.includes('\r\n\r\n'));
    expect(raw.toString()).toMatch(/^HTTP\/1.1 101/);
    socket.write('hi there\n');
    const body = () => raw.subarray(raw.indexOf('\r\n\r\n') + 4);
    await until(() => parseFrames(body()).some((f) => f.stream === 1 && f.data.includes('got hi there')));
    expect(await apiConnections()).toBe(1);
    socket.destroy();
    await until(async () => (await apiConnections()) === 0);
    expect(await running('hij')).toBe(true);
    await docker('rm', '-f', 'hij');
  });

  it("passes stdin's end (a half-close) through a hijacked exec, and the output to its end", async () => {
    await docker('run', '-d', '--name', 'execbox', 'busybox', 'sleep', '600');
    const mark = { cookie: cookie(), 'x-berth-console': '1', 'content-type': 'application/json' };
    const created = await fetchAll('POST', '/api/v1.50/containers/execbox/exec', mark, JSON.stringify({ AttachStdin: true, AttachStdout: true, Cmd: ['cat'] }));
    expect(created.status, created.body).toBe(201);
    const { Id } = JSON.parse(created.body) as { Id: string };
    const body = '{"Detach":false,"Tty":false}';
    const socket: Socket = connect(Number(new URL(c.origin).port), '127.0.0.1');
    let raw = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => (raw = Buffer.concat([raw, d])));
    const ended = new Promise<void>((resolve) => socket.on('end', () => resolve()));
    socket.write(
      `POST /api/v1.50/exec/${Id}/start HTTP/1.1\r\nHost: ${new URL(c.origin).host}\r\nCookie: ${cookie()}\r\nX-Berth-Console: 1\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n${body}`,
    );
    await until(() => raw.includes('\r\n\r\n'));
    expect(raw.toString()).toMatch(/^HTTP\/1.1 101/);
    socket.end('one line\nand another\n');
    // cat sees the end of its stdin and exits; the engine ends the stream, and the proxy passes that on.
    await ended;
    const frames = parseFrames(raw.subarray(raw.indexOf('\r\n\r\n') + 4));
    expect(frames.map((f) => f.data).join('')).toBe('one line\nand another\n');
    socket.destroy();
    await until(async () => (await apiConnections()) === 0);
    await docker('rm', '-f', 'execbox');
  });

  it("passes a websocket (attach/ws) from the console's own origin, and refuses one from another", async () => {
    await docker('run', '-di', '--name', 'wsbox', 'busybox', 'sh', '-c', 'echo ready; while read l; do echo "got $l"; done');
    const path = '/api/v1.50/containers/wsbox/attach/ws?stream=1&stdout=1&stdin=1&logs=1';
    for (const origin of ['http://127.0.0.1:1', 'http://evil.example', undefined]) {
      const ws = websocket(path, { cookie: cookie(), ...(origin ? { origin } : {}) });
      await ws.closed;
      expect(ws.head(), String(origin)).toMatch(/^HTTP\/1.1 403/);
    }
    const anonymous = websocket(path, { origin: c.origin });
    await anonymous.closed;
    expect(anonymous.head()).toMatch(/^HTTP\/1.1 401/);
    expect(await apiConnections()).toBe(0);

    const ws = websocket(path, { cookie: cookie(), origin: c.origin });
    await until(() => ws.head() !== undefined);
    expect(ws.head()).toMatch(/^HTTP\/1.1 101/);
    await until(() => ws.text().includes('ready'));
    ws.send('hello\n');
    await until(() => ws.text().includes('got hello'));
    expect(ws.text()).toBe('ready\ngot hello\n');
    ws.socket.destroy();
    await until(async () => (await apiConnections()) === 0);
    await docker('rm', '-f', 'wsbox');
  });

  it('listens on TCP only for the console: one listener', async () => {
    expect(await tcpListeners(c.engine.process!.pid!)).toBe(1);
  });
});

describe('without --console', () => {
  it("keeps the console out of the engine's bundle: it is loaded from its own file, only under the flag", async () => {
    const dist = new URL('../../dist/server/', import.meta.url);
    const engineBundle = await readFile(new URL('berth.cjs', dist), 'utf8');
    const consoleBundle = await readFile(new URL('console.cjs', dist), 'utf8');
    // Strings only the console's code holds (its cookie, its CSRF header, @fastify/static's send).
    for (const mark of ['berth_console', 'X-Berth-Console', 'x-berth-console', '@fastify/send']) {
      expect(engineBundle.includes(mark), mark).toBe(false);
    }
    expect(consoleBundle).toContain('berth_console');
    expect(consoleBundle).toContain('x-berth-console');
  });

  it('has no listener and no token; BERTH_CONSOLE turns it on, and the token goes with the engine', async () => {
    const plain = await TestEngine.start();
    try {
      expect(plain.stderr).not.toMatch(/console/);
      expect(await tcpListeners(plain.process!.pid!)).toBe(0);
      const files = await readdir(plain.runRoot);
      expect(files).not.toContain('console-token');
      expect(files).not.toContain('console-api.sock');
      expect(await plain.stop()).toBe(0);

      // A bad address or a port taken: the engine says so and exits (killed after 20 s if it does not).
      const serve = (address: string) =>
        spawnSync(process.execPath, [MAIN, 'serve', '--socket', plain.socket, '--root', plain.root, '--run-root', plain.runRoot, '--console', address], {
          encoding: 'utf8',
          timeout: 20_000,
        });
      const bad = serve('localhost:port');
      expect([bad.status, bad.stderr]).toEqual([1, 'berth: --console: expected [HOST:]PORT, got "localhost:port"\n']);
      const taken = new URL(c.origin).port;
      const busy = serve(`127.0.0.1:${taken}`);
      expect(busy.status).toBe(1);
      expect(busy.stderr).toMatch(new RegExp(`--console 127.0.0.1:${taken}: .*EADDRINUSE`));
      expect(await readdir(plain.runRoot)).not.toContain('console-api.sock');

      await plain.start([], { BERTH_CONSOLE: '127.0.0.1:0' });
      await until(() => /console at http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}\n/.test(plain.stderr));
      expect(await tcpListeners(plain.process!.pid!)).toBe(1);
      expect(await readdir(plain.runRoot)).toContain('console-token');
      expect(await plain.stop()).toBe(0);
      const after = await readdir(plain.runRoot);
      expect(after).not.toContain('console-token');
      expect(after).not.toContain('console-api.sock');
    } finally {
      await plain.destroy();
    }
  });
});

describe('under socket activation', () => {
  it('proxies to the engine that systemd started on an fd (it has no socket path of its own)', async () => {
    const activated = await TestEngine.create();
    const activator = spawn(
      'systemd-socket-activate',
      ['-l', activated.socket, '--', process.execPath, MAIN, 'serve', '--root', activated.root, '--run-root', activated.runRoot, '--console', '127.0.0.1:0'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    activator.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      await until(async () => (await stat(activated.socket).catch(() => undefined)) !== undefined);
      // The first connection starts the engine, and with it the console.
      expect((await activated.http('GET', '/_ping')).status).toBe(200);
      await until(() => /console at /.test(stderr));
      const [, origin, token] = /console at (http:\/\/[^/\s]+)\/\?token=([0-9a-f]+)/.exec(stderr)!;
      const res = await fetch(`${origin}/api/v1.50/version`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { ApiVersion: string }).ApiVersion).toBe('1.50');
    } finally {
      const exited = once(activator, 'exit');
      activator.kill('SIGTERM');
      await exited;
      await activated.destroy();
    }
  });
});
