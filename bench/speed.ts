// The speed of issue 17, berth against a reference dockerd 20.10 WITH its default bridge and iptables (as
// users have it), both started here on private sockets, and against podman's service for the podman
// client: short-lived containers with and without the default network, 30 at once, create + rm through
// the API, 200 concurrent API clients while containers start and stop (and berth's event loop meanwhile),
// cold start under socket activation, memory; `--soak` adds 10 000 create + rm on berth alone. One table:
// berth, the reference and the ratio (lower is better for berth). Needs root, the docker CLI, docker.io,
// podman and systemd-socket-activate. See bench/README.md, "Speed (issue 17)".
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Agent } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { PODMAN } from '../test/helpers/podman.js';
import { besidePodman, loadAverage, podman, podmanRunRm } from './podman-side.js';
import {
  api,
  apiAgent,
  berthPaths,
  docker,
  dockerNetworkingPresent,
  engineRss,
  exec,
  interleaved,
  loadBusybox,
  median,
  printHeader,
  printTable,
  removeDockerNetworking,
  runBench,
  startBerth,
  startDockerd,
  step,
  stepRows,
  sweepCgroups,
  type Cell,
  type Engine,
  type Row,
} from './harness.js';

const IMAGE = 'busybox:latest';
// --quick: a few of each, to check the bench itself (its numbers mean nothing).
const quick = process.argv.includes('--quick');
const n = (full: number, small: number) => (quick ? small : full);
const RUNS = n(20, 3); // sequential `docker run --rm`, per engine and network mode (interleaved)
const WARMUP = n(3, 1); // untimed runs first on each engine
const PARALLEL = n(30, 5); // `docker run --rm` at once
const PARALLEL_ROUNDS = n(3, 1);
const CREATE_RM = n(1000, 20); // sequential create + rm through the API
const CLIENTS = n(200, 20); // concurrent API clients in step 4
const GETS = n(1000, 100);
const CYCLES = n(300, 10); // create/start/wait/rm among the GETs
const CREATED = n(200, 20); // created containers present for the RSS row
const COLD = n(5, 2); // cold starts under socket activation
const SOAK = n(10_000, 200);
const SOAK_EVERY = n(1000, 50);
// Step 4 ends with an error past this: dockerd 20.10 has deadlocked here in libnetwork (CreateEndpoint
// against a sandbox delete) under the 200 clients; its later steps are then skipped.
const STEP4_DEADLINE_MS = n(600_000, 120_000);
const SOCKET_ACTIVATE = '/usr/bin/systemd-socket-activate';
const BERTH_MAIN = fileURLToPath(new URL('../server/main.js', import.meta.url));
// podman's service's private default network (unused: the podman step runs with --network none).
const PODMAN_SUBNET = '10.231.197.0/24';
const soak = process.argv.includes('--soak');

const lines = (s: string) => s.trim().split('\n').filter(Boolean);
const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

// Every container ID the run made (from the engines' events), to check their cgroups at the end.
const containerIds = new Set<string>();
// Engines that stopped answering (why): their later steps and their cleanup are skipped (stop kills them).
const wedged = new Map<Engine, string>();
const answering = (e: Engine, o: { network?: boolean } = {}) => {
  const why = wedged.get(e);
  if (why) throw new Error(`skipped: ${why}`);
  // docker0 is host-wide: something else on the host has deleted it under a running bench (twice today).
  if (o.network && e.name === 'dockerd' && spawnSync('ip', ['link', 'show', 'docker0']).status !== 0)
    throw new Error("docker0 is gone (deleted by something else on the host): dockerd's default network cannot work");
};

/** The engine's containers (all), through the API. */
async function listAll(e: Engine, agent?: Agent): Promise<string[]> {
  return (JSON.parse((await api(e, 'GET', '/containers/json?all=1', { agent })).body) as { Id: string }[]).map((c) => c.Id);
}

async function removeAll(e: Engine): Promise<number> {
  const ids = await listAll(e);
  for (let i = 0; i < ids.length; i += 20)
    await Promise.all(ids.slice(i, i + 20).map((id) => api(e, 'DELETE', `/containers/${id}?force=1`, { anyStatus: true, timeoutMs: 60_000 })));
  return ids.length;
}

async function expectNoContainers(e: Engine, after: string) {
  const left = await listAll(e);
  if (left.length) throw new Error(`${left.length} container(s) left after ${after}`);
}

const createBody = { Image: IMAGE, Cmd: ['true'], HostConfig: { NetworkMode: 'default' } };
const create = async (e: Engine, agent?: Agent, name?: string) =>
  (JSON.parse((await api(e, 'POST', `/containers/create${name ? `?name=${name}` : ''}`, { body: createBody, agent })).body) as { Id: string }).Id;

/** A deterministic shuffle (the same order on both engines). */
function shuffled<T>(xs: T[], seed = 17): T[] {
  const out = [...xs];
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

// Containers made concurrently get names of the bench's own: berth 0.1.0 checks a generated name before
// its create's awaits and inserts after them, so two concurrent creates can draw the same generated name
// and the second fails with 409 (seen once in 300 cycles); dockerd reserves the name first.
let named = 0;
const nextName = () => `speed-${++named}`;

/**
 * Step 4: CLIENTS clients, each on its own keep-alive connection, share GETS GETs and CYCLES
 * create/start/wait/rm cycles (shuffled, dealt round-robin; each client runs its share one after another).
 * Returns the wall time of the whole and the GETs' latencies.
 */
async function concurrentClients(e: Engine): Promise<{ wall: number; gets: number[] }> {
  const probe = await create(e, undefined, 'speed-probe');
  const kinds = ['/containers/json', `/containers/${probe}/json`, '/_ping', '/images/json'];
  const ops = shuffled([...Array.from({ length: GETS }, (_, i) => kinds[i % kinds.length]!), ...Array.from({ length: CYCLES }, () => 'cycle')]);
  const gets: number[] = [];
  const failures: string[] = [];
  let cycles = 0;
  const agents: Agent[] = [];
  const client = async (c: number) => {
    const agent = apiAgent();
    agents.push(agent);
    try {
      for (let i = c; i < ops.length; i += CLIENTS) {
        const op = ops[i]!;
        try {
          if (op !== 'cycle') {
            gets.push((await api(e, 'GET', op, { agent })).ms);
            continue;
          }
          const id = await create(e, agent, nextName());
          try {
            await api(e, 'POST', `/containers/${id}/start`, { agent });
            const { StatusCode } = JSON.parse((await api(e, 'POST', `/containers/${id}/wait`, { agent })).body) as { StatusCode: number };
            if (StatusCode !== 0) throw new Error(`container exited ${StatusCode}`);
          } catch (err) {
            await api(e, 'DELETE', `/containers/${id}?force=1`, { agent, anyStatus: true }).catch(() => undefined); // not left for the next steps
            throw err;
          }
          await api(e, 'DELETE', `/containers/${id}`, { agent });
          cycles++;
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    } finally {
      agent.destroy();
    }
  };
  const start = performance.now();
  const deadline = new AbortController();
  const ended = await Promise.race([
    Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c))).then(() => true),
    sleep(STEP4_DEADLINE_MS, false, { signal: deadline.signal }).catch(() => false),
  ]);
  deadline.abort();
  const wall = performance.now() - start;
  if (!ended) {
    for (const a of agents) a.destroy();
    const why = `${e.name} stopped answering in step 4 (${cycles} cycles, ${gets.length} GETs done in ${STEP4_DEADLINE_MS / 1000} s)`;
    wedged.set(e, why);
    throw new Error(why);
  }
  await api(e, 'DELETE', `/containers/${probe}?force=1`);
  if (failures.length) throw new Error(`${failures.length} of ${ops.length} operations failed: ${failures[0]}`);
  if (cycles !== CYCLES || gets.length !== GETS) throw new Error(`${cycles} cycles and ${gets.length} GETs done`);
  await expectNoContainers(e, `${CYCLES} cycles`);
  process.stderr.write(
    `bench: ${e.name}: GETs mean ${(gets.reduce((a, b) => a + b, 0) / gets.length).toFixed(0)} ms, max ${Math.max(...gets).toFixed(0)} ms\n`,
  );
  return { wall, gets };
}

/** berth's event-loop delay since the last reset (GET /_berth/loop, BERTH_LOOP_STATS=1), resetting it. */
async function loopStats(e: Engine): Promise<{ max_ms: number; p99_ms: number; p50_ms: number; mean_ms: number }> {
  return JSON.parse((await api(e, 'GET', '/_berth/loop?reset=1')).body);
}

/**
 * One cold start under socket activation: systemd-socket-activate listens on a socket of its own and
 * starts `berth serve --idle-exit 60` on the existing root at the first connection. Milliseconds from
 * that first connection (`first`: a GET /_ping, or `docker version`) to its answer; then the engine is
 * stopped (SIGTERM: the activator execs the engine in its own process).
 */
async function coldStart(dir: string, first: (socket: string) => Promise<void>): Promise<number> {
  const { root, runRoot } = berthPaths(dir, 'cold');
  const activated = join(dir, 'activated.sock');
  await rm(activated, { force: true });
  const child = spawn(
    SOCKET_ACTIVATE,
    ['-l', activated, '--', process.execPath, BERTH_MAIN, 'serve', '--idle-exit', '60', '--root', root, '--run-root', runRoot],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let log = '';
  child.stderr!.on('data', (d) => (log = (log + d).slice(-2000)));
  try {
    for (let i = 0; i < 200 && !log.includes('Listening on'); i++) await sleep(10);
    if (!existsSync(activated)) throw new Error(`systemd-socket-activate did not listen: ${log}`);
    const start = performance.now();
    await first(activated);
    const ms = performance.now() - start;
    if (!log.includes('socket activation')) await sleep(200);
    if (!log.includes('socket activation')) throw new Error(`the engine did not say it serves the passed socket: ${log}`);
    return ms;
  } finally {
    const exited = once(child, 'exit');
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    if ((await Promise.race([exited, sleep(15_000, 'timeout')])) === 'timeout') child.kill('SIGKILL');
  }
}

const hadDockerNetworking = dockerNetworkingPresent();
if (!existsSync(SOCKET_ACTIVATE)) console.error(`bench: ${SOCKET_ACTIVATE} is missing: the cold-start step will fail`);
if (!existsSync(PODMAN)) console.error(`bench: ${PODMAN} is missing: the podman step will fail`);
const since = new Date().toISOString();

await runBench(async (bench) => {
  const { dir, engines } = bench;
  // At the very end, also after a signal: dockerd's bridge and chains, the containers' cgroups.
  bench.afterStop(() => {
    if (!hadDockerNetworking) removeDockerNetworking();
    else process.stderr.write('bench: docker0 / DOCKER chains were there before the run: left alone\n');
    process.stderr.write(`bench: ${containerIds.size} containers made by the run\n`);
    sweepCgroups(containerIds, (id) => [join('berth', id), join('docker', id), join('libpod_parent', `libpod-${id}`)]);
  });
  const date = new Date().toISOString();
  const loadAtStart = loadAverage();
  bench.beforeStop(async () => {
    const until = new Date(Date.now() + 1000).toISOString();
    for (const e of engines.filter((x) => x.name !== 'podman')) {
      const ev = await docker(e, [
        'events',
        '--since',
        since,
        '--until',
        until,
        '--filter',
        'type=container',
        '--filter',
        'event=create',
        '--format',
        '{{.ID}}',
      ]).catch((err: Error) => (process.stderr.write(`bench: listing ${e.name}'s containers: ${err.message}\n`), { stdout: '' }));
      for (const id of lines(ev.stdout)) containerIds.add(id);
      if (wedged.has(e)) continue;
      const n = await removeAll(e).catch((err: Error) => (process.stderr.write(`bench: removing ${e.name}'s containers: ${err.message}\n`), 0));
      if (n) process.stderr.write(`bench: removed ${n} container(s) left on ${e.name}\n`);
    }
  });

  // Start: berth with its event-loop monitor; RSS of each engine 2 s after its first answered /_ping.
  const berth = await startBerth(dir, { env: { BERTH_LOOP_STATS: '1' } });
  engines.push(berth);
  await sleep(2000);
  const berthRssAtStart = engineRss(berth);
  const dockerd = await startDockerd(dir, [], true);
  engines.push(dockerd);
  await sleep(2000);
  const dockerdRssAtStart = engineRss(dockerd);
  const pair = [berth, dockerd];
  const busybox = await loadBusybox(dir, pair, IMAGE);
  await sleep(1000);
  const rows: Row[] = [];
  const runRm = (e: Engine, net: string[]) => docker(e, ['run', '--rm', ...net, IMAGE, 'true']);

  // 1. one short-lived container, on the default bridge network and without a network.
  for (const [net, label] of [
    [[], 'default bridge'],
    [['--network', 'none'], '--network none'],
  ] as const) {
    await interleaved(rows, pair, `1. docker run --rm busybox true (${label}), median of ${RUNS}`, 'ms', {
      rounds: RUNS,
      prepare: async (e) => {
        answering(e, { network: net.length === 0 });
        for (let i = 0; i < WARMUP; i++) await runRm(e, [...net]);
      },
      run: async (e) => (await runRm(e, [...net])).ms,
      check: (e) => expectNoContainers(e, 'run --rm'),
    });
  }

  // 2. 30 at once on the default network.
  await interleaved(rows, pair, `2. ${PARALLEL} × docker run --rm busybox true at once (default bridge), wall, median of ${PARALLEL_ROUNDS}`, 'ms', {
    rounds: PARALLEL_ROUNDS,
    run: async (e) => {
      answering(e, { network: true });
      const start = performance.now();
      const results = await Promise.allSettled(Array.from({ length: PARALLEL }, () => runRm(e, [])));
      const ms = performance.now() - start;
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed.length) throw new Error(`${failed.length} of ${PARALLEL} failed: ${(failed[0].reason as Error).message}`);
      await expectNoContainers(e, `${PARALLEL} parallel run --rm`);
      return ms;
    },
  });

  // 3. create + rm through the API, one after another on one connection (no start: no network work).
  await step(rows, pair, `3. ${CREATE_RM} × create + rm through the API, sequential, wall`, 'ms', async (e) => {
    answering(e);
    const agent = apiAgent();
    try {
      const start = performance.now();
      for (let i = 0; i < CREATE_RM; i++) {
        const id = await create(e, agent);
        await api(e, 'DELETE', `/containers/${id}`, { agent });
      }
      const ms = performance.now() - start;
      await expectNoContainers(e, 'create + rm');
      return ms;
    } finally {
      agent.destroy();
    }
  });

  // 4 and 5. 200 clients: GETs while containers start and stop; berth's event loop meanwhile.
  await stepRows(
    rows,
    pair,
    [
      { step: `4. ${CYCLES} create/start/wait/rm among ${GETS} GETs, ${CLIENTS} clients (default bridge), wall`, unit: 'ms' },
      { step: `4. those ${GETS} GETs (ps, inspect, _ping, images), p50`, unit: 'ms' },
      { step: `4. those ${GETS} GETs, p99`, unit: 'ms' },
      { step: '5. engine event-loop delay during 4, max', unit: 'ms' },
      { step: '5. engine event-loop delay during 4, p99', unit: 'ms' },
    ],
    async (e) => {
      answering(e, { network: true });
      if (e === berth) await loopStats(e);
      const { wall, gets } = await concurrentClients(e);
      const cells: Cell[] = [wall, percentile(gets, 50), percentile(gets, 99)];
      if (e !== berth) return [...cells, 'n/a', 'n/a'];
      const loop = await loopStats(e);
      process.stderr.write(`bench: berth's event loop during 4: ${JSON.stringify(loop)}\n`);
      return [...cells, loop.max_ms, loop.p99_ms];
    },
  );

  // 6. cold start: berth under socket activation on an existing root (busybox loaded); dockerd's own start.
  await stepRows(
    rows,
    pair,
    [
      { step: `6. cold start to the first answered GET /_ping (berth: socket activation, existing root), median of ${COLD}`, unit: 'ms' },
      { step: `6. cold start to the first answered docker version (socket activation), median of ${COLD}`, unit: 'ms' },
    ],
    async (e) => {
      if (e !== berth) {
        // No socket activation for dockerd here: its start (with containerd, fresh root) to its first /_ping, once.
        if (dockerd.startMs === undefined) throw new Error('not measured');
        return [dockerd.startMs, 'n/a'];
      }
      const prep = await startBerth(dir, { prefix: 'cold' });
      try {
        await docker(prep, ['load', '-i', busybox.archive]);
      } finally {
        await prep.stop();
      }
      const pings: number[] = [];
      const versions: number[] = [];
      for (let i = 0; i < COLD; i++)
        pings.push(
          await coldStart(dir, async (socket) => {
            await api({ name: 'cold', pid: 0, env: {}, socket, stop: async () => {} }, 'GET', '/_ping', { timeoutMs: 30_000 });
          }),
        );
      for (let i = 0; i < COLD; i++)
        versions.push(
          await coldStart(dir, async (socket) => {
            await docker({ name: 'cold', pid: 0, env: { ...berth.env, DOCKER_HOST: `unix://${socket}` }, stop: async () => {} }, ['version']);
          }),
        );
      process.stderr.write(
        `bench: cold starts: /_ping ${pings.map((x) => x.toFixed(0)).join(', ')} ms; docker version ${versions.map((x) => x.toFixed(0)).join(', ')} ms\n`,
      );
      return [median(pings), median(versions)];
    },
  );

  // 7. memory: at start (measured above), with 200 created containers after the workload.
  await step(rows, pair, '7. RSS 2 s after start (dockerd: + containerd)', 'MiB', async (e) => (e === berth ? berthRssAtStart : dockerdRssAtStart));
  await step(rows, pair, `7. RSS after steps 1–4, ${CREATED} created containers present`, 'MiB', async (e) => {
    answering(e);
    for (let i = 0; i < CREATED; i += 20) await Promise.all(Array.from({ length: Math.min(20, CREATED - i) }, () => create(e, undefined, nextName())));
    const listed = (await listAll(e)).length;
    if (listed !== CREATED) throw new Error(`${listed} containers listed, expected ${CREATED}`);
    await sleep(2000);
    const rss = engineRss(e);
    if ((await removeAll(e)) !== CREATED) throw new Error('removed a different count');
    await expectNoContainers(e, 'rm');
    return rss;
  });

  // 8. the podman client against berth and podman's service (--network none: podman's default network
  //    is the host-wide podman0 bridge, which the tests' oracles use meanwhile).
  let podmanVersions = 'podman: not started';
  try {
    const side = await besidePodman(bench, PODMAN_SUBNET, { berth, busybox });
    const of = side.of;
    const net = ['--network', 'none'];
    await podmanRunRm(rows, [berth, side.podmanSide], of, {
      label: `8. podman --remote run --rm --network none busybox true, median of ${RUNS} (reference: podman's service)`,
      rounds: RUNS,
      warmup: WARMUP,
      net,
    });
    const client = (await exec(PODMAN, ['--version'])).stdout.trim();
    const server = (await podman(side.service.client, ['version', '--format', '{{.Server.Version}}'])).stdout.trim();
    podmanVersions = `${client} (client), podman's service ${server}`;
    const ev = await podman(side.service.client, [
      'events',
      '--since',
      since,
      '--until',
      new Date(Date.now() + 1000).toISOString(),
      '--filter',
      'event=create',
      '--format',
      '{{.ID}}',
    ]).catch(() => ({ stdout: '' }));
    for (const id of lines(ev.stdout)) containerIds.add(id);
  } catch (err) {
    rows.push({
      step: '8. podman --remote run --rm --network none busybox true',
      unit: 'ms',
      cells: [`error: ${(err as Error).message.split('\n')[0]}`, 'n/a'],
    });
  }

  // 9. the soak: berth alone, RSS every 1000 create + rm.
  if (soak) {
    await stepRows(
      rows,
      [berth],
      [
        { step: `9. soak: ${SOAK} × create + rm (API, sequential), wall`, unit: 'ms' },
        { step: `9. soak: RSS after the first ${SOAK_EVERY}`, unit: 'MiB' },
        { step: `9. soak: RSS after the last ${SOAK_EVERY}`, unit: 'MiB' },
        { step: `9. soak: RSS, max of the ${SOAK / SOAK_EVERY} readings`, unit: 'MiB' },
      ],
      async (e) => {
        answering(e);
        const agent = apiAgent();
        const readings: number[] = [];
        try {
          const start = performance.now();
          for (let i = 1; i <= SOAK; i++) {
            const id = await create(e, agent);
            await api(e, 'DELETE', `/containers/${id}`, { agent });
            if (i % SOAK_EVERY === 0) {
              readings.push(engineRss(e));
              process.stderr.write(`bench: soak ${i}: RSS ${readings.at(-1)!.toFixed(1)} MiB\n`);
            }
          }
          const ms = performance.now() - start;
          await expectNoContainers(e, 'the soak');
          return [ms, readings[0]!, readings.at(-1)!, Math.max(...readings)];
        } finally {
          agent.destroy();
        }
      },
    );
    for (const r of rows.slice(-4)) r.cells.push('n/a');
  }

  await printHeader(pair, dir, loadAtStart);
  console.log(`date: ${date}; ${podmanVersions}; dockerd with its default bridge and iptables`);
  console.log(`load average (1, 5, 15 min): ${loadAtStart} at start, ${loadAverage()} at the end\n`);
  printTable(rows, ['berth', 'dockerd']);
});
