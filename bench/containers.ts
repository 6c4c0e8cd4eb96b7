// berth vs dockerd: the same docker CLI container workload against both engines, on this machine, in
// one run. Prints each step's result on each engine and the ratio berth/dockerd (lower is better).
// Needs root, the docker CLI and Debian's docker.io (a private dockerd + containerd is started).
// Every container runs with --network none on both engines: networking is not compared.
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import { join } from 'node:path';
import {
  startWithBusybox,
  docker,
  engineRss,
  mean,
  printHeader,
  printTable,
  processesMentioning,
  rss,
  runBench,
  startBerth,
  startDockerd,
  step,
  time,
  type Engine,
  type Row,
  sweepCgroups,
} from './harness.js';

const IMAGE = 'busybox:latest';
const RUN_RM_COUNT = 20; // sequential `docker run --rm … true`
const PARALLEL = 50; // `docker run -d … sleep 1000` started at once
const CREATED = 200; // `docker create` before `docker ps -a`
const CREATE_BATCH = 20;
const PS_RUNS = 10;
const NET = ['--network', 'none'];
// Every container ID the run saw, to check at the end that none of their cgroups was left behind.
const containerIds = new Set<string>();

const lines = (s: string) => s.trim().split('\n').filter(Boolean);

/** The IDs of the engine's containers (all of them with -a). */
async function containers(e: Engine, all: boolean): Promise<string[]> {
  const ids = lines((await docker(e, ['ps', '-q', '--no-trunc', ...(all ? ['-a'] : [])])).stdout);
  for (const id of ids) containerIds.add(id);
  return ids;
}

/** `docker rm -f` of every container on the engine; returns how many there were. */
async function removeAll(e: Engine): Promise<number> {
  const ids = await containers(e, true);
  for (let i = 0; i < ids.length; i += 50) await docker(e, ['rm', '-f', ...ids.slice(i, i + 50)]);
  return ids.length;
}

/** Runs n docker CLI commands at once; throws if any failed (how many, and the first error). */
async function parallel(e: Engine, n: number, args: string[]): Promise<string[]> {
  const results = await Promise.allSettled(Array.from({ length: n }, () => docker(e, args)));
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  for (const r of results) if (r.status === 'fulfilled') for (const id of lines(r.value.stdout)) containerIds.add(id);
  if (failed.length) throw new Error(`${failed.length} of ${n} failed: ${(failed[0].reason as Error).message}`);
  return results.map((r) => (r as PromiseFulfilledResult<{ stdout: string }>).value.stdout.trim());
}

/** berth's per-container monitor is conmon; dockerd's is containerd-shim (comm is cut to 15 characters). */
const isMonitor = (e: Engine, comm: string) => (e.name === 'berth' ? comm === 'conmon' : comm.startsWith('containerd-shim'));

await runBench(async (bench) => {
  const { dir, engines } = bench;
  // Whatever happens, every container goes before the engines stop (the harness then kills and
  // unmounts anything that still mentions the run's directory).
  bench.beforeStop(async () => {
    for (const e of engines) {
      const n = await removeAll(e).catch((err: Error) => (process.stderr.write(`bench: removing ${e.name}'s containers: ${err.message}\n`), 0));
      if (n) process.stderr.write(`bench: removed ${n} container(s) from ${e.name}\n`);
    }
  });

  await startWithBusybox(dir, engines, IMAGE);
  const names = engines.map((e) => e.name);
  const atStart = new Map(engines.map((e) => [e, engineRss(e)]));
  const loadAvg = os.loadavg()[0].toFixed(2); // other work on the machine skews the times
  const rows: Row[] = [];

  // 1. latency of a whole short-lived container: create, start, wait, remove.
  await step(rows, engines, `docker run --rm ${IMAGE.split(':')[0]} true, median of ${RUN_RM_COUNT}`, 'ms', async (e) => {
    const ms: number[] = [];
    for (let i = 0; i < RUN_RM_COUNT; i++) ms.push(await time(e, ['run', '--rm', ...NET, IMAGE, 'true']));
    process.stderr.write(`bench: docker run --rm on ${e.name}: mean ${mean(ms).toFixed(0)} ms\n`);
    const left = await containers(e, true);
    if (left.length) throw new Error(`${left.length} container(s) left after run --rm`);
    return ms;
  });

  // 2. 50 detached containers started at once; with them running, the monitors' memory (kept for the
  //    table's memory rows); then they are removed, so each engine is measured alone.
  const monitors = new Map<Engine, number>();
  await step(rows, engines, `docker run -d ${IMAGE.split(':')[0]} sleep 1000, ${PARALLEL} at once, wall time`, 'ms', async (e) => {
    try {
      const start = performance.now();
      await parallel(e, PARALLEL, ['run', '-d', ...NET, IMAGE, 'sleep', '1000']);
      const ms = performance.now() - start;
      const up = await containers(e, false);
      if (up.length !== PARALLEL) throw new Error(`docker ps -q lists ${up.length} containers, expected ${PARALLEL}`);
      const pids = lines((await docker(e, ['inspect', '--format', '{{.State.Pid}}', ...up])).stdout).map(Number);
      for (const pid of pids) if (pid > 0) bench.track(pid);

      await sleep(2000);
      const procs = processesMentioning(dir).filter((p) => isMonitor(e, p.comm));
      const mib = procs.reduce((sum, p) => sum + rss(p.pid, false), 0) / 2 ** 20;
      process.stderr.write(
        `bench: ${procs.length} ${e.name} monitor processes (${[...new Set(procs.map((p) => p.comm))].join(', ')}): ` +
          `${mib.toFixed(1)} MiB, ${((mib * 1024) / Math.max(procs.length, 1)).toFixed(0)} KiB each\n`,
      );
      if (procs.length) monitors.set(e, mib);
      else process.stderr.write(`bench: no monitor processes found for ${e.name}\n`);
      return ms;
    } finally {
      const t = performance.now();
      const n = await removeAll(e);
      process.stderr.write(`bench: docker rm -f of ${n} containers on ${e.name}: ${(performance.now() - t).toFixed(0)} ms (for information)\n`);
    }
  });

  // 3. listing 200 (created, never started) containers.
  await step(rows, engines, `docker ps -a (${CREATED} containers), median of ${PS_RUNS}`, 'ms', async (e) => {
    for (let i = 0; i < CREATED; i += CREATE_BATCH) await parallel(e, Math.min(CREATE_BATCH, CREATED - i), ['create', ...NET, IMAGE, 'true']);
    const listed = (await containers(e, true)).length;
    if (listed !== CREATED) throw new Error(`docker ps -aq lists ${listed} containers, expected ${CREATED}`);
    const ms: number[] = [];
    for (let i = 0; i < PS_RUNS; i++) ms.push(await time(e, ['ps', '-a']));
    return ms;
  });

  // 4. memory: the engines idle after the workload (the 200 created containers still there), the
  //    per-container monitors measured in step 2, and the engines at start for reference.
  await sleep(2000);
  await step(rows, engines, `idle RSS after the workload (${CREATED} created containers)`, 'MiB', async (e) => engineRss(e));
  await step(rows, engines, `monitors' RSS, sum over ${PARALLEL} running (conmon / containerd-shim)`, 'MiB', async (e) => {
    const mib = monitors.get(e);
    if (mib === undefined) throw new Error('not measured (the run -d step failed)');
    return mib;
  });
  await step(rows, engines, 'idle RSS at start (for reference)', 'MiB', async (e) => atStart.get(e)!);

  await printHeader(engines, dir, loadAvg);
  printTable(rows, names);
});

// The containers' cgroups (berth: /berth/<id>, dockerd: /docker/<id>) go with them; remove any left empty.
sweepCgroups(containerIds, (id) => [join('berth', id), join('docker', id)]);
