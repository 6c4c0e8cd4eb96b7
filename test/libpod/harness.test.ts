// The first steps of podman --remote against berth, beside Podman's own service: ping, version, info.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TestEngine, run } from '../helpers/engine.js';
import { PodmanService, podmanClient, type PodmanClient } from '../helpers/podman.js';
import { HOST_NETAVARK_LOCK } from '../../runtime/network/netavark.js';

const images = inject('images');

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

  // berth's netavark and the oracle's, set up side by side, raced on shared chains (the oracle's
  // `iptables: Chain already exists`): the oracle's now waits for berth's host lock.
  it("the oracle's netavark waits for berth's host netavark lock", async () => {
    expect((await oracle.podman(['load', '-i', images.busybox.archive])).code).toBe(0);
    // Holds the lock until its stdin ends (cat then exits, and flock with it).
    const holder = spawn('flock', ['-o', HOST_NETAVARK_LOCK, 'cat'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const exited = once(holder, 'exit');
    try {
      for (let i = 0; i < 50 && (await run('flock', ['-n', HOST_NETAVARK_LOCK, 'true'])).code === 0; i++) await new Promise((r) => setTimeout(r, 100));
      const started = oracle.podman(['run', '-d', '--name', 'lock-wait', 'busybox', 'sleep', '100']);
      const first = await Promise.race([started.then(() => 'ran'), new Promise((r) => setTimeout(() => r('waited'), 4000))]);
      holder.stdin.end();
      expect(first).toBe('waited');
      const r = await started;
      expect(r.code, r.stderr).toBe(0);
    } finally {
      holder.stdin.end();
      await exited;
      await oracle.podman(['rm', '-f', '-t', '0', 'lock-wait']);
    }
  });
});
