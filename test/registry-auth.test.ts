// Logins and credentials against real registries: htpasswd Basic auth and distribution's token auth
// (with a token server the test runs); mirrors and blocked registries from registries.conf.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inject } from 'vitest';
import { TEST_BASE, TestEngine, run } from './helpers/engine.js';
import { cliOf } from './helpers/cli.js';
import { TestRegistry } from './helpers/registry.js';
import { startTokenServer, type TokenServer } from './helpers/token-server.js';

const images = inject('images');
let dir: string;
let basic: TestRegistry;
let tokens: TokenServer;
let tokenRegistry: TestRegistry;
let mirror: TestRegistry;
let origin: TestRegistry;
let engine: TestEngine;

beforeAll(async () => {
  dir = await mkdtemp(join(TEST_BASE, 'berth-auth-'));
  // htpasswd wants bcrypt: Python's crypt gives it (cost 4: the registry checks it on every request).
  const hash = (
    await run('python3', ['-c', 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))', 'secret'])
  ).stdout.trim();
  await writeFile(join(dir, 'htpasswd'), `alice:${hash}\n`);
  basic = await TestRegistry.start(`auth:\n  htpasswd: {realm: berth-basic, path: ${join(dir, 'htpasswd')}}`);
  tokens = await startTokenServer(dir, { alice: 'secret' });
  tokenRegistry = await TestRegistry.start(
    `auth:\n  token: {realm: "${tokens.realm}", service: ${tokens.service}, issuer: ${tokens.issuer}, rootcertbundle: ${tokens.certFile}}`,
  );
  mirror = await TestRegistry.start();
  origin = await TestRegistry.start();
  await mirror.pushArchive(images.busybox.archive, 'mirrored/busybox:latest');
  await writeFile(
    join(dir, 'registries.conf'),
    [
      '[[registry]]',
      `location = "${origin.host}"`,
      '[[registry.mirror]]',
      'location = "127.0.0.1:1"', // down: skipped
      '[[registry.mirror]]',
      `location = "${mirror.host}"`,
      '[[registry]]',
      'location = "127.0.0.1:2"',
      'blocked = true',
    ].join('\n'),
  );
  engine = await TestEngine.start(['--registries-conf', join(dir, 'registries.conf')]);
  expect((await engine.docker(['load', '-i', images.busybox.archive])).code).toBe(0);
}, 90_000);
afterAll(async () => {
  await engine?.destroy();
  for (const r of [basic, tokenRegistry, mirror, origin]) await r?.stop();
  await tokens?.close();
  await rm(dir, { recursive: true, force: true });
});

const { docker, ok, env: cliEnv } = cliOf(() => engine);

describe('Basic auth (htpasswd)', () => {
  it('logs in, pushes and pulls with the stored credentials, and logs out', async () => {
    const name = `${basic.host}/private/busybox:1`;
    await ok(['tag', 'busybox', name]);
    const denied = await docker(['push', name]);
    expect(denied.code).toBe(1);
    expect(denied.stderr + denied.stdout).toMatch(/unauthorized|authentication required/);
    const wrong = await docker(['login', '-u', 'alice', '--password-stdin', basic.host], 'nope\n');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/401 Unauthorized/);
    expect(await ok(['login', '-u', 'alice', '--password-stdin', basic.host], 'secret\n')).toContain('Login Succeeded');
    expect(await ok(['push', name])).toMatch(/1: digest: sha256:/);
    await ok(['rmi', name]);
    expect(await ok(['pull', name])).toContain(`Downloaded newer image for ${name}`);
    expect(await ok(['logout', basic.host])).toContain(`Removing login credentials for ${basic.host}`);
    const after = await docker(['pull', name]);
    expect(after.code).toBe(1);
  });
});

describe('token auth', () => {
  it('pulls anonymously where the token server allows it, and pushes after docker login', async () => {
    const name = `${tokenRegistry.host}/public/busybox:1`;
    await ok(['tag', 'busybox', name]);
    expect((await docker(['push', name])).code).toBe(1); // anonymous tokens carry no push
    const wrong = await docker(['login', '-u', 'alice', '--password-stdin', tokenRegistry.host], 'nope\n');
    expect(wrong.code).toBe(1);
    expect(await ok(['login', '-u', 'alice', '--password-stdin', tokenRegistry.host], 'secret\n')).toContain('Login Succeeded');
    expect(await ok(['push', name])).toMatch(/1: digest: sha256:/);
    expect(tokens.requests.some((r) => r.authenticated && r.scope === 'repository:public/busybox:pull,push')).toBe(true);
    await ok(['logout', tokenRegistry.host]);
    await ok(['rmi', name]);
    const before = tokens.requests.length;
    expect(await ok(['pull', name])).toContain(`Downloaded newer image for ${name}`);
    expect(tokens.requests.slice(before).every((r) => !r.authenticated && r.scope === 'repository:public/busybox:pull')).toBe(true);
    const privateRepo = await docker(['pull', `${tokenRegistry.host}/private/thing:1`]);
    expect(privateRepo.code).toBe(1);
    expect(privateRepo.stderr).toMatch(/pull access denied|unauthorized|denied/);
  });
});

describe('identity tokens', () => {
  it('answers a login with the refresh token the token server gave, and later uses it (OAuth refresh grant)', async () => {
    const login = await engine.http('POST', '/auth', { username: 'alice', password: 'secret', serveraddress: tokenRegistry.host });
    expect(login.status).toBe(200);
    const { Status, IdentityToken } = login.json();
    expect(Status).toBe('Login Succeeded');
    expect(IdentityToken).toMatch(/^[0-9a-f]{32}$/);
    const name = `${tokenRegistry.host}/private/idtoken:1`;
    await ok(['tag', 'busybox', name]);
    const auth = Buffer.from(JSON.stringify({ identitytoken: IdentityToken, serveraddress: tokenRegistry.host })).toString('base64url');
    const before = tokens.requests.length;
    const push = await engine.http('POST', `/images/${name}/push`, undefined, { 'x-registry-auth': auth });
    expect(push.status).toBe(200);
    expect(push.body.toString()).toMatch(/"Digest":"sha256:/);
    expect(tokens.requests.slice(before).some((r) => r.grant === 'refresh_token' && r.authenticated)).toBe(true);
    const bad = Buffer.from(JSON.stringify({ identitytoken: 'nope', serveraddress: tokenRegistry.host })).toString('base64url');
    const denied = await engine.http('POST', `/images/${name}/push`, undefined, { 'x-registry-auth': bad });
    expect(denied.body.toString()).toMatch(/invalid refresh token|unauthorized/);
  });
});

describe('registries.conf', () => {
  it('pulls through a mirror, skipping one that is down, and refuses a blocked registry', async () => {
    // Only the mirror has this image: the pull can only have come from it.
    const name = `${origin.host}/mirrored/busybox:latest`;
    expect(await ok(['pull', name])).toContain(`Downloaded newer image for ${name}`);
    expect((await ok(['image', 'inspect', '-f', '{{.Id}}', name])).trim()).toBe(images.busybox.id);
    const blocked = await docker(['pull', '127.0.0.1:2/anything']);
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toContain('blocked');
  });
});
