// berth vs Podman's own service on pods, both driven by the same `podman --remote` client (Debian's
// 4.3.1) in one run: `pod create` + `run -d --pod` + `pod rm -f`, the round a pod user types most, with
// each engine's default network (the pod's infra container holds it). Prints each engine's time and the
// ratio berth/podman (lower is better). Needs root and podman; the engines take turns run by run.
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { interleaved, printTable, runBench, type Row } from './harness.js';
import { besidePodman, loadAverage, podman } from './podman-side.js';

const ROUNDS = 10;
// The default network's subnet in the service's private network config.
const SUBNET = '10.231.198.0/24';

await runBench(async (bench) => {
  const { engines } = bench;
  const { clients, of } = await besidePodman(bench, SUBNET);
  bench.beforeStop(async () => {
    for (const c of clients.values()) await podman(c, ['pod', 'rm', '-a', '-f', '-t', '0']).catch(() => undefined);
  });
  // Each engine builds its pause image on the first pod: made once before the timed rounds.
  for (const e of engines) {
    await podman(of(e), ['pod', 'create', '--name', 'warm']);
    await podman(of(e), ['pod', 'rm', '-f', 'warm']);
  }
  await sleep(2000);
  const loadAtStart = loadAverage();
  const rows: Row[] = [];
  let n = 0;
  await interleaved(rows, engines, `podman --remote pod create + run -d --pod + pod rm -f -t 0, median of ${ROUNDS}`, 'ms', {
    rounds: ROUNDS,
    run: async (e) => {
      const name = `bp${++n}`;
      const a = await podman(of(e), ['pod', 'create', '--name', name]);
      const b = await podman(of(e), ['run', '-d', '--pod', name, 'busybox', 'sleep', '600']);
      const c = await podman(of(e), ['pod', 'rm', '-f', '-t', '0', name]);
      return a.ms + b.ms + c.ms;
    },
    check: async (e) => {
      const left = (await podman(of(e), ['ps', '-aq'])).stdout.trim();
      if (left) throw new Error(`containers left after pod rm -f: ${left}`);
    },
  });
  console.log();
  console.log(`machine: ${os.availableParallelism()} CPUs, Linux ${os.release()}, load average ${loadAtStart} at start, ${loadAverage()} at the end`);
  printTable(
    rows,
    engines.map((e) => e.name),
  );
});
