// kill -9 of the engine with pods running: the infra containers and members keep running (conmon
// holds them), and after the restart pod ps, pod stop/start and pod rm -f work on them as before.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TestEngine } from '../helpers/engine.js';
import { podmanClient, type PodmanClient } from '../helpers/podman.js';

const images = inject('images');
let engine: TestEngine;
let berth: PodmanClient;

beforeAll(async () => {
  engine = await TestEngine.start();
  expect((await engine.docker(['load', '-i', images.busybox.archive])).code).toBe(0);
  berth = await podmanClient(engine.socket, engine.dir);
});
afterAll(async () => {
  await berth?.podman(['pod', 'rm', '-af', '-t', '0']);
  await engine?.destroy();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const states = async () => (await berth.ok(['ps', '--filter', 'status=running', '--pod', '--format', '{{.Names}} {{.PodName}}', '--sort', 'names'])).trim();

/** Whether the pod verbs (pod start/stop: server/libpod/routes/pod-verbs.ts) are served by this build. */
async function podVerbsServed(): Promise<boolean> {
  const r = await engine.http('POST', '/v4.3.1/libpod/pods/no-such-pod/stop');
  return r.status !== 404 || !r.body.toString().startsWith('Not Found');
}

describe('kill -9 of the engine with pods', () => {
  it('leaves pods running and manages them after the restart', async () => {
    const podId = (await berth.ok(['pod', 'create', '--name', 'sp', '--infra-name', 'sp-infra', '-p', '18297:8080', '--memory', '64m'])).trim();
    await berth.ok([
      'run',
      '-d',
      '--pod',
      'sp',
      '--name',
      'spweb',
      'busybox',
      'sh',
      '-c',
      'mkdir -p /w && echo survived > /w/index.html && exec httpd -f -p 8080 -h /w',
    ]);
    await berth.ok(['run', '-d', '--pod', 'sp', '--name', 'spsleep', 'busybox', 'sleep', '600']);
    const before = await states();
    expect(before).toBe('sp-infra sp\nspsleep sp\nspweb sp');

    await engine.stop('SIGKILL');
    expect((await berth.podman(['pod', 'ps'])).code).not.toBe(0); // the engine is down
    // The pod's port still reaches its member with the engine away.
    expect(await (await fetch('http://127.0.0.1:18297/')).text()).toBe('survived\n');
    await sleep(500);
    await engine.start();

    expect(await states()).toBe(before);
    expect((await berth.ok(['pod', 'ps', '--format', '{{.Name}} {{.Status}} {{.NumberOfContainers}}'])).trim()).toBe('sp Running 3');
    expect((await berth.ok(['pod', 'inspect', '--format', '{{.Id}} {{.State}} {{.NumContainers}}', 'sp'])).trim()).toBe(`${podId} Running 3`);
    // Members still share the pod's network namespace.
    expect(await berth.ok(['exec', 'spsleep', 'wget', '-qO-', 'http://localhost:8080/'])).toBe('survived\n');
    // The pod's cgroup (made again at start if it were gone) still holds the limit.
    const cgroup = `/sys/fs/cgroup/memory/berth/pod-${podId}`;
    if (existsSync('/sys/fs/cgroup/memory/berth')) expect(existsSync(cgroup)).toBe(true);

    if (await podVerbsServed()) {
      await berth.ok(['pod', 'stop', '-t', '0', 'sp']);
      expect((await berth.ok(['pod', 'ps', '--format', '{{.Name}} {{.Status}}'])).trim()).toBe('sp Exited');
      await berth.ok(['pod', 'start', 'sp']);
      expect((await berth.ok(['pod', 'ps', '--format', '{{.Name}} {{.Status}}'])).trim()).toBe('sp Running');
    } else {
      // (pod stop/start not in this build: the members' own verbs.)
      await berth.ok(['stop', '-t', '0', 'spsleep']);
      expect((await berth.ok(['pod', 'ps', '--format', '{{.Name}} {{.Status}}'])).trim()).toBe('sp Degraded');
      await berth.ok(['start', 'spsleep']);
      expect((await berth.ok(['pod', 'ps', '--format', '{{.Name}} {{.Status}}'])).trim()).toBe('sp Running');
    }

    // Without -f the running members refuse removal; with it everything goes, the cgroup too.
    expect((await berth.podman(['pod', 'rm', 'sp'])).code).toBe(125);
    expect((await berth.ok(['pod', 'rm', '-f', '-t', '0', 'sp'])).trim()).toBe(podId);
    expect(await berth.ok(['ps', '-aq'])).toBe('');
    expect(await berth.ok(['pod', 'ps', '-q'])).toBe('');
    expect(existsSync(cgroup)).toBe(false);
  });
});
