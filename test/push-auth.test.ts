// A push never goes out without the client's credentials having been considered: without an
// X-Registry-Auth header (or, dockerd's old form, an auth config as the body) it is refused as dockerd
// refuses it, and nothing reaches the registry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { suiteEngine } from './helpers/suite.js';
import { TestRegistry } from './helpers/registry.js';

const images = inject('images');
const engine = suiteEngine({ load: [images.busybox.archive] });
let registry: TestRegistry;

beforeAll(async () => {
  registry = await TestRegistry.start();
}, 30_000);
afterAll(async () => {
  await registry?.stop();
});

const manifestStatus = async (repo: string) => (await fetch(`http://${registry.host}/v2/${repo}/manifests/1`)).status;

describe('push credentials', () => {
  it("refuses a push without X-Registry-Auth with dockerd's 400, and the registry gets nothing", async () => {
    const name = `${registry.host}/berth/unauthed:1`;
    expect((await engine.http('POST', `/images/busybox/tag?repo=${registry.host}/berth/unauthed&tag=1`)).status).toBe(201);
    const missing: Record<string, string>[] = [{}, { 'x-registry-auth': '' }];
    for (const headers of missing) {
      const res = await engine.http('POST', `/images/${name}/push`, undefined, headers);
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ message: 'bad parameters and missing X-Registry-Auth: invalid X-Registry-Auth header: EOF' });
    }
    expect(await manifestStatus('berth/unauthed')).toBe(404);
  });

  it('pushes with the header (as the docker CLI sends it) or with an auth config as the body', async () => {
    await engine.docker(['tag', 'busybox', `${registry.host}/berth/header:1`]);
    const pushed = await engine.docker(['push', `${registry.host}/berth/header:1`]);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(await manifestStatus('berth/header')).toBe(200);
    expect((await engine.http('POST', `/images/busybox/tag?repo=${registry.host}/berth/body&tag=1`)).status).toBe(201);
    const res = await engine.http('POST', `/images/${registry.host}/berth/body:1/push`, {});
    expect(res.status).toBe(200);
    expect(res.body.toString()).not.toContain('"error"');
    expect(await manifestStatus('berth/body')).toBe(200);
  });
});
