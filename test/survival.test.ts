// No single point of failure: containers keep running when the engine is killed, their exits are
// recorded while it is down (conmon's exit command), and the engine comes back onto them.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readFile, readdir, rm } from 'node:fs/promises';
import { TestEngine } from './helpers/engine.js';

const images = inject('images');
let engine: TestEngine;

beforeAll(async () => {
  engine = await TestEngine.start();
  expect((await engine.docker(['load', '-i', images.busybox.archive])).code).toBe(0);
});
afterAll(async () => {
  await engine?.destroy();
});

const ok = async (args: string[]) => {
  const res = await engine.docker(args);
  expect(res.stderr, `docker ${args.join(' ')}`).toBe('');
  expect(res.code, `docker ${args.join(' ')}`).toBe(0);
  return res.stdout;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every process whose command line names the engine's directory (its conmons and containers). */
async function processesOf(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    if ((await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).includes(dir)) pids.push(Number(pid));
  }
  return pids;
}

describe('kill -9 of the engine', () => {
  it('leaves containers running, records exits while it is down, and resumes', async () => {
    await ok(['run', '-d', '--name', 'survivor', 'busybox', 'sh', '-c', 'trap "exit 0" TERM; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done']);
    await ok(['run', '-d', '--name', 'ender', 'busybox', 'sh', '-c', 'sleep 1.5; echo bye; exit 7']);
    await ok(['run', '-d', '--rm', '--name', 'vanisher', 'busybox', 'sleep', '1.5']);
    await engine.stop('SIGKILL');
    expect((await engine.docker(['ps'])).code).not.toBe(0); // the engine is down
    await sleep(3000);
    await engine.start();
    expect((await ok(['ps', '--format', '{{.Names}}'])).trim()).toBe('survivor');
    const ender = JSON.parse(await ok(['inspect', '--format', '{{json .State}}', 'ender']));
    expect(ender).toMatchObject({ Status: 'exited', ExitCode: 7 });
    expect(await ok(['logs', 'ender'])).toBe('bye\n');
    expect((await engine.docker(['inspect', 'vanisher'])).code).not.toBe(0);
    // The log went on being written while the engine was away.
    const ticks = (await ok(['logs', 'survivor'])).trim().split('\n');
    expect(ticks.length).toBeGreaterThan(20);
    expect(ticks.at(-1)).toMatch(/^tick \d+$/);
    await ok(['stop', 'survivor']);
    expect((await ok(['wait', 'survivor'])).trim()).toBe('0');
    await ok(['rm', 'survivor', 'ender']);
  });

  it('brings back restart=always containers after the run root was reset, and marks the others exited', async () => {
    await ok(['run', '-d', '--name', 'always', '--restart', 'always', 'busybox', 'sleep', '1000']);
    await ok(['run', '-d', '--name', 'once', 'busybox', 'sleep', '1000']);
    await engine.stop('SIGKILL');
    // What a reboot does: every process gone, mounts gone, the run root (tmpfs) empty.
    for (const pid of await processesOf(engine.dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await sleep(500);
    for (const pid of await processesOf(engine.dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    const { reapStragglers } = await import('./helpers/engine.js');
    await reapStragglers(engine.dir);
    await rm(engine.runRoot, { recursive: true, force: true });
    await engine.start();
    let status = '';
    for (let i = 0; i < 50 && !status.startsWith('running'); i++) {
      status = (await ok(['inspect', '--format', '{{.State.Status}}', 'always'])).trim();
      await sleep(100);
    }
    expect(status).toBe('running');
    expect((await ok(['inspect', '--format', '{{.State.Status}}', 'once'])).trim()).toBe('exited');
    await ok(['rm', '-f', 'always', 'once']);
  });

  it('restarts on failure with back-off, up to the maximum', async () => {
    await ok(['run', '-d', '--name', 'flaky', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'echo run; exit 1']);
    let state = { Status: '', RestartCount: 0 };
    for (let i = 0; i < 60; i++) {
      state = JSON.parse(await ok(['inspect', '--format', '{{json .State}}', 'flaky']));
      const count = Number((await ok(['inspect', '--format', '{{.RestartCount}}', 'flaky'])).trim());
      if (state.Status === 'exited' && count === 2) break;
      await sleep(100);
    }
    expect(state.Status).toBe('exited');
    expect((await ok(['inspect', '--format', '{{.RestartCount}}', 'flaky'])).trim()).toBe('2');
    expect((await ok(['logs', 'flaky'])).trim().split('\n')).toEqual(['run', 'run', 'run']);
    await ok(['rm', 'flaky']);
  });
});
