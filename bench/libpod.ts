// berth vs Podman's own service, both driven by the same `podman --remote` client (Debian's 4.3.1) on
// this machine in one run: the libpod API's cost as a podman user sees it. Prints each step's result on
// each engine and the ratio berth/podman (lower is better). Needs root and podman (the service runs
// privately: its own root, run root, socket and containers.conf under the run's directory).
// Every container runs with --network none on both engines: networking is not compared.
import { spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { docker, engineRss, exec, mean, printTable, rss, runBench, startBerth, step, type Engine, type Row } from './harness.js';

const PODMAN = '/usr/bin/podman';
const RUN_RM_COUNT = 20; // sequential `podman run --rm … true`
const CREATED = 200; // `podman create` before `podman ps -a`
const CREATE_BATCH = 20;
const PS_RUNS = 10;
const NET = ['--network', 'none'];

/** An engine as the podman client reaches it: its socket, and the client's private home. */
interface Target {
  engine: Engine;
  argv: string[];
  env: NodeJS.ProcessEnv;
}

const lines = (s: string) => s.trim().split('\n').filter(Boolean);

/** A client environment that reads no user's configuration. */
async function clientEnv(dir: string, name: string): Promise<NodeJS.ProcessEnv> {
  const home = join(dir, `client-${name}`);
  await mkdir(join(home, 'run'), { recursive: true, mode: 0o700 });
  await writeFile(join(home, 'containers.conf'), '');
  await writeFile(join(home, 'auth.json'), '{}');
  return {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_RUNTIME_DIR: join(home, 'run'),
    CONTAINERS_CONF: join(home, 'containers.conf'),
    REGISTRY_AUTH_FILE: join(home, 'auth.json'),
  };
}

async function podman(t: Target, args: string[]) {
  const res = await exec(PODMAN, [...t.argv, ...args], t.env);
  if (res.code !== 0) throw new Error(`podman ${args[0]}: ${res.stderr.trim().split('\n').pop() || `exit ${res.code}`}`);
  return res;
}

/** Podman's own service on a private socket: runc, cgroupfs, file events, this VM's ulimits (as test/helpers/podman.ts). */
async function startPodmanService(dir: string): Promise<Engine> {
  const base = join(dir, 'podman');
  await mkdir(join(base, 'tmp'), { recursive: true });
  const conf = join(base, 'containers.conf');
  await writeFile(
    conf,
    [
      '[containers]',
      'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      'runtime = "runc"',
      `tmp_dir = "${join(base, 'tmp')}"`,
      '',
    ].join('\n'),
  );
  const socket = join(base, 'podman.sock');
  const log = join(base, 'service.log');
  const child = spawn(PODMAN, ['--root', join(base, 'root'), '--runroot', join(base, 'run'), 'system', 'service', '--time', '0', `unix://${socket}`], {
    stdio: ['ignore', openSync(log, 'a'), openSync(log, 'a')],
    env: { ...process.env, CONTAINERS_CONF: conf },
    detached: true,
  });
  const stop = async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    for (let i = 0; i < 100 && child.exitCode === null; i++) await sleep(100);
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  const engine: Engine = { name: 'podman', pid: child.pid!, env: { PODMAN_SOCKET: socket }, stop };
  const env = await clientEnv(dir, 'probe');
  for (let i = 0; i < 150; i++) {
    if ((await exec(PODMAN, ['--remote', '--url', `unix://${socket}`, 'version'], env)).code === 0) return engine;
    await sleep(100);
  }
  await stop();
  throw new Error(`podman's service did not start (see ${log})`);
}

/** Every container of the target, removed (for the cleanup and between steps). */
async function removeAll(t: Target): Promise<number> {
  const ids = lines((await podman(t, ['ps', '-aq'])).stdout);
  for (let i = 0; i < ids.length; i += 50) await podman(t, ['rm', '-f', '-t', '0', ...ids.slice(i, i + 50)]);
  return ids.length;
}

await runBench(async (bench) => {
  const { dir, engines } = bench;
  const { buildBusyboxArchive } = await import('../test/images/build.js');
  const busybox = await buildBusyboxArchive(join(dir, 'busybox.tar'), 'busybox:latest');
  const berth = await startBerth(dir);
  engines.push(berth);
  const service = await startPodmanService(dir);
  engines.push(service);
  const targets: Target[] = [
    { engine: berth, argv: ['--remote', '--url', `unix://${join(dir, 'berth.sock')}`], env: await clientEnv(dir, 'berth') },
    { engine: service, argv: ['--remote', '--url', `unix://${service.env.PODMAN_SOCKET}`], env: await clientEnv(dir, 'podman') },
  ];
  const of = (e: Engine) => targets.find((t) => t.engine === e)!;
  bench.beforeStop(async () => {
    for (const t of targets) await removeAll(t).catch((err: Error) => process.stderr.write(`bench: removing ${t.engine.name}'s containers: ${err.message}\n`));
  });
  // berth gets the image through its Docker API (one state for both APIs), podman's service through podman.
  await docker(berth, ['load', '-i', busybox.archive]);
  await podman(of(service), ['load', '-i', busybox.archive]);
  const ids = [
    (await docker(berth, ['image', 'inspect', '--format', '{{.Id}}', 'busybox'])).stdout,
    (await podman(of(service), ['image', 'inspect', '--format', '{{.Id}}', 'busybox'])).stdout,
  ];
  for (const [i, id] of ids.entries())
    if (id.trim().replace(/^sha256:/, '') !== busybox.id.replace(/^sha256:/, ''))
      throw new Error(`${engines[i]!.name} loaded busybox as ${id.trim()}, expected ${busybox.id}`);
  await sleep(2000);
  const loadAvg = os.loadavg()[0]!.toFixed(2);
  const rows: Row[] = [];

  // 1. latency of a whole short-lived container: pull check, create, attach, start, wait, remove.
  await step(rows, engines, `podman --remote run --rm busybox true, median of ${RUN_RM_COUNT}`, 'ms', async (e) => {
    const ms: number[] = [];
    for (let i = 0; i < RUN_RM_COUNT; i++) {
      const r = await podman(of(e), ['run', '--rm', ...NET, 'busybox', 'true']);
      ms.push(r.ms);
    }
    process.stderr.write(`bench: podman run --rm on ${e.name}: mean ${mean(ms).toFixed(0)} ms\n`);
    const left = lines((await podman(of(e), ['ps', '-aq'])).stdout);
    if (left.length) throw new Error(`${left.length} container(s) left after run --rm`);
    return ms;
  });

  // 2. `podman ps -a` with 200 containers (each verb's lookups list containers, so this is paid often).
  await step(rows, engines, `podman --remote ps -a (${CREATED} containers), median of ${PS_RUNS}`, 'ms', async (e) => {
    for (let made = 0; made < CREATED; made += CREATE_BATCH)
      await Promise.all(Array.from({ length: Math.min(CREATE_BATCH, CREATED - made) }, () => podman(of(e), ['create', ...NET, 'busybox', 'true'])));
    const listed = lines((await podman(of(e), ['ps', '-aq'])).stdout).length;
    if (listed !== CREATED) throw new Error(`podman ps -aq lists ${listed} containers, expected ${CREATED}`);
    const ms: number[] = [];
    for (let i = 0; i < PS_RUNS; i++) ms.push((await podman(of(e), ['ps', '-a'])).ms);
    return ms;
  });

  await step(rows, engines, 'idle RSS after the workload (the service process alone)', 'MiB', async (e) => {
    await sleep(2000);
    return e.name === 'berth' ? engineRss(e) : rss(e.pid, false) / 2 ** 20;
  });

  const cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  const client = (await exec(PODMAN, ['--version'])).stdout.trim();
  console.log();
  console.log(`machine: ${os.availableParallelism()} CPUs ${cpu}, Linux ${os.release()}, load average ${loadAvg} at start`);
  console.log(`client: ${client}, --remote against berth (${join(dir, 'berth.sock')}) and podman's service; times are wall clock of the client\n`);
  printTable(
    rows,
    engines.map((e) => e.name),
  );
});
