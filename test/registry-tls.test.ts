// TLS registries with Docker's certs.d (a CA and a client certificate the registry demands), and
// search against a registry's v1 search API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { join } from 'node:path';
import { inject } from 'vitest';
import { TEST_BASE, TestEngine, run } from './helpers/engine.js';
import { TestRegistry } from './helpers/registry.js';

const images = inject('images');
let dir: string;
let registry: TestRegistry;
let engine: TestEngine;
let searchServer: Server;
let searchPort: number;

async function openssl(args: string[]) {
  const res = await run('openssl', args, { cwd: dir });
  if (res.code !== 0) throw new Error(`openssl ${args.join(' ')}: ${res.stderr}`);
}

beforeAll(async () => {
  dir = await mkdtemp(join(TEST_BASE, 'berth-tls-'));
  // A CA, a server certificate for 127.0.0.1 and a client certificate, both signed by it.
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=berth-test-ca', '-days', '2']);
  await writeFile(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  await openssl([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'san.ext',
  ]);
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=berth-client']);
  await openssl(['x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.cert', '-days', '2']);
  registry = await TestRegistry.start(
    `  tls:\n    certificate: ${join(dir, 'server.crt')}\n    key: ${join(dir, 'server.key')}\n    clientcas: [${join(dir, 'ca.crt')}]`,
    'https',
  );
  searchServer = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/v2/') return res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    if (url.pathname !== '/v1/search') return res.writeHead(404).end();
    const q = url.searchParams.get('q') ?? '';
    const all = [
      { name: 'library/busybox', description: 'Busybox base image.', star_count: 3000, is_official: true, is_automated: false },
      { name: 'someone/busybox-tools', description: 'tools', star_count: 2, is_official: false, is_automated: true },
      { name: 'other/thing', description: '', star_count: 0, is_official: false, is_automated: false },
    ];
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ query: q, num_results: 2, results: all.filter((r) => r.name.includes(q)).slice(0, Number(url.searchParams.get('n') ?? 25)) }));
  });
  searchServer.listen(0, '127.0.0.1');
  await once(searchServer, 'listening');
  searchPort = (searchServer.address() as { port: number }).port;
  engine = await TestEngine.start(['--certs-dir', join(dir, 'certs.d')]);
  expect((await engine.docker(['load', '-i', images.busybox.archive])).code).toBe(0);
}, 90_000);
afterAll(async () => {
  await engine?.destroy();
  await registry?.stop();
  searchServer?.close();
  await rm(dir, { recursive: true, force: true });
});

const docker = (args: string[]) => engine.docker(args);

describe('a TLS registry', () => {
  it('needs the client certificate from certs.d, and then pushes and pulls over TLS', async () => {
    const name = `${registry.host}/tls/busybox:1`;
    expect((await docker(['tag', 'busybox', name])).code).toBe(0);
    const without = await docker(['push', name]);
    expect(without.code).toBe(1); // the registry wants a client certificate: none configured yet
    const certs = join(dir, 'certs.d', registry.host);
    await mkdir(certs, { recursive: true });
    await run('cp', [join(dir, 'ca.crt'), join(dir, 'client.cert'), join(dir, 'client.key'), certs]);
    const pushed = await docker(['push', name]);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect((await docker(['rmi', name])).code).toBe(0);
    const pulled = await docker(['pull', name]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect((await docker(['image', 'inspect', '-f', '{{.Id}}', name])).stdout.trim()).toBe(images.busybox.id);
  });
});

describe('docker search', () => {
  it("lists a registry's search results, with limit and filters", async () => {
    const res = await docker(['search', '--format', '{{.Name}}|{{.StarCount}}|{{.IsOfficial}}', `127.0.0.1:${searchPort}/busybox`]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe(`127.0.0.1:${searchPort}/library/busybox|3000|[OK]\n127.0.0.1:${searchPort}/someone/busybox-tools|2|\n`);
    const filtered = await docker(['search', '--filter', 'is-official=true', '--format', '{{.Name}}', `127.0.0.1:${searchPort}/busybox`]);
    expect(filtered.stdout).toBe(`127.0.0.1:${searchPort}/library/busybox\n`);
    const limited = await engine.http('GET', `/images/search?term=127.0.0.1:${searchPort}/busybox&limit=1`);
    expect(limited.json()).toHaveLength(1);
    const noSearch = await engine.http('GET', `/images/search?term=${registry.host}/busybox`);
    expect(noSearch.status).toBeGreaterThanOrEqual(400); // distribution has no search API
  });
});
