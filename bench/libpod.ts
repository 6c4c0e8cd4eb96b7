// berth vs Podman's own service, both driven by the same `podman --remote` client (Debian's 4.3.1) on
// this machine in one run: the libpod API's cost as a podman user sees it. Prints each step's result on
// each engine and the ratio berth/podman (lower is better). Needs root and podman (the service runs
// privately, as the tests' oracle: test/helpers/podman.ts). The engines take turns run by run.
// Every container runs with --network none on both engines: networking is not compared.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PODMAN, type PodmanClient } from '../test/helpers/podman.js';
import { besidePodman, loadAverage, podman, podmanRunRm } from './podman-side.js';
import { docker, engineRss, exec, interleaved, printTable, rss, runBench, sweepCgroups, type Row } from './harness.js';

const RUN_RM_COUNT = 20; // `podman run --rm … true`, per engine, interleaved
// Untimed runs first on each engine: a fresh berth runs its request path in V8's interpreter for the first
// few containers (podman's service is compiled ahead); a long-running service is measured warm.
const RUN_RM_WARMUP = 5;
const CREATED = 200; // `podman create` before `podman ps -a`
const CREATE_BATCH = 20;
const PS_RUNS = 10;
const NET = ['--network', 'none'];
// The default network's subnet in the service's private network config (unused with --network none).
const SUBNET = '10.231.199.0/24';

const lines = (s: string) => s.trim().split('\n').filter(Boolean);

/** Every container of the engine, removed (for the cleanup). */
async function removeAll(c: PodmanClient): Promise<number> {
  const ids = lines((await podman(c, ['ps', '-aq'])).stdout);
  for (let i = 0; i < ids.length; i += 50) await podman(c, ['rm', '-f', '-t', '0', ...ids.slice(i, i + 50)]);
  return ids.length;
}

// Every container ID the run made, to check at the end that none of their cgroups was left behind.
const containerIds = new Set<string>();

await runBench(async (bench) => {
  const { engines } = bench;
  const { berth, service, busybox, clients, of } = await besidePodman(bench, SUBNET);
  const since = new Date().toISOString();
  bench.beforeStop(async () => {
    // Every container the run made (run --rm ones included), from each engine's events, for the cgroup check below.
    const until = new Date(Date.now() + 1000).toISOString();
    const events = [
      docker(berth, ['events', '--since', since, '--until', until, '--filter', 'type=container', '--filter', 'event=create', '--format', '{{.ID}}']),
      podman(service.client, ['events', '--since', since, '--until', until, '--filter', 'event=create', '--format', '{{.ID}}']),
    ];
    for (const ev of events)
      await ev.then(
        (r) => lines(r.stdout).forEach((id) => containerIds.add(id)),
        (err: Error) => process.stderr.write(`bench: listing the run's containers: ${err.message}\n`),
      );
    for (const [e, c] of clients) await removeAll(c).catch((err: Error) => process.stderr.write(`bench: removing ${e.name}'s containers: ${err.message}\n`));
  });
  for (const e of engines) {
    const id = (await podman(of(e), ['image', 'inspect', '--format', '{{.Id}}', 'busybox'])).stdout.trim();
    if (id.replace(/^sha256:/, '') !== busybox.id.replace(/^sha256:/, '')) throw new Error(`${e.name} has busybox as ${id}, expected ${busybox.id}`);
  }
  await sleep(2000);
  const loadAtStart = loadAverage();
  const rows: Row[] = [];

  // 1. latency of a whole short-lived container: pull check, create, attach, start, wait, remove.
  await podmanRunRm(rows, engines, of, {
    label: `podman --remote run --rm busybox true, median of ${RUN_RM_COUNT} (after ${RUN_RM_WARMUP} untimed)`,
    rounds: RUN_RM_COUNT,
    warmup: RUN_RM_WARMUP,
    net: NET,
  });

  // 2. `podman ps -a` with 200 containers (made first on each engine, not timed).
  await interleaved(rows, engines, `podman --remote ps -a (${CREATED} containers), median of ${PS_RUNS}`, 'ms', {
    rounds: PS_RUNS,
    prepare: async (e) => {
      for (let made = 0; made < CREATED; made += CREATE_BATCH)
        await Promise.all(Array.from({ length: Math.min(CREATE_BATCH, CREATED - made) }, () => podman(of(e), ['create', ...NET, 'busybox', 'true'])));
      const listed = lines((await podman(of(e), ['ps', '-aq'])).stdout).length;
      if (listed !== CREATED) throw new Error(`podman ps -aq lists ${listed} containers, expected ${CREATED}`);
    },
    run: async (e) => {
      const r = await podman(of(e), ['ps', '-a']);
      if (lines(r.stdout).length !== CREATED + 1) throw new Error(`podman ps -a printed ${lines(r.stdout).length} lines, expected ${CREATED + 1}`);
      return r.ms;
    },
  });

  // 3. the service process's memory, with the 200 created containers still there.
  await sleep(2000);
  await interleaved(rows, engines, `idle RSS after the workload (${CREATED} created containers; the service process alone)`, 'MiB', {
    rounds: 1,
    run: async (e) => (e === berth ? engineRss(e) : rss(e.pid, false) / 2 ** 20),
  });

  const cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  const client = (await exec(PODMAN, ['--version'])).stdout.trim();
  const servers = [];
  for (const e of engines) servers.push(`${e.name} ${(await podman(of(e), ['version', '--format', '{{.Server.Version}}'])).stdout.trim()}`);
  console.log();
  console.log(
    `machine: ${os.availableParallelism()} CPUs ${cpu}, Linux ${os.release()}, load average ${loadAtStart} at start, ${loadAverage()} at the end (1, 5, 15 min)`,
  );
  console.log(
    `client: ${client}, --remote against berth and podman's service (servers: ${servers.join(', ')}); runs interleaved; times are wall clock of the client\n`,
  );
  printTable(
    rows,
    engines.map((e) => e.name),
  );
});

// The containers' cgroups (berth: berth/<id>; podman with cgroupfs: libpod_parent/libpod-<id>, the parent
// itself removed by PodmanService.stop when empty) go with them; remove any left empty and say so.
process.stderr.write(`bench: ${containerIds.size} containers made by the run\n`);
sweepCgroups(containerIds, (id) => [join('berth', id), join('libpod_parent', `libpod-${id}`)]);
