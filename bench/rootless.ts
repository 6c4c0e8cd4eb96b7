// Rootless berth beside rootful berth and rootless podman: `run --rm busybox true` latency, on this machine,
// in one run. A throwaway user (test/helpers/rootless.ts: useradd, subuid range, /run/user/<uid>, tun ACL)
// runs berth serve (re-run in its pause namespace) and podman 4.3 itself (its own storage, runc); rootful
// berth is the usual private engine. Prints medians and two ratios (lower is better for rootless berth).
// Needs root (to make the user), the docker CLI, podman, runc.
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { RootlessUser } from '../test/helpers/rootless.js';
import { DOCKER, api, docker, exec, interleaved, median, runBench, startBerth, type Cell, type Engine, type Row } from './harness.js';

const BERTH_MAIN = fileURLToPath(new URL('../server/main.js', import.meta.url));
const ROUNDS = 20;
const WARMUP = 3;
const PODMAN_FLAGS = ['--runtime', 'runc']; // crun refuses this hybrid-cgroup host rootless (docs/rootless)

/** `cmd args` as the user, with a login's environment: the same wrapper for both rootless clients. */
const asUser = (user: RootlessUser, cmd: string, args: string[], env: Record<string, string> = {}) =>
  exec('runuser', ['-u', user.name, '--', 'env', '-i', ...user.env(env), cmd, ...args]);

async function must(p: Promise<{ code: number; stderr: string; ms: number }>, what: string) {
  const r = await p;
  if (r.code !== 0) throw new Error(`${what}: ${r.stderr.trim().split('\n').pop() || `exit ${r.code}`}`);
  return r;
}

/** berth serve as the user, per-user defaults (socket $XDG_RUNTIME_DIR/berth/berth.sock). */
async function startRootlessBerth(user: RootlessUser, dir: string): Promise<Engine> {
  const socket = join(user.runtimeDir, 'berth/berth.sock');
  const log = join(dir, 'berth-rootless.log');
  const start = performance.now();
  const child = spawn('runuser', ['-u', user.name, '--', 'env', '-i', ...user.env(), process.execPath, BERTH_MAIN, 'serve'], {
    stdio: ['ignore', openSync(log, 'a'), openSync(log, 'a')],
    detached: true,
  });
  const engine: Engine = {
    name: 'berth rootless',
    pid: child.pid!,
    env: { ...process.env, DOCKER_HOST: `unix://${socket}` },
    socket,
    // The engine, its containers and the pause are the user's processes: they go with the user.
    stop: async () => {
      await user.destroy();
      await rm(`/dev/shm/libpod_rootless_lock_${user.uid}`, { force: true }); // podman's, outside the user's dirs
    },
  };
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`rootless berth exited ${child.exitCode}: ${await readFile(log, 'utf8')}`);
    if (
      await api(engine, 'GET', '/_ping', { anyStatus: true, timeoutMs: 1000 }).then(
        () => true,
        () => false,
      )
    ) {
      engine.startMs = performance.now() - start;
      return engine;
    }
    await sleep(100);
  }
  throw new Error(`rootless berth did not answer: ${await readFile(log, 'utf8')}`);
}

function printTable(rows: Row[], names: string[]) {
  const fmt = (c: Cell | undefined) => (typeof c === 'number' ? `${c.toFixed(0)} ms` : (c ?? '—').slice(0, 100));
  const ratio = (a: Cell | undefined, b: Cell | undefined) => (typeof a === 'number' && typeof b === 'number' ? (a / b).toFixed(2) : '—');
  const table = [
    ['step', ...names, `ratio ${names[0]}/${names[1]}`, `ratio ${names[0]}/${names[2]}`],
    ...rows.map((r) => [r.step, ...r.cells.map(fmt), ratio(r.cells[0], r.cells[1]), ratio(r.cells[0], r.cells[2])]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  console.log(line(table[0]!));
  console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const r of table.slice(1)) console.log(line(r));
}

await runBench(async (bench) => {
  const { dir, engines } = bench;
  const loadAvg = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const user = await RootlessUser.create('rlbench');
  let rootless: Engine;
  try {
    rootless = await startRootlessBerth(user, dir);
  } catch (err) {
    await user.destroy();
    throw err;
  }
  engines.push(rootless);
  const rootful = await startBerth(dir);
  rootful.name = 'berth rootful';
  engines.push(rootful);
  // podman has no engine process: each command is one (as the user). Its end is the user's (above).
  const podmanSide: Engine = { name: 'podman rootless', pid: 0, env: {}, stop: async () => undefined };
  engines.push(podmanSide);

  process.stderr.write(`bench: user ${user.name} (uid ${user.uid}), run directory ${dir}\n`);
  const { buildBusyboxArchive } = await import('../test/images/build.js');
  const busybox = await buildBusyboxArchive(join(dir, 'busybox.tar'), 'busybox:latest');
  const archive = await readFile(busybox.archive);
  await must(
    user.run('docker', ['load'], { input: archive, env: { DOCKER_HOST: `unix://${rootless.socket}` } }).then((r) => ({ ...r, ms: 0 })),
    'docker load (rootless berth)',
  );
  await docker(rootful, ['load', '-i', busybox.archive]);
  await must(
    user.run('podman', ['load'], { input: archive }).then((r) => ({ ...r, ms: 0 })),
    'podman load',
  );

  // The clients: the docker CLI as the user for rootless berth, as root for rootful berth, podman as the user.
  const runRm = (e: Engine, net: string[]) => {
    if (e === rootless)
      return must(asUser(user, DOCKER, ['run', '--rm', ...net, 'busybox', 'true'], { DOCKER_HOST: `unix://${rootless.socket}` }), 'docker run');
    if (e === rootful) return docker(rootful, ['run', '--rm', ...net, 'busybox', 'true']);
    return must(asUser(user, 'podman', ['run', '--rm', ...PODMAN_FLAGS, ...net, 'busybox', 'true']), 'podman run');
  };
  const left = async (e: Engine): Promise<string[]> => {
    const r =
      e === rootless
        ? await asUser(user, DOCKER, ['ps', '-aq'], { DOCKER_HOST: `unix://${rootless.socket}` })
        : e === rootful
          ? await docker(rootful, ['ps', '-aq'])
          : await asUser(user, 'podman', ['ps', '-aq']);
    return r.stdout.split('\n').filter(Boolean);
  };

  const rows: Row[] = [];
  const measure = (label: string, net: string[]) =>
    interleaved(rows, engines, label, 'ms', {
      rounds: ROUNDS,
      prepare: async (e) => {
        for (let i = 0; i < WARMUP; i++) await runRm(e, net);
      },
      run: async (e) => (await runRm(e, net)).ms,
      check: async (e) => {
        const ids = await left(e);
        if (ids.length) throw new Error(`${ids.length} container(s) left after run --rm`);
      },
    });

  await measure(`run --rm busybox true, --network none, median of ${ROUNDS}`, ['--network', 'none']);
  // The default network rootless (slirp4netns) comes with the rootless networking work: measured when
  // rootless berth runs a container on it, else the row says why not.
  const probe = await asUser(user, DOCKER, ['run', '--rm', 'busybox', 'true'], { DOCKER_HOST: `unix://${rootless.socket}` });
  if (probe.code === 0) await measure(`run --rm busybox true, default network, median of ${ROUNDS}`, []);
  else {
    // The daemon's words (the CLI wraps them in a logrus line).
    const said = probe.stderr.trim().split('\n')[0] ?? '';
    const why = `n/a: ${/msg="(?:Error waiting for container: )?(.*?)"?$/.exec(said)?.[1] ?? said}`;
    process.stderr.write(`bench: default network rootless: ${why}\n`);
    rows.push({ step: 'run --rm busybox true, default network', unit: 'ms', cells: [why, '—', '—'] });
  }
  // What the rootless clients' wrapper costs (in both rootless columns, not in rootful berth's).
  const wrapper: number[] = [];
  for (let i = 0; i < 10; i++) wrapper.push((await asUser(user, 'true', [])).ms);

  const versions = await Promise.all([
    asUser(user, 'podman', ['version', '--format', '{{.Client.Version}}']),
    exec('runc', ['--version']),
    exec('conmon', ['--version']),
  ]);
  const pkg = JSON.parse(await readFile(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8'));
  const cpu = /^model name\s*:\s*(.*)$/m.exec(await readFile('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  console.log();
  console.log(`machine: ${os.availableParallelism()} CPUs ${cpu}, Linux ${os.release()}, load average ${loadAvg} at start`);
  console.log(
    `versions: berth ${pkg.version} on Node ${process.version}; podman ${versions[0].stdout.trim()} (runc); ${versions[1].stdout.split('\n')[0]}; ${versions[2].stdout.split('\n')[0]}`,
  );
  console.log(`rootless clients run as ${user.name} through runuser + env -i: ${median(wrapper).toFixed(0)} ms of each of their times\n`);
  printTable(
    rows,
    engines.map((e) => e.name),
  );
});
