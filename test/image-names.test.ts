// An image's names as dockerd 20.10 handles them: `docker images --filter reference=` shows only the
// matching names, and removing a repository's last tag takes its digest references with it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { TestEngine } from './helpers/engine.js';
import { GOLDEN } from './helpers/golden.js';
import { TestRegistry } from './helpers/registry.js';

let engine: TestEngine;
let registry: TestRegistry;
beforeAll(async () => {
  registry = await TestRegistry.start();
  await registry.pushArchive(join(GOLDEN, 'dockerd-busybox.tar'), 'v/bb:latest');
  engine = await TestEngine.start();
}, 60_000);
afterAll(async () => {
  await engine?.destroy();
  await registry?.stop();
});

const ok = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const res = await engine.docker(args, { env });
  expect(res.stderr, `docker ${args.join(' ')}`).toBe('');
  expect(res.code, `docker ${args.join(' ')}`).toBe(0);
  return res.stdout;
};

describe('image names', () => {
  it('lists only the names a reference filter matches, tags and digests', async () => {
    const name = `${registry.host}/v/bb`;
    await ok(['pull', '-q', `${name}:latest`]);
    await ok(['tag', `${name}:latest`, 'other/name:x']);
    try {
      const listed = await ok(['images', '--digests', '--filter', `reference=${name}`, '--format', '{{.Repository}}:{{.Tag}} {{.Digest}}']);
      expect(listed).toMatch(new RegExp(`^${name}:latest sha256:[0-9a-f]{64}\\n$`));
      const raw = (await engine.http('GET', `/v1.41/images/json?filters=${encodeURIComponent(JSON.stringify({ reference: ['other/*'] }))}`)).json();
      expect(raw).toHaveLength(1);
      expect(raw[0].RepoTags).toEqual(['other/name:x']);
      expect(raw[0].RepoDigests).toEqual([]);
      // Before 1.41 `filter` was one more pattern.
      expect((await engine.http('GET', '/v1.40/images/json?filter=zzz')).json()).toEqual([]);
      expect((await engine.http('GET', '/v1.41/images/json?filter=zzz')).json()).toHaveLength(1);
    } finally {
      await engine.docker(['rmi', '-f', 'other/name:x', `${name}:latest`]);
    }
  });

  it('removing the last tag of a repository removes its digests, then the image, so the next pull downloads', async () => {
    const name = `${registry.host}/v/bb`;
    await ok(['pull', '-q', `${name}:latest`]);
    await ok(['tag', `${name}:latest`, 'other/name:x']);
    const id = (await ok(['image', 'inspect', '--format', '{{.Id}}', 'other/name:x'])).trim();

    const untagged = await ok(['rmi', `${name}:latest`]);
    expect(untagged.split('\n').filter(Boolean)).toEqual([
      `Untagged: ${name}:latest`,
      expect.stringMatching(new RegExp(`^Untagged: ${name}@sha256:[0-9a-f]{64}$`)),
    ]);
    expect(await ok(['image', 'inspect', '--format', '{{json .RepoDigests}}', 'other/name:x'])).toBe('[]\n');

    const removed = await ok(['rmi', 'other/name:x']);
    expect(removed).toContain(`Deleted: ${id}`);
    expect(await ok(['images', '-q'])).toBe('');

    const pulled = await ok(['pull', `${name}:latest`]);
    expect(pulled).toContain('Pull complete');
    expect(pulled).toContain(`Downloaded newer image for ${name}:latest`);
    await ok(['rmi', `${name}:latest`]);
  });
});
