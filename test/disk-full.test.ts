// A container that fills the disk under the engine's root must not lock the user out: kill, stop and
// rm -f still work (so space can be freed), other writes fail as errors to the client, and the engine
// stays up with nothing thrown into its log.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdir, rm } from 'node:fs/promises';
import { existsSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { TestEngine, run } from './helpers/engine.js';
import { cliOf } from './helpers/cli.js';

const images = inject('images');
let engine: TestEngine;
let image: string;
const { docker, ok } = cliOf(() => engine);

/** Free bytes on the engine's root filesystem. */
const free = () => {
  const s = statfsSync(engine.root);
  return s.bavail * s.bsize;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a container that writes until the disk is full, and waits until it is. */
async function fillDisk(name: string): Promise<void> {
  const id = (
    await ok(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/fill bs=1M; dd if=/dev/zero of=/fill2 bs=1k; touch /done; sleep 1000'])
  ).trim();
  const done = join(engine.root, 'containers', id, 'diff', 'done');
  const deadline = Date.now() + 30_000;
  while (!existsSync(done) && Date.now() < deadline) await sleep(100);
  expect(existsSync(done), 'the disk filled up').toBe(true);
  expect(free()).toBeLessThan(64 * 1024);
}

beforeAll(async () => {
  engine = await TestEngine.create();
  // The root on a small filesystem of its own: ext4 (overlayfs wants xattrs), 256 MiB.
  image = join(engine.dir, 'disk.img');
  expect((await run('truncate', ['-s', '256M', image])).code).toBe(0);
  // No blocks reserved for root: the containers' processes run as root and would use them.
  expect((await run('mkfs.ext4', ['-q', '-F', '-m', '0', image])).code).toBe(0);
  await mkdir(engine.root, { recursive: true });
  const mounted = await run('mount', ['-o', 'loop', image, engine.root]);
  expect(mounted.code, mounted.stderr).toBe(0);
  await engine.start();
  await ok(['load', '-i', images.busybox.archive]);
});
afterAll(async () => {
  await engine?.destroy(); // kills what is left, unmounts (the loop device goes with it) and removes the dir
});

describe('a full disk', () => {
  it('still lets kill, stop and rm -f through, and fails other writes as errors', async () => {
    const reserve = join(engine.root, 'space-reserve');
    expect(existsSync(reserve)).toBe(true);
    await ok(['run', '-d', '--name', 'sleeper', 'busybox', 'sleep', '1000']);
    await ok(['exec', '-d', 'sleeper', 'sleep', '2']); // ends while the disk is full
    await fillDisk('filler');

    // Writes fail, as errors the client sees.
    const created = await docker(['create', 'busybox', 'true']);
    expect(created.code).not.toBe(0);
    expect(created.stderr).toMatch(/no space left on device|disk is full/i);
    const exec = await docker(['exec', 'filler', 'true']);
    expect(exec.code).not.toBe(0);
    expect(exec.stderr).toMatch(/no space left on device|disk is full/i);

    // Whatever else writes fails as an error too, or works; the engine stays up either way.
    for (const args of [
      ['run', '--rm', 'busybox', 'true'],
      ['start', 'sleeper'],
      ['commit', 'filler'],
      ['cp', image, 'filler:/x'],
      ['load', '-i', images.layered.archive],
      ['volume', 'create', 'v'],
      ['network', 'create', 'n'],
      ['logs', 'filler'],
      ['exec', '-d', 'filler', 'true'],
      ['pause', 'sleeper'],
      ['unpause', 'sleeper'],
      ['rename', 'sleeper', 'sleeper2'],
    ])
      await docker(args);
    await sleep(2000);
    expect((await docker(['version'])).code).toBe(0);
    expect(engine.stderr).not.toMatch(/unhandled rejection/i);
    await docker(['rename', 'sleeper2', 'sleeper']);
    await docker(['volume', 'rm', 'v']);
    await docker(['network', 'rm', 'n']);

    // What frees space works.
    await ok(['kill', 'filler']);
    expect((await ok(['wait', 'filler'])).trim()).toBe('137'); // the exit is recorded too
    expect(JSON.parse(await ok(['inspect', '--format', '{{json .State.Status}}', 'filler']))).toBe('exited');
    await ok(['stop', '-t', '1', 'sleeper']);
    expect(JSON.parse(await ok(['inspect', '--format', '{{json .State.Status}}', 'sleeper']))).toBe('exited');
    await ok(['rm', '-f', 'filler']);
    expect(free()).toBeGreaterThan(100 * 1024 * 1024);
    expect(existsSync(reserve), 'the reserve is made again').toBe(true);

    // Space is back: everything works again.
    await ok(['rm', 'sleeper']);
    expect((await ok(['run', '--rm', 'busybox', 'echo', 'back'])).trim()).toBe('back');
    expect((await ok(['ps', '-aq'])).trim()).toBe('');
    expect(engine.process?.exitCode).toBeNull();
    expect(engine.stderr).not.toMatch(/unhandled rejection/i);
  });

  it('lets rm -f remove a running container that filled the disk', async () => {
    // rm -f straight away, without a kill before it.
    await fillDisk('filler2');
    await ok(['rm', '-f', 'filler2']);
    expect(free()).toBeGreaterThan(100 * 1024 * 1024);
    expect((await ok(['ps', '-aq'])).trim()).toBe('');
    expect(engine.stderr).not.toMatch(/unhandled rejection/i);
  });

  it('lets the engine stop and start again on a full disk, and rm what filled it', async () => {
    await fillDisk('filler3');
    expect(await engine.stop(), engine.stderr).toBe(0);
    expect(engine.stderr).not.toMatch(/unhandled rejection/i);
    await engine.start();
    await ok(['rm', '-f', 'filler3']);
    expect(free()).toBeGreaterThan(100 * 1024 * 1024);
    expect((await ok(['run', '--rm', 'busybox', 'echo', 'back'])).trim()).toBe('back');
    expect(engine.stderr).not.toMatch(/unhandled rejection/i);
  });

  it('lets the engine start again after a kill -9 on a full disk, and rm what filled it', async () => {
    await fillDisk('filler4');
    await engine.stop('SIGKILL');
    await engine.start();
    await ok(['rm', '-f', 'filler4']);
    expect(free()).toBeGreaterThan(100 * 1024 * 1024);
    expect((await ok(['run', '--rm', 'busybox', 'echo', 'back'])).trim()).toBe('back');
    expect(engine.stderr).not.toMatch(/unhandled rejection/i);
  });
});
