// What berth writes, a real dockerd reads: `docker save` from berth loads into dockerd with the same IDs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { TestEngine } from './helpers/engine.js';
import { GOLDEN } from './helpers/golden.js';
import { ReferenceDockerd, haveDockerd } from './helpers/dockerd.js';

let engine: TestEngine;
let dockerd: ReferenceDockerd | undefined;

beforeAll(async () => {
  engine = await TestEngine.start();
  if (haveDockerd()) dockerd = await ReferenceDockerd.start();
});
afterAll(async () => {
  await engine?.destroy();
  await dockerd?.stop();
});

describe.skipIf(!haveDockerd())('against a reference dockerd (docker.io)', () => {
  it('loads an archive saved by berth with the same image IDs and tags', async () => {
    for (const f of ['dockerd-busybox.tar', 'podman-layered.oci-archive.tar']) {
      expect((await engine.docker(['load', '-i', join(GOLDEN, f)])).code).toBe(0);
    }
    const archive = join(engine.dir, 'to-dockerd.tar');
    const save = await engine.docker(['save', '-o', archive, 'busybox:latest', 'localhost/golden/layered:1.0']);
    expect(save.stderr).toBe('');
    const load = await dockerd!.docker(['load', '-i', archive]);
    expect(load.stderr).toBe('');
    expect(load.stdout).toContain('Loaded image: busybox:latest');
    expect(load.stdout).toContain('Loaded image: localhost/golden/layered:1.0');
    const ids = (await dockerd!.docker(['image', 'inspect', '--format', '{{.Id}}', 'busybox:latest', 'localhost/golden/layered:1.0'])).stdout
      .trim()
      .split('\n');
    expect(ids).toEqual([
      'sha256:97a1b8b6078fcd6bde4cfc4cfee09487bdfcf6a4370f638d8f245e9ba287731a',
      'sha256:b8efb374c09bd3da818366ac836d2c01876a86aba7c02275b09341f46f61f219',
    ]);
  });

  it('reports the same image sizes and history as dockerd', async () => {
    expect((await dockerd!.docker(['load', '-i', join(GOLDEN, 'dockerd-layered.tar')])).code).toBe(0);
    expect((await engine.docker(['load', '-i', join(GOLDEN, 'dockerd-layered.tar')])).code).toBe(0);
    const format = ['image', 'inspect', '--format', '{{.Size}} {{json .RootFS.Layers}} {{json .Config}}', 'golden/layered:1.0'];
    expect((await engine.docker(format)).stdout).toBe((await dockerd!.docker(format)).stdout);
    const history = ['history', '--no-trunc', '--format', '{{.ID}} {{.Size}} {{.CreatedBy}}', 'golden/layered:1.0'];
    expect((await engine.docker(history)).stdout).toBe((await dockerd!.docker(history)).stdout);
  });
});
