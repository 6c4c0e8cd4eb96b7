// berth beside Podman's own service for the libpod benches: both engines started (the service as the
// tests' oracle runs it: test/helpers/podman.ts, private socket, root, network config and
// containers.conf; its stop() also removes what podman keeps outside its root), busybox loaded into
// each, and the same `podman --remote` client aimed at either.
import os from 'node:os';
import { join } from 'node:path';
import { PODMAN, PodmanService, podmanClient, type PodmanClient } from '../test/helpers/podman.js';
import type { BuiltImage } from '../test/images/build.js';
import { docker, exec, interleaved, startBerth, type Bench, type Engine, type Row } from './harness.js';

/** The podman client against one engine, timed (the harness's exec: killed on interrupt); throws on failure. */
export async function podman(c: PodmanClient, args: string[]) {
  const res = await exec(PODMAN, [...c.argv, ...args], c.env);
  if (res.code !== 0) throw new Error(`podman ${args.join(' ')}: ${res.stderr.trim().split('\n').pop() || `exit ${res.code}`}`);
  return res;
}

/** The load averages (1, 5, 15 min) as the benches print them. */
export const loadAverage = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/**
 * berth and podman's service (`subnet`: its default network's), in `bench.engines` in that order, busybox in
 * both. With `o.berth` (a berth the bench started, busybox `o.busybox` loaded already) only the service is
 * started and pushed into `bench.engines` after the engines already there; the returned `podmanSide` is it.
 */
export async function besidePodman(bench: Bench, subnet: string, o: { berth?: Engine; busybox?: BuiltImage } = {}) {
  const { dir, engines } = bench;
  const { buildBusyboxArchive } = await import('../test/images/build.js');
  const busybox = o.busybox ?? (await buildBusyboxArchive(join(dir, 'busybox.tar'), 'busybox:latest'));
  const berth = o.berth ?? (await startBerth(dir));
  if (!o.berth) engines.push(berth);
  const service = await PodmanService.start({ subnet, ownNetavarkLock: true });
  process.stderr.write(`bench: podman's service in ${service.dir}, berth in ${dir}\n`);
  const podmanSide: Engine = { name: 'podman', pid: service.pid, env: {}, socket: service.socket, stop: () => service.stop() };
  engines.push(podmanSide);
  const clients = new Map<Engine, PodmanClient>([
    [berth, await podmanClient(join(dir, 'berth.sock'), dir)],
    [podmanSide, service.client],
  ]);
  // berth gets the image through its Docker API (one state for both APIs), podman's service through podman.
  if (!o.busybox) await docker(berth, ['load', '-i', busybox.archive]);
  await podman(service.client, ['load', '-i', busybox.archive]);
  return { berth, service, podmanSide, busybox, clients, of: (e: Engine) => clients.get(e)! };
}

/**
 * `podman --remote run --rm [net] busybox true` on each engine in turns: `warmup` untimed runs first, then
 * `rounds` timed ones (the median goes in the table); after each engine's turn no container may be left.
 */
export function podmanRunRm(
  rows: Row[],
  engines: Engine[],
  of: (e: Engine) => PodmanClient,
  o: { label: string; rounds: number; warmup: number; net: string[] },
) {
  const run = (e: Engine) => podman(of(e), ['run', '--rm', ...o.net, 'busybox', 'true']);
  return interleaved(rows, engines, o.label, 'ms', {
    rounds: o.rounds,
    prepare: async (e) => {
      for (let i = 0; i < o.warmup; i++) await run(e);
    },
    run: async (e) => (await run(e)).ms,
    check: async (e) => {
      const left = (await podman(of(e), ['ps', '-aq'])).stdout.split('\n').filter(Boolean);
      if (left.length) throw new Error(`${left.length} container(s) left after run --rm`);
    },
  });
}
