// berth vs Podman's own service on pods, both driven by the same `podman --remote` client (Debian's
// 4.3.1) in one run: `pod create` + `run -d --pod` + `pod rm -f`, the round a pod user types most, with
// each engine's default network (the pod's infra container holds it). Prints each engine's time and the
// ratio berth/podman (lower is better). Needs root and podman; the engines take turns run by run.
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PODMAN, PodmanService, podmanClient, type PodmanClient } from '../test/helpers/podman.js';
import { docker, exec, interleaved, printTable, runBench, startBerth, type Engine, type Row } from './harness.js';

const ROUNDS = 10;
// The default network's subnet in the service's private network config.
const SUBNET = '10.231.198.0/24';

const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function podman(c: PodmanClient, args: string[]) {
  const res = await exec(PODMAN, [...c.argv, ...args], c.env);
  if (res.code !== 0) throw new Error(`podman ${args.join(' ')}: ${res.stderr.trim().split('\n').pop() || `exit ${res.code}`}`);
  return res;
}

await runBench(async (bench) => {
  const { dir, engines } = bench;
  const { buildBusyboxArchive } = await import('../test/images/build.js');
  const busybox = await buildBusyboxArchive(join(dir, 'busybox.tar'), 'busybox:latest');
  const berth = await startBerth(dir);
  engines.push(berth);
  const service = await PodmanService.start({ subnet: SUBNET });
  engines.push({ name: 'podman', pid: service.pid, env: {}, stop: () => service.stop() });
  const clients = new Map<Engine, PodmanClient>([
    [engines[0]!, await podmanClient(join(dir, 'berth.sock'), dir)],
    [engines[1]!, service.client],
  ]);
  const of = (e: Engine) => clients.get(e)!;
  bench.beforeStop(async () => {
    for (const c of clients.values()) await podman(c, ['pod', 'rm', '-a', '-f', '-t', '0']).catch(() => undefined);
  });
  await docker(berth, ['load', '-i', busybox.archive]);
  await podman(service.client, ['load', '-i', busybox.archive]);
  // Each engine builds its pause image on the first pod: made once before the timed rounds.
  for (const e of engines) {
    await podman(of(e), ['pod', 'create', '--name', 'warm']);
    await podman(of(e), ['pod', 'rm', '-f', 'warm']);
  }
  await sleep(2000);
  const loadAtStart = load();
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
  console.log(`machine: ${os.availableParallelism()} CPUs, Linux ${os.release()}, load average ${loadAtStart} at start, ${load()} at the end`);
  printTable(
    rows,
    engines.map((e) => e.name),
  );
});
