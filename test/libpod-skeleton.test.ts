// The libpod API's skeleton: its versioned paths (/v4.x.x/libpod/...), the first calls podman --remote
// makes (_ping twice, then version), info, and libpod's error body beside Docker's.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TestEngine } from './helpers/engine.js';

const images = inject('images');
let engine: TestEngine;
beforeAll(async () => {
  engine = await TestEngine.start();
});
afterAll(async () => {
  await engine?.destroy();
});

describe('the libpod API', () => {
  it.each(['/v4.3.1/libpod/_ping', '/v5.2.0/libpod/_ping', '/v4.0.0/libpod/_ping', '/libpod/_ping'])(
    'GET %s answers OK with a libpod version ≥ 4.0.0',
    async (path) => {
      const res = await engine.http('GET', path);
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('OK');
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
      const version = String(res.headers['libpod-api-version']).split('.').map(Number);
      expect(version[0]).toBeGreaterThanOrEqual(4);
    },
  );

  it('HEAD /libpod/_ping answers 200 with its headers, as podman does', async () => {
    const res = await engine.http('HEAD', '/v4.3.1/libpod/_ping');
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(0);
    expect(String(res.headers['libpod-api-version'])).toMatch(/^[4-9]\./);
  });

  it('answers version with the engine component podman reads', async () => {
    const res = await engine.http('GET', '/v4.3.1/libpod/version');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    const body = res.json();
    const podman = body.Components.find((c: { Name: string }) => c.Name === 'Podman Engine');
    expect(podman.Details.APIVersion).toBe(res.headers['libpod-api-version']);
    expect(podman.Details.MinAPIVersion).toBe('4.0.0');
    expect(body.Os).toBe('linux');
    expect(body.KernelVersion).not.toBe('');
  });

  it('answers info with the host, the store and the version', async () => {
    const res = await engine.http('GET', '/v5.2.0/libpod/info');
    expect(res.status).toBe(200);
    const body = res.json();
    expect(body.host.os).toBe('linux');
    expect(body.host.cpus).toBeGreaterThan(0);
    expect(body.host.ociRuntime.name).toMatch(/runc|crun/);
    expect(body.store.graphRoot).toBe(engine.root);
    expect(body.store.containerStore).toEqual({ number: 0, paused: 0, running: 0, stopped: 0 });
    expect(body.version.APIVersion).toBe(res.headers['libpod-api-version']);
  });

  it("answers an unknown container with libpod's error body on libpod paths and Docker's on Docker paths", async () => {
    const libpod = await engine.http('GET', '/v4.3.1/libpod/containers/nosuchctr/exists');
    expect(libpod.status).toBe(404);
    expect(libpod.headers['content-type']).toBe('application/json');
    expect(libpod.json()).toEqual({ cause: 'no such container', message: 'no container with name or ID "nosuchctr" found: no such container', response: 404 });

    const docker = await engine.http('GET', '/v1.41/containers/nosuchctr/json');
    expect(docker.status).toBe(404);
    expect(docker.json()).toEqual({ message: 'No such container: nosuchctr' });
  });

  it('answers 204 for a container that exists, by name or ID', async () => {
    expect((await engine.docker(['load', '-i', images.busybox.archive])).code).toBe(0);
    const created = await engine.docker(['create', '--name', 'libpod-exists', 'busybox', 'true']);
    expect(created.code).toBe(0);
    const id = created.stdout.trim();
    try {
      expect((await engine.http('GET', '/v4.3.1/libpod/containers/libpod-exists/exists')).status).toBe(204);
      expect((await engine.http('GET', `/v4.3.1/libpod/containers/${id.slice(0, 12)}/exists`)).status).toBe(204);
    } finally {
      await engine.docker(['rm', '-f', id]);
    }
  });

  it("answers an unknown libpod path with Go's plain 404, and Docker's unknown path with its JSON", async () => {
    const libpod = await engine.http('POST', '/v4.3.1/libpod/containers/abc/shouldrestart');
    expect(libpod.status).toBe(404);
    expect(libpod.body.toString()).toBe('Not Found\n');
    const docker = await engine.http('GET', '/v1.41/nosuchpath');
    expect(docker.status).toBe(404);
    expect(docker.json()).toEqual({ message: 'page not found' });
  });

  it('refuses a Docker version out of range but not a libpod one', async () => {
    expect((await engine.http('GET', '/v9.99/_ping')).status).toBe(400);
    expect((await engine.http('GET', '/v9.9.9/libpod/_ping')).status).toBe(200);
  });
});
