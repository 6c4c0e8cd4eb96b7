// The API surface every client meets first: ping, versions, headers, errors, version and info.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { TestEngine } from './helpers/engine.js';

let engine: TestEngine;
beforeAll(async () => {
  engine = await TestEngine.start();
});
afterAll(async () => {
  await engine?.destroy();
});

describe('ping and versions', () => {
  it.each(['/_ping', '/v1.41/_ping', '/v1.50/_ping', '/v1.24/_ping'])('GET %s answers OK with Docker headers', async (path) => {
    const res = await engine.http('GET', path);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('OK');
    expect(res.headers['api-version']).toBe('1.50');
    expect(res.headers['builder-version']).toBe('1');
    expect(res.headers['cache-control']).toBe('no-cache, no-store, must-revalidate');
    expect(res.headers['pragma']).toBe('no-cache');
    expect(res.headers['ostype']).toBe('linux');
    expect(res.headers['docker-experimental']).toBe('false');
    expect(res.headers['server']).toMatch(/^Berth\//);
  });

  it('HEAD /_ping answers with headers and no body', async () => {
    const res = await engine.http('HEAD', '/_ping');
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(0);
    expect(res.headers['api-version']).toBe('1.50');
  });

  it('answers HEAD on a GET-only route as dockerd does: 404 page not found (only /_ping and the archive take HEAD)', async () => {
    for (const path of ['/v1.41/version', '/containers/json', '/v1.41/info']) {
      const res = await engine.http('HEAD', path);
      expect(res.status).toBe(404);
      expect(res.body.length).toBe(0);
      expect(res.headers['content-type']).toBe('application/json');
    }
  });

  it('refuses versions it does not speak, with Docker messages', async () => {
    const tooNew = await engine.http('GET', '/v1.51/version');
    expect(tooNew.status).toBe(400);
    expect(tooNew.json()).toEqual({ message: 'client version 1.51 is too new. Maximum supported API version is 1.50' });
    const tooOld = await engine.http('GET', '/v1.11/version');
    expect(tooOld.status).toBe(400);
    expect(tooOld.json().message).toMatch(/^client version 1.11 is too old. Minimum supported API version is 1.12/);
  });

  it('answers unknown routes with 404 page not found, with the common headers', async () => {
    const res = await engine.http('GET', '/v1.41/nosuch/route');
    expect(res.status).toBe(404);
    expect(res.json()).toEqual({ message: 'page not found' });
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['api-version']).toBe('1.50');
  });

  it('serves its OpenAPI document', async () => {
    const res = await engine.http('GET', '/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/_ping', '/version', '/info', '/images/json', '/images/{name}/json', '/images/load']));
    expect(doc.paths['/images/json'].get.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['all', 'filters']));
  });
});

describe('version and info through the docker CLI', () => {
  it('docker version shows the server, negotiated at 1.50', async () => {
    const res = await engine.docker(['version']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/Server:/);
    expect(res.stdout).toMatch(/API version:\s+1\.50 \(minimum version 1\.12\)/);
    const json = JSON.parse((await engine.docker(['version', '--format', '{{json .Server}}'])).stdout);
    expect(json.ApiVersion).toBe('1.50');
    expect(json.Os).toBe('linux');
  });

  it('docker info renders without warnings, with the host facts', async () => {
    const res = await engine.docker(['info']);
    expect(res.code).toBe(0);
    expect(res.stderr).toBe('');
    expect(res.stdout).toMatch(/Storage Driver: overlay2/);
    expect(res.stdout).toMatch(/Cgroup Version: [12]/);
    expect(res.stdout).toMatch(/Default Runtime: runc/);
    expect(res.stdout).toMatch(/Runtimes:.*runc/);
    expect(res.stdout).toContain(`Docker Root Dir: ${engine.root}`);
    const info = JSON.parse((await engine.docker(['info', '--format', '{{json .}}'])).stdout);
    expect(info.NCPU).toBeGreaterThan(0);
    expect(info.MemTotal).toBeGreaterThan(0);
    expect(info.Images).toBe(0);
    expect(info.CgroupVersion).toBe(existsSync('/sys/fs/cgroup/cgroup.controllers') ? '2' : '1');
  });
});

describe('errors as the docker CLI reads them', () => {
  it('prints the message of an error, not its JSON', async () => {
    const res = await engine.docker(['image', 'inspect', 'nosuch']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('Error response from daemon: No such image: nosuch:latest');
    expect(res.stderr).not.toContain('{"message"');
  });
});

describe('lenient parsing', () => {
  it('accepts Python booleans and both filter shapes', async () => {
    for (const all of ['True', 'False', '1', '0', 'true', 'no', 'none']) {
      expect((await engine.http('GET', `/images/json?all=${all}`)).status).toBe(200);
    }
    const map = await engine.http('GET', '/images/json?filters=' + encodeURIComponent('{"label":{"a=b":true}}'));
    const list = await engine.http('GET', '/images/json?filters=' + encodeURIComponent('{"label": ["a=b"]}'));
    expect([map.status, list.status]).toEqual([200, 200]);
  });

  it('rejects malformed filters and unknown filter keys with 400', async () => {
    const bad = await engine.http('GET', '/images/json?filters=' + encodeURIComponent('{nope'));
    expect(bad.status).toBe(400);
    expect(bad.json().message).toMatch(/invalid filter/);
    const unknown = await engine.http('GET', '/images/json?filters=' + encodeURIComponent('{"color":["red"]}'));
    expect(unknown.status).toBe(400);
    expect(unknown.json().message).toBe("invalid filter 'color'");
  });

  it('ignores unknown query parameters and accepts an empty JSON body', async () => {
    const res = await engine.http('POST', '/images/prune?whatever=1', '', { 'content-type': 'application/json' });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ ImagesDeleted: null, SpaceReclaimed: 0 });
  });

  it('answers invalid JSON with 400', async () => {
    const res = await engine.http('POST', '/images/prune', '{oops', { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(res.json().message).toMatch(/invalid JSON/);
  });
});
