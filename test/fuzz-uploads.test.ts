// Hostile uploads: truncated, corrupted and random archives and bodies, fed to every endpoint that takes
// one, and clients that vanish mid-upload. The engine must answer each with a 4xx (never a 5xx, never a
// hang) and still be up after it. Deterministic per seed: FUZZ_SEED=<n> replays a failing run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { TestEngine } from './helpers/engine.js';
import { dockerArchive, tarOf } from './helpers/archive.js';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const CASES_PER_ENDPOINT = Number(process.env.FUZZ_CASES ?? 40);
const REQUEST_TIMEOUT_MS = 15_000;

/** mulberry32: small, fast, good enough to pick mutations. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]) => xs[int(xs.length)]!, bytes: (n: number) => Buffer.from(Array.from({ length: n }, () => int(256))) };
}
type Rng = ReturnType<typeof prng>;

/** A mutation of a valid input that leaves it broken: which one and how is printed with a failure. */
interface Mutant {
  what: string;
  body: Buffer;
  /** Whether the result can still be a valid input (a flipped byte in padding): then 2xx is fine too. */
  mayBeValid: boolean;
}

function mutate(rng: Rng, valid: Buffer): Mutant {
  switch (rng.int(8)) {
    case 0: {
      // Cut inside the data: never at the very end (that is the valid input).
      const at = 1 + rng.int(Math.max(1, valid.length - 1024 - 1));
      return { what: `truncated at ${at}/${valid.length}`, body: valid.subarray(0, at), mayBeValid: false };
    }
    case 1: {
      const body = Buffer.from(valid);
      const flips = 1 + rng.int(16);
      for (let i = 0; i < flips; i++) body[rng.int(body.length)] = rng.int(256);
      return { what: `${flips} random bytes set`, body, mayBeValid: true };
    }
    case 2: {
      // A tar header's size field (or anything in the first header) rewritten with digits or junk.
      const body = Buffer.from(valid);
      const block = 512 * rng.int(Math.min(8, Math.floor(body.length / 512)));
      const field = rng.pick([
        [124, 12],
        [148, 8],
        [100, 8],
        [156, 1],
        [0, 100],
        [257, 6],
      ] as const);
      body.write(rng.pick(['77777777777', '99999999999', '\0\0\0\0', 'zzzzzzz', '-1', String(rng.int(1e9))]), block + field[0], field[1], 'latin1');
      return { what: `header field at ${block + field[0]} rewritten`, body, mayBeValid: true };
    }
    case 3:
      return { what: 'random bytes', body: rng.bytes(1 + rng.int(4096)), mayBeValid: false };
    case 4: {
      const gz = gzipSync(valid);
      const at = 2 + rng.int(gz.length - 10);
      return { what: `gzip truncated at ${at}/${gz.length}`, body: gz.subarray(0, at), mayBeValid: false };
    }
    case 5: {
      const gz = gzipSync(valid);
      const body = Buffer.from(gz);
      for (let i = 0; i < 4; i++) body[10 + rng.int(body.length - 10)] = rng.int(256);
      return { what: 'gzip corrupted', body, mayBeValid: true };
    }
    case 6:
      return { what: 'gzip of random bytes', body: gzipSync(rng.bytes(1 + rng.int(8192))), mayBeValid: false };
    default: {
      // Magic numbers of the other compressions, then junk: the tools must fail, not the engine.
      const magic = rng.pick([Buffer.from('BZh91AY&SY'), Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.from([0x28, 0xb5, 0x2f, 0xfd])]);
      return {
        what: `compression magic ${magic.subarray(0, 3).toString('hex')} + junk`,
        body: Buffer.concat([magic, rng.bytes(rng.int(2048))]),
        mayBeValid: false,
      };
    }
  }
}

/** Deep nesting, truncation, garbage: JSON bodies no endpoint can accept. */
function brokenJson(rng: Rng, valid: object): Mutant {
  const text = JSON.stringify(valid);
  switch (rng.int(5)) {
    case 0: {
      const at = 1 + rng.int(text.length - 1);
      return { what: `JSON truncated at ${at}`, body: Buffer.from(text.slice(0, at)), mayBeValid: false };
    }
    case 1: {
      const depth = rng.pick([600, 5000, 100_000]);
      return { what: `JSON nested ${depth} deep`, body: Buffer.from(`{"x":${'['.repeat(depth)}${']'.repeat(depth)}}`), mayBeValid: false };
    }
    case 2:
      return { what: 'random bytes as JSON', body: rng.bytes(1 + rng.int(512)), mayBeValid: false };
    case 3: {
      const depth = rng.pick([5000, 50_000]);
      return { what: `JSON object nested ${depth} deep`, body: Buffer.from('{"a":'.repeat(depth) + '1' + '}'.repeat(depth)), mayBeValid: false };
    }
    default:
      return { what: 'JSON with a broken string', body: Buffer.from(text.replace(/"([^"]*)"/, '"\\u12$1"')), mayBeValid: false };
  }
}

interface Answer {
  status: number;
  body: string;
}

/** One request with a timeout; `cutAfter` sends that many bytes of the body and then drops the connection. */
function send(socketPath: string, method: string, path: string, body: Buffer, contentType: string, cutAfter?: number): Promise<Answer | 'cut'> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath, method, path, headers: { 'content-type': contentType, 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`));
    }, REQUEST_TIMEOUT_MS);
    req.on('error', (err) => {
      clearTimeout(timer);
      if (cutAfter !== undefined) resolve('cut');
      else reject(err);
    });
    if (cutAfter === undefined) {
      req.end(body);
      return;
    }
    req.write(body.subarray(0, cutAfter), () =>
      setTimeout(() => {
        clearTimeout(timer);
        req.destroy();
        resolve('cut');
      }, 50),
    );
  });
}

let engine: TestEngine;
let containerId: string;
const valid: Record<string, Buffer> = {};

beforeAll(async () => {
  engine = await TestEngine.start();
  const layer = await tarOf([
    { name: 'bin/', type: 'directory' },
    { name: 'bin/sh', content: '#!/bin/true\n', mode: 0o755 },
    { name: 'etc/', type: 'directory' },
    { name: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\n' },
    { name: 'etc/link', type: 'symlink', linkname: 'passwd' },
  ]);
  const { archive } = await dockerArchive([layer], 'fuzz-base:1');
  valid.load = archive;
  valid.import = layer;
  valid.build = await tarOf([
    { name: 'Dockerfile', content: 'FROM scratch\nCOPY a /a\n' },
    { name: 'a', content: 'hello\n' },
  ]);
  valid.cp = await tarOf([
    { name: 'dir/', type: 'directory' },
    { name: 'dir/f', content: 'x'.repeat(3000) },
    { name: 'dir/l', type: 'symlink', linkname: 'f' },
  ]);
  expect((await engine.http('POST', '/images/load?quiet=1', archive, { 'content-type': 'application/x-tar' })).status).toBe(200);
  const created = await engine.http('POST', '/containers/create', { Image: 'fuzz-base:1', Cmd: ['/bin/sh'] });
  expect(created.status).toBe(201);
  containerId = created.json().Id;
}, 60_000);

afterAll(async () => {
  await engine?.destroy();
});

/** Sends every case, checking after each that the engine answers /_ping; returns what each got. */
async function run(name: string, path: string, contentType: string, make: (rng: Rng) => Mutant) {
  const rng = prng(SEED ^ [...name].reduce((h, c) => Math.imul(h, 31) + c.charCodeAt(0), 7));
  const seen: string[] = [];
  for (let i = 0; i < CASES_PER_ENDPOINT; i++) {
    const m = make(rng);
    const cut = rng.int(6) === 0 ? rng.int(m.body.length) : undefined;
    const label = `seed ${SEED} ${name} case ${i}: ${m.what}${cut !== undefined ? `, client gone after ${cut} bytes` : ''}`;
    let answer: Answer | 'cut';
    try {
      answer = await send(engine.socket, 'POST', path, m.body, contentType, cut);
    } catch (err) {
      throw new Error(`${label}: ${(err as Error).message}\nengine stderr: ${engine.stderr.slice(-2000)}`);
    }
    const ping = await send(engine.socket, 'GET', '/_ping', Buffer.alloc(0), 'text/plain').catch((err: Error) => err);
    expect(ping instanceof Error ? `${ping.message}\n${engine.stderr.slice(-2000)}` : (ping as Answer).status, `${label}: engine gone`).toBe(200);
    if (answer === 'cut') continue;
    const ok = answer.status >= 400 && answer.status < 500 ? true : m.mayBeValid && answer.status < 300;
    expect(ok, `${label}: answered ${answer.status} ${answer.body.slice(0, 300)}`).toBe(true);
    if (answer.status >= 400) expect(() => JSON.parse(answer.body).message, `${label}: not Docker's error shape: ${answer.body.slice(0, 200)}`).not.toThrow();
    seen.push(`${answer.status}`);
  }
  return seen;
}

/** What the engine keeps between requests must not grow with refused ones. */
async function expectNoStaging() {
  for (let i = 0; i < 50; i++) {
    if ((await readdir(join(engine.root, 'tmp'))).length === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(await readdir(join(engine.root, 'tmp'))).toEqual([]);
}

describe(`fuzzed uploads (FUZZ_SEED=${SEED})`, () => {
  it('POST /images/load', async () => {
    await run('load', '/images/load?quiet=1', 'application/x-tar', (rng) => mutate(rng, valid.load!));
    await expectNoStaging();
  }, 120_000);

  it('POST /images/create?fromSrc=- (import)', async () => {
    await run('import', '/images/create?fromSrc=-&repo=fuzz-import&tag=1', 'application/x-tar', (rng) => mutate(rng, valid.import!));
    await expectNoStaging();
  }, 120_000);

  it('POST /build', async () => {
    await run('build', '/build?t=fuzz-build:1&rm=1&forcerm=1', 'application/x-tar', (rng) => mutate(rng, valid.build!));
    await expectNoStaging();
  }, 120_000);

  it('PUT /containers/{id}/archive', async () => {
    const rng = prng(SEED);
    for (let i = 0; i < CASES_PER_ENDPOINT; i++) {
      const m = mutate(rng, valid.cp!);
      const label = `seed ${SEED} cp case ${i}: ${m.what}`;
      const answer = await send(engine.socket, 'PUT', `/containers/${containerId}/archive?path=/`, m.body, 'application/x-tar').catch((err: Error) => err);
      const ping = await send(engine.socket, 'GET', '/_ping', Buffer.alloc(0), 'text/plain').catch((err: Error) => err);
      expect(ping instanceof Error ? `${ping.message}\n${engine.stderr.slice(-2000)}` : (ping as Answer).status, `${label}: engine gone`).toBe(200);
      expect(answer instanceof Error ? answer.message : 'answered', label).toBe('answered');
      const { status, body } = answer as Answer;
      expect((status >= 400 && status < 500) || (m.mayBeValid && status < 300), `${label}: answered ${status} ${body.slice(0, 300)}`).toBe(true);
    }
  }, 120_000);

  const jsonEndpoints: [string, string, object][] = [
    ['create', '/containers/create', { Image: 'fuzz-base:1', Cmd: ['/bin/sh'], Env: ['A=1'], HostConfig: { Binds: [] } }],
    ['network', '/networks/create', { Name: 'fuzz-net', Driver: 'bridge', Labels: { a: 'b' } }],
    ['volume', '/volumes/create', { Name: 'fuzz-vol', Labels: { a: 'b' } }],
    ['exec', '/containers/CID/exec', { Cmd: ['/bin/sh'], AttachStdout: true }],
  ];
  for (const [name, path, body] of jsonEndpoints) {
    it(`JSON body of POST ${path}`, async () => {
      await run(`json-${name}`, path.replace('CID', containerId), 'application/json', (rng) => brokenJson(rng, body));
    }, 120_000);
  }
});
