// docker push to a real registry (Debian's docker-registry on 127.0.0.1): uploads, skips what is
// there, mounts across repositories; what berth pushes pulls back with the same image ID, into berth
// and into a reference dockerd.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { TestEngine } from './helpers/engine.js';
import { cliOf } from './helpers/cli.js';
import { TestRegistry } from './helpers/registry.js';
import { ReferenceDockerd, haveDockerd } from './helpers/dockerd.js';

const images = inject('images');
let engine: TestEngine;
let registry: TestRegistry;

beforeAll(async () => {
  registry = await TestRegistry.start();
  engine = await TestEngine.start();
  expect((await engine.docker(['load', '-i', images.layered.archive])).code).toBe(0);
}, 60_000);
afterAll(async () => {
  await engine?.destroy();
  await registry?.stop();
});

const { docker, ok, env: cliEnv } = cliOf(() => engine);

describe('docker push', () => {
  it('uploads every layer, the config and the manifest, and prints the digest', async () => {
    const name = `${registry.host}/berth/layered:1.0`;
    await ok(['tag', images.layered.tag, name]);
    const out = await ok(['push', name]);
    expect(out).toContain(`The push refers to repository [${registry.host}/berth/layered]`);
    expect(out.match(/: Pushed$/gm)?.length).toBe(4);
    const digest = /^1\.0: digest: (sha256:[0-9a-f]{64}) size: (\d+)$/m.exec(out);
    expect(digest).not.toBeNull();
    const manifest = await fetch(`http://${registry.host}/v2/berth/layered/manifests/1.0`, {
      headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    expect(manifest.headers.get('docker-content-digest')).toBe(digest![1]);
    expect(manifest.headers.get('content-type')).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(Number(manifest.headers.get('content-length'))).toBe(Number(digest![2]));
    expect((await ok(['image', 'inspect', '-f', '{{json .RepoDigests}}', name])).trim()).toBe(`["${registry.host}/berth/layered@${digest![1]}"]`);
  });

  it('skips layers the registry has, and mounts them from a sibling repository', async () => {
    const again = await ok(['push', `${registry.host}/berth/layered:1.0`]);
    expect(again.match(/: Layer already exists$/gm)?.length).toBe(4);
    await ok(['tag', images.layered.tag, `${registry.host}/berth/copy:2`]);
    const copy = await ok(['push', `${registry.host}/berth/copy:2`]);
    expect(copy.match(/: Mounted from berth\/layered$/gm)?.length).toBe(4);
  });

  it('pulls back into berth and into dockerd with the same image ID', async () => {
    const name = `${registry.host}/berth/layered:1.0`;
    await ok(['rmi', '-f', images.layered.id]);
    await ok(['pull', name]);
    expect((await ok(['image', 'inspect', '-f', '{{.Id}}', name])).trim()).toBe(images.layered.id);
    expect(await ok(['run', '--rm', name])).toBe('three\n');
    if (!haveDockerd()) return;
    const dockerd = await ReferenceDockerd.start();
    try {
      const pulled = await dockerd.docker(['pull', name]);
      expect(pulled.code, pulled.stderr).toBe(0);
      expect((await dockerd.docker(['image', 'inspect', '-f', '{{.Id}}', name])).stdout.trim()).toBe(images.layered.id);
    } finally {
      await dockerd.stop();
    }
  }, 60_000);

  it('pushes what docker commit made (a layer no registry has seen) and refuses what is not here', async () => {
    await ok(['run', '--name', 'maker', '-u', '0', `${registry.host}/berth/layered:1.0`, 'echo fresh > /data/new.txt']);
    await ok(['commit', 'maker', `${registry.host}/berth/made:1`]);
    await ok(['rm', 'maker']);
    const out = await ok(['push', `${registry.host}/berth/made:1`]);
    expect(out.match(/: Pushed$/gm)?.length).toBe(1);
    expect(out.match(/: (Layer already exists|Mounted from berth\/(layered|copy))$/gm)?.length).toBe(4);
    const missing = await docker(['push', `${registry.host}/berth/nothing:1`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('An image does not exist locally with the tag');
  });
});
