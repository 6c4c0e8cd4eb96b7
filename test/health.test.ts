// Healthchecks, as dockerd 20.10 runs them: probes through exec in the container, State.Health with its
// status, streak and last 5 results, `docker ps` status and filter, health_status events, images'
// HEALTHCHECK, pause and stop, an engine restart, --idle-exit, and docker-compose's service_healthy.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { TestEngine } from './helpers/engine.js';
import { cliOf } from './helpers/cli.js';
import { ReferenceDockerd, haveDockerd } from './helpers/dockerd.js';

const images = inject('images');
let engine: TestEngine;

beforeAll(async () => {
  engine = await TestEngine.start();
  expect((await engine.docker(['load', '-i', images.busybox.archive])).code).toBe(0);
});
afterAll(async () => {
  await engine?.destroy();
});

const { docker, ok, env } = cliOf(() => engine);

interface Health {
  Status: string;
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[];
}

const health = async (name: string): Promise<Health | undefined> => JSON.parse(await ok(['inspect', '-f', '{{json .State.Health}}', name])) ?? undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls State.Health until `test` holds (or fails after `ms`). */
async function healthUntil(name: string, test: (h: Health) => boolean, ms = 15_000): Promise<Health> {
  const deadline = Date.now() + ms;
  let last: Health | undefined;
  while (Date.now() < deadline) {
    last = await health(name);
    if (last && test(last)) return last;
    await sleep(200);
  }
  throw new Error(`${name}: health never matched; last ${JSON.stringify(last)}`);
}

const run = (name: string, ...args: string[]) => ok(['run', '-d', '--name', name, '--network', 'none', ...args]);

describe('healthchecks', () => {
  it('probe a container: healthy, with the result logged, in ps, its filter and events', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    await run('good', '--health-cmd', 'echo hi; true', '--health-interval', '1s', '--health-start-period', '2s', 'busybox', 'sleep', '1000');
    await run('slow', '--health-cmd', 'true', 'busybox', 'sleep', '1000'); // the default interval: 30 s before a first probe
    expect(await health('slow')).toEqual({ Status: 'starting', FailingStreak: 0, Log: [] });
    expect(await ok(['ps', '--filter', 'name=slow', '--format', '{{.Status}}'])).toMatch(/^Up .* \(health: starting\)\n$/);
    const h = await healthUntil('good', (x) => x.Status === 'healthy');
    expect(h.FailingStreak).toBe(0);
    expect(Object.keys(h.Log[0]!)).toEqual(['Start', 'End', 'ExitCode', 'Output']);
    expect(h.Log[0]).toMatchObject({ ExitCode: 0, Output: 'hi\n' });
    expect(Date.parse(h.Log[0]!.End)).toBeGreaterThanOrEqual(Date.parse(h.Log[0]!.Start));
    // Go's RFC3339Nano, as dockerd gives them: nanoseconds (trailing zeros dropped), not milliseconds.
    for (const t of [h.Log[0]!.Start, h.Log[0]!.End]) expect(t).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{4,9}Z$/);
    // The request's fields as sent, zero ones absent (dockerd's omitempty).
    expect(JSON.parse(await ok(['inspect', '-f', '{{json .Config.Healthcheck}}', 'good']))).toEqual({
      Test: ['CMD-SHELL', 'echo hi; true'],
      Interval: 1e9,
      StartPeriod: 2e9,
    });
    expect(await ok(['ps', '--filter', 'name=good', '--format', '{{.Status}}'])).toMatch(/^Up .* \(healthy\)\n$/);
    expect((await ok(['ps', '--filter', 'health=healthy', '--format', '{{.Names}}'])).split('\n')).toContain('good');
    expect(await ok(['ps', '--filter', 'health=starting', '--format', '{{.Names}}'])).toBe('slow\n');
    expect(await ok(['ps', '-a', '--filter', 'health=none', '--filter', 'name=good', '-q'])).toBe('');
    const bad = await docker(['ps', '--filter', 'health=bogus']);
    expect(bad.stderr).toContain('Unrecognised filter value for health: bogus');
    const until = String(Math.ceil(Date.now() / 1000) + 1);
    const statusEvents = await ok([
      'events',
      '--since',
      String(since),
      '--until',
      until,
      '--filter',
      'event=health_status',
      '--format',
      '{{.Action}}|{{.Actor.Attributes.name}}',
    ]);
    expect(statusEvents).toBe('health_status: healthy|good\n');
    const events = await ok([
      'events',
      '--since',
      String(since),
      '--until',
      until,
      '--filter',
      'container=good',
      '--format',
      '{{.Action}}|{{.Actor.Attributes.name}}',
    ]);
    const actions = events.trim().split('\n');
    // The probe is an exec: dockerd's exec events, in order.
    const first = actions.indexOf('exec_create: /bin/sh -c echo hi; true|good');
    expect(actions.slice(first, first + 3)).toEqual([
      'exec_create: /bin/sh -c echo hi; true|good',
      'exec_start: /bin/sh -c echo hi; true|good',
      'exec_die|good',
    ]);
    await ok(['rm', '-f', 'good', 'slow']);
  });

  it('goes unhealthy after Retries failures, keeps the last 5 results, and not while in the start period', async () => {
    await run('failing', '--health-cmd', 'echo bad >&2; exit 3', '--health-interval', '200ms', '--health-retries', '2', 'busybox', 'sleep', '1000');
    await run(
      'warming',
      '--health-cmd',
      'exit 1',
      '--health-interval',
      '200ms',
      '--health-retries',
      '1',
      '--health-start-period',
      '60s',
      'busybox',
      'sleep',
      '1000',
    );
    const h = await healthUntil('failing', (x) => x.Log.length === 5 && x.FailingStreak > 5);
    expect(h.Status).toBe('unhealthy');
    expect(h.Log.at(-1)).toMatchObject({ ExitCode: 3, Output: 'bad\n' });
    expect(await ok(['ps', '--filter', 'health=unhealthy', '--format', '{{.Names}} {{.Status}}'])).toMatch(/^failing Up .* \(unhealthy\)\n$/);
    const w = await healthUntil('warming', (x) => x.Log.length >= 2);
    expect(w).toMatchObject({ Status: 'starting', FailingStreak: 0 });
    expect(w.Log[0]!.ExitCode).toBe(1);
    await ok(['rm', '-f', 'failing', 'warming']);
  });

  it('keeps the first 4096 bytes of a probe\'s output, marked "..." when cut', async () => {
    await run('chatty', '--health-cmd', 'head -c 5000 /dev/zero | tr "\\0" a', '--health-interval', '200ms', 'busybox', 'sleep', '1000');
    const h = await healthUntil('chatty', (x) => x.Log.length >= 1);
    expect(h.Log[0]!.Output).toBe(`${'a'.repeat(4096)}...`);
    await ok(['rm', '-f', 'chatty']);
  });

  it("ends a probe past its timeout: exit code -1 and dockerd's message", async () => {
    await run(
      'stuck',
      '--health-cmd',
      'sleep 30',
      '--health-timeout',
      '300ms',
      '--health-interval',
      '500ms',
      '--health-retries',
      '1',
      'busybox',
      'sleep',
      '1000',
    );
    const h = await healthUntil('stuck', (x) => x.Status === 'unhealthy');
    expect(h.Log[0]).toMatchObject({ ExitCode: -1, Output: 'Health check exceeded timeout (300ms)' });
    expect(Date.parse(h.Log[0]!.End) - Date.parse(h.Log[0]!.Start)).toBeLessThan(3000);
    // The probe's processes are ended, not left to pile up.
    await sleep(1000);
    expect(Number(await ok(['exec', 'stuck', 'sh', '-c', 'ps -o args | grep -c "^sleep 30" || true']))).toBeLessThanOrEqual(1);
    await ok(['rm', '-f', 'stuck']);
  });

  it("reports a probe that cannot start with -1 and the runtime's message", async () => {
    const res = await engine.http('POST', '/containers/create?name=nobinary', {
      Image: 'busybox',
      Cmd: ['sleep', '1000'],
      HostConfig: { NetworkMode: 'none' },
      Healthcheck: { Test: ['CMD', 'nonexist'], Interval: 300e6, Retries: 1 },
    });
    expect(res.status).toBe(201);
    await ok(['start', 'nobinary']);
    const h = await healthUntil('nobinary', (x) => x.Status === 'unhealthy');
    expect(h.Log[0]!.ExitCode).toBe(-1);
    expect(h.Log[0]!.Output).toMatch(/^OCI runtime exec failed: exec failed: .*executable file not found in \$PATH: unknown$/);
    await ok(['rm', '-f', 'nobinary']);
  });

  it('keeps a healthcheck echo as dockerd does: null and zero fields absent, the rest as sent', async () => {
    // docker-py sends nulls for what is not set.
    const res = await engine.http('POST', '/v1.41/containers/create?name=echo', {
      Image: 'busybox',
      Cmd: ['true'],
      Healthcheck: { Test: ['CMD', 'true'], Interval: 1e9, Timeout: null, Retries: 0, StartPeriod: 2e9 },
    });
    expect(res.status).toBe(201);
    expect((await engine.http('GET', '/containers/echo/json')).json().Config.Healthcheck).toEqual({ Test: ['CMD', 'true'], Interval: 1e9, StartPeriod: 2e9 });
    await ok(['rm', 'echo']);
  });

  it("runs an image's HEALTHCHECK, merged field by field under the request's; NONE disables it", async () => {
    const dir = await mkdtemp(join(engine.dir, 'ctx-'));
    await writeFile(join(dir, 'Dockerfile'), 'FROM busybox\nHEALTHCHECK --interval=1s --retries=4 CMD echo from-image\n');
    await ok(['build', '-q', '-t', 'checked', dir]);
    await rm(dir, { recursive: true });
    await run('inherits', 'checked', 'sleep', '1000');
    expect(JSON.parse(await ok(['inspect', '-f', '{{json .Config.Healthcheck}}', 'inherits']))).toEqual({
      Test: ['CMD-SHELL', 'echo from-image'],
      Interval: 1e9,
      Retries: 4,
    });
    expect((await healthUntil('inherits', (x) => x.Status === 'healthy')).Log[0]!.Output).toBe('from-image\n');
    await run('overrides', '--health-timeout', '5s', 'checked', 'sleep', '1000');
    expect(JSON.parse(await ok(['inspect', '-f', '{{json .Config.Healthcheck}}', 'overrides']))).toEqual({
      Test: ['CMD-SHELL', 'echo from-image'],
      Interval: 1e9,
      Timeout: 5e9,
      Retries: 4,
    });
    await run('disabled', '--no-healthcheck', 'checked', 'sleep', '1000');
    // dockerd merges NONE like any Test: the image's other fields stay (checked against 20.10).
    expect(JSON.parse(await ok(['inspect', '-f', '{{json .Config.Healthcheck}}', 'disabled']))).toEqual({ Test: ['NONE'], Interval: 1e9, Retries: 4 });
    await sleep(1500);
    expect(await health('disabled')).toBeUndefined();
    expect(await ok(['ps', '--filter', 'health=none', '--format', '{{.Names}} {{.Status}}'])).toMatch(/^disabled Up [^(]*\n$/);
    expect(
      await ok(['events', '--since', '0', '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'container=disabled', '--format', '{{.Action}}']),
    ).not.toContain('exec');
    await ok(['rm', '-f', 'inherits', 'overrides', 'disabled']);
    await ok(['rmi', 'checked']);
  });

  it('stops probing while paused or stopped (then unhealthy, as dockerd), and starts over at a restart', async () => {
    await run('cycle', '--health-cmd', 'true', '--health-interval', '300ms', 'busybox', 'sleep', '1000');
    await healthUntil('cycle', (x) => x.Status === 'healthy');
    await ok(['pause', 'cycle']);
    const paused = await health('cycle');
    expect(paused!.Status).toBe('unhealthy');
    await sleep(1000);
    expect((await health('cycle'))!.Log).toEqual(paused!.Log); // no probe ran
    await ok(['unpause', 'cycle']);
    await healthUntil('cycle', (x) => x.Status === 'healthy');
    await ok(['stop', '-t', '0', 'cycle']);
    const stopped = await health('cycle');
    expect(stopped!.Status).toBe('unhealthy');
    expect(await ok(['ps', '-a', '--filter', 'health=unhealthy', '--format', '{{.Names}}'])).toBe('cycle\n');
    await ok(['start', 'cycle']);
    const restarted = await health('cycle');
    expect(restarted).toMatchObject({ Status: 'starting', FailingStreak: 0 });
    expect(restarted!.Log.length).toBeGreaterThan(0); // the log stays across runs
    await healthUntil('cycle', (x) => x.Status === 'healthy');
    await ok(['rm', '-f', 'cycle']);
  });

  it('resumes probes after an engine restart', async () => {
    await run('survivor', '--health-cmd', 'true', '--health-interval', '300ms', 'busybox', 'sleep', '1000');
    await healthUntil('survivor', (x) => x.Status === 'healthy');
    expect(await engine.stop()).toBe(0);
    const down = Date.now();
    await sleep(500);
    await engine.start();
    const h = await healthUntil('survivor', (x) => Date.parse(x.Log.at(-1)!.Start) > down + 500);
    expect(h.Status).toBe('healthy');
    await ok(['rm', '-f', 'survivor']);
  });

  it('keeps an engine under --idle-exit up while containers are health-checked', async () => {
    const idle = await TestEngine.start(['--idle-exit', '1']);
    // A connection held open while setting up: the engine must not idle out between the CLI's commands.
    const hold = createConnection(idle.socket);
    try {
      expect((await idle.docker(['load', '-i', images.busybox.archive])).code).toBe(0);
      expect(
        (
          await idle.docker([
            'run',
            '-d',
            '--name',
            'watched',
            '--network',
            'none',
            '--health-cmd',
            'true',
            '--health-interval',
            '500ms',
            'busybox',
            'sleep',
            '1000',
          ])
        ).code,
      ).toBe(0);
      hold.destroy();
      await sleep(3000);
      expect(idle.process!.exitCode).toBeNull();
      expect((await idle.docker(['inspect', '-f', '{{.State.Health.Status}}', 'watched'])).stdout).toBe('healthy\n');
      expect((await idle.docker(['rm', '-f', 'watched'])).code).toBe(0);
      const deadline = Date.now() + 10_000;
      while (idle.process!.exitCode === null && Date.now() < deadline) await sleep(100);
      expect(idle.process!.exitCode).toBe(0);
    } finally {
      hold.destroy();
      await idle.destroy();
    }
  });

  it('lets docker-compose start a service once the one it depends on is healthy (service_healthy)', async () => {
    const dir = await mkdtemp(join(engine.dir, 'compose-'));
    await writeFile(
      join(dir, 'docker-compose.yml'),
      [
        'version: "2.1"',
        'services:',
        '  db:',
        '    image: busybox',
        '    command: sh -c "sleep 2; touch /tmp/ready; exec sleep 1000"',
        '    network_mode: none',
        '    healthcheck:',
        '      test: ["CMD", "test", "-f", "/tmp/ready"]',
        '      interval: 500ms',
        '      retries: 20',
        '  app:',
        '    image: busybox',
        '    command: sleep 1000',
        '    network_mode: none',
        '    depends_on:',
        '      db:',
        '        condition: service_healthy',
        '',
      ].join('\n'),
    );
    const compose = (args: string[]) =>
      new Promise<{ code: number; stderr: string }>((resolve) => {
        execFile('docker-compose', ['-p', 'healthy', ...args], { cwd: dir, env: env() }, (err, _stdout, stderr) =>
          resolve({ code: err ? Number(err.code ?? 1) : 0, stderr }),
        );
      });
    try {
      const up = await compose(['up', '-d']);
      expect(up.code, up.stderr).toBe(0);
      const db = await health('healthy_db_1');
      expect(db!.Status).toBe('healthy');
      const appStarted = Date.parse((await ok(['inspect', '-f', '{{.State.StartedAt}}', 'healthy_app_1'])).trim());
      const firstHealthy = db!.Log.find((r) => r.ExitCode === 0)!;
      expect(appStarted).toBeGreaterThanOrEqual(Date.parse(firstHealthy.End));
      expect(db!.Log[0]!.ExitCode).toBe(1); // it was not ready at first: compose waited
    } finally {
      await compose(['down', '-t', '0']);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!haveDockerd())(
    "has dockerd 20.10's shapes: State.Health, the echo, ps, and the events of a probe",
    async () => {
      const ref = await ReferenceDockerd.start();
      try {
        /** What a client sees of one healthy container: field names and types, texts without times and IDs. */
        const observe = async (cli: (args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>) => {
          const since = Math.floor(Date.now() / 1000) - 1;
          expect((await cli(['load', '-i', images.busybox.archive])).code).toBe(0);
          const runRes = await cli([
            'run',
            '-d',
            '--name',
            'shape',
            '--network',
            'none',
            '--health-cmd',
            'echo hi',
            '--health-interval',
            '1s',
            '--health-retries',
            '2',
            'busybox',
            'sleep',
            '1000',
          ]);
          expect(runRes.code, runRes.stderr).toBe(0);
          let state: { Health: Health } | undefined;
          for (let i = 0; i < 75 && state?.Health?.Status !== 'healthy'; i++) {
            await sleep(200);
            state = JSON.parse((await cli(['inspect', '-f', '{{json .State}}', 'shape'])).stdout);
          }
          const inspect = JSON.parse((await cli(['inspect', 'shape'])).stdout)[0];
          const ps = (await cli(['ps', '--filter', 'health=healthy', '--format', '{{.Names}} {{.Status}}'])).stdout.replace(/Up .* \(/, 'Up … (');
          const events = (
            await cli([
              'events',
              '--since',
              String(since),
              '--until',
              String(Math.ceil(Date.now() / 1000) + 1),
              '--filter',
              'container=shape',
              '--format',
              '{{json .}}',
            ])
          ).stdout
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l))
            .filter((e) => e.Action.startsWith('exec_') || e.Action.startsWith('health_status'));
          await cli(['rm', '-f', 'shape']);
          const types = (o: object) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v]));
          return {
            stateKeys: Object.keys(inspect.State),
            health: { ...types(inspect.State.Health), Status: inspect.State.Health.Status, FailingStreak: inspect.State.Health.FailingStreak },
            log: { ...types(inspect.State.Health.Log[0]), ExitCode: inspect.State.Health.Log[0].ExitCode, Output: inspect.State.Health.Log[0].Output },
            echo: inspect.Config.Healthcheck,
            ps,
            // The first probe's events and the status change, with their attribute names.
            events: events.slice(0, 4).map((e) => [e.status, e.Action, Object.keys(e.Actor.Attributes).sort().join(',')]),
          };
        };
        const ours = await observe((args) => docker(args));
        const theirs = await observe((args) => ref.docker(args));
        expect(ours).toEqual(theirs);
      } finally {
        await ref.stop();
      }
    },
    90_000,
  );
});
