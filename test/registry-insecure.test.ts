// A plain-HTTP registry that is not on loopback (in a network namespace the test makes) is refused
// unless the engine is told it is insecure: `--insecure-registry`, or `insecure = true` in
// registries.conf. Loopback registries need neither (as with dockerd).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inject } from 'vitest';
import { TEST_BASE, TestEngine } from './helpers/engine.js';
import { TestRegistry } from './helpers/registry.js';
import { createPrivateNet, type PrivateNet } from './helpers/netns.js';

const images = inject('images');
let net: PrivateNet;
let registry: TestRegistry;
let dir: string;
const engines: TestEngine[] = [];

beforeAll(async () => {
  net = await createPrivateNet();
  registry = await TestRegistry.start('', 'http', { address: net.innerAddress, exec: net.exec });
  await registry.pushArchive(images.busybox.archive, 'remote/busybox:1');
  dir = await mkdtemp(join(TEST_BASE, 'berth-insecure-'));
}, 60_000);
afterAll(async () => {
  for (const e of engines) await e.destroy();
  await registry?.stop();
  await net?.remove();
  await rm(dir, { recursive: true, force: true });
});

async function engineWith(args: string[]): Promise<TestEngine> {
  const engine = await TestEngine.start(args);
  engines.push(engine);
  return engine;
}

describe('an insecure registry', () => {
  it('is refused by default, and pulled from with --insecure-registry or registries.conf', async () => {
    const name = `${registry.host}/remote/busybox:1`;
    const strict = await engineWith([]);
    const refused = await strict.docker(['pull', name]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`https://${registry.host}/v2/`); // it tried TLS only
    expect((await strict.docker(['image', 'inspect', name])).code).toBe(1);

    const flagged = await engineWith(['--insecure-registry', registry.host]);
    expect((await flagged.docker(['pull', name])).code).toBe(0);
    expect((await flagged.docker(['image', 'inspect', '-f', '{{.Id}}', name])).stdout.trim()).toBe(images.busybox.id);

    await writeFile(join(dir, 'registries.conf'), `[[registry]]\nlocation = "${registry.host}"\ninsecure = true\n`);
    const configured = await engineWith(['--registries-conf', join(dir, 'registries.conf')]);
    expect((await configured.docker(['pull', name])).code).toBe(0);
  }, 60_000);
});
