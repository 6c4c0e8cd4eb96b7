// The first steps of podman --remote against berth, beside Podman's own service: ping, version, info.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestEngine } from '../helpers/engine.js';
import { PodmanService, podmanClient, type PodmanClient } from '../helpers/podman.js';

let engine: TestEngine;
let berth: PodmanClient;
let oracle: PodmanService;
beforeAll(async () => {
  [engine, oracle] = await Promise.all([TestEngine.start(), PodmanService.start()]);
  berth = await podmanClient(engine.socket, engine.dir);
});
afterAll(async () => {
  await Promise.all([engine?.destroy(), oracle?.stop()]);
});

describe('podman --remote', () => {
  it('shows the server version as against podman', async () => {
    const format = ['version', '--format', '{{.Server.APIVersion}} {{.Server.Os}}'];
    const [ours, theirs] = await Promise.all([berth.podman(format), oracle.podman(format)]);
    expect(theirs.code).toBe(0);
    expect(ours).toMatchObject({ code: 0, stderr: '', stdout: theirs.stdout });
  });

  it('shows info: the store, the host and the OCI runtime', async () => {
    const format = ['info', '--format', '{{.Store.GraphDriverName}} {{.Host.OCIRuntime.Name}} {{.Host.NetworkBackend}} {{.Host.Security.Rootless}}'];
    const [ours, theirs] = await Promise.all([berth.podman(format), oracle.podman(format)]);
    expect(theirs.code).toBe(0);
    expect(ours).toMatchObject({ code: 0, stderr: '', stdout: theirs.stdout });
  });

  it('answers every request with the headers podman sends', async () => {
    const ping = await engine.http('GET', '/v4.3.1/libpod/_ping');
    expect(ping.headers).toMatchObject({
      'libpod-api-version': '4.3.1',
      'libpod-buildah-version': '1.28.2',
      'api-version': '1.41',
      server: 'Libpod/4.3.1 (linux)',
    });
    expect(ping.headers['x-reference-id']).toMatch(/^0x[0-9a-f]+$/);
  });
});
