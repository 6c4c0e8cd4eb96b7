// The kube round trip on berth alone: a pod made with podman --remote, written out by `generate kube`
// (valid Kubernetes), removed, and played back from that YAML gives an equivalent pod: the same
// members with the same command, environment, working directory, volume and published port.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { PersistentVolumeClaim, Pod, Service } from 'kubernetes-models/v1';
import { TEST_BASE, TestEngine } from '../helpers/engine.js';
import { podmanClient, type PodmanClient } from '../helpers/podman.js';

const images = inject('images');
let engine: TestEngine;
let berth: PodmanClient;
let dir: string;

beforeAll(async () => {
  engine = await TestEngine.start();
  berth = await podmanClient(engine.socket, engine.dir);
  await berth.ok(['load', '-i', images.busybox.archive]);
  dir = await mkdtemp(join(TEST_BASE, 'berth-kube-rt-'));
}, 120_000);
afterAll(async () => {
  await berth?.podman(['pod', 'rm', '-af', '-t', '0']);
  await engine?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** What makes two members equivalent, from podman's inspect. */
async function member(name: string) {
  const [c] = JSON.parse(await berth.ok(['inspect', name]));
  return {
    // podman 4.3's inspect shows the entrypoint as one string (kube's `command` becomes the entrypoint).
    command: [...(c.Config.Entrypoint ? String(c.Config.Entrypoint).split(' ') : []), ...(c.Config.Cmd ?? [])],
    env: (c.Config.Env as string[]).filter((e) => e.startsWith('APP_')).sort(),
    workdir: c.Config.WorkingDir,
    volumes: (c.Mounts as { Type: string; Name?: string; Destination: string }[]).map((m) => `${m.Type}:${m.Name ?? ''}:${m.Destination}`).sort(),
    running: c.State.Status,
  };
}

describe('generate kube, then play kube', () => {
  it('plays back an equivalent pod', async () => {
    const port = String(18600 + Math.floor(Math.random() * 300));
    await berth.ok(['volume', 'create', 'rtvol']);
    await berth.ok(['pod', 'create', '--name', 'rt', '-p', `${port}:80`]);
    await berth.ok([
      'run',
      '-d',
      '--pod',
      'rt',
      '--name',
      'web',
      '-e',
      'APP_MODE=prod',
      '-w',
      '/srv',
      '-v',
      'rtvol:/srv',
      'busybox',
      'httpd',
      '-f',
      '-p',
      '80',
      '-h',
      '/etc',
    ]);
    await berth.ok(['run', '-d', '--pod', 'rt', '--name', 'side', '-e', 'APP_PEER=web', 'busybox', 'sleep', '1000']);
    const before = { web: await member('web'), side: await member('side') };

    const yaml = await berth.ok(['generate', 'kube', '--service', 'rt']);
    const docs = parseAllDocuments(yaml).map((d) => d.toJS() as { kind: string });
    expect(docs.map((d) => d.kind).sort()).toEqual(['Pod', 'Service']); // the volume is a claim the Pod names (podman writes PVCs only for volumes named)
    for (const d of docs) {
      const model = d.kind === 'Pod' ? new Pod(d as never) : d.kind === 'Service' ? new Service(d as never) : new PersistentVolumeClaim(d as never);
      model.validate(); // throws on a document that is not valid Kubernetes
    }
    const file = join(dir, 'rt.yaml');
    await writeFile(file, yaml);

    await berth.ok(['pod', 'rm', '-f', '-t', '0', 'rt']);
    const played = await berth.ok(['play', 'kube', file]);
    expect(played).toMatch(/^Pod:\n[0-9a-f]{64}\nContainers?:\n/);
    // play kube names members <pod>-<container>.
    expect({ web: await member('rt-web'), side: await member('rt-side') }).toEqual(before);
    const res = await fetch(`http://127.0.0.1:${port}/hostname`);
    expect((await res.text()).trim()).toBe('rt');

    await berth.ok(['pod', 'stop', '-t', '0', 'rt']); // busybox as PID 1 ignores TERM: no 10 s wait in down
    await berth.ok(['play', 'kube', '--down', file]);
    expect(await berth.ok(['pod', 'ps', '-q'])).toBe('');
  });
});
