// berth vs dockerd: the same docker CLI image workload against both engines, on this machine, in one
// run. Prints each step's median time on each engine and the ratio berth/dockerd (lower is better).
// Needs root, the docker CLI and Debian's docker.io (a private dockerd + containerd is started).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import tar from 'tar-stream';
import { buildSizedArchive } from '../test/images/build.js';

const DOCKER = '/usr/local/bin/docker';
const DOCKERD = '/usr/sbin/dockerd';
const BERTH_MAIN = fileURLToPath(new URL('../server/main.js', import.meta.url));
const BIG = { tag: 'bench/big:latest', layers: 5, bytesPerLayer: 20 * 1024 * 1024 };
const SMALL_COUNT = 200;

interface Engine {
  name: string;
  pid: number;
  env: NodeJS.ProcessEnv; // DOCKER_HOST / DOCKER_CONFIG for the CLI
  stop(): Promise<void>;
}

// ---- processes -----------------------------------------------------------------------------------

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

const running = new Set<ChildProcess>(); // CLI commands in flight, killed on interrupt
let interrupted = false; // set by SIGINT/SIGTERM: the remaining steps are skipped

function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    child.on('exit', () => running.delete(child));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, ms: performance.now() - start }));
  });
}

/** Runs the docker CLI against an engine; throws with its stderr if it fails. */
async function docker(engine: Engine, args: string[]): Promise<Run> {
  const res = await exec(DOCKER, args, engine.env);
  if (res.code !== 0) throw new Error(`docker ${args[0]}: ${res.stderr.trim().split('\n').pop() || `exit ${res.code}`}`);
  return res;
}

/** Wall-clock milliseconds of one docker CLI command (CLI start-up included, as a user sees it). */
const time = async (engine: Engine, args: string[]) => (await docker(engine, args)).ms;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const ping = (socketPath: string) =>
  new Promise<number>((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });

async function waitForPing(name: string, child: ChildProcess, socket: string, log: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    if ((await ping(socket)) === 200) return;
    await sleep(100);
  }
  const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-20).join('\n') : '';
  throw new Error(`${name} did not answer /_ping on ${socket}\n${tail}`);
}

// /proc helpers: parent PID and start time from /proc/PID/stat (fields after the "(comm)").
function stat(pid: number): { ppid: number; start: string } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), start: f[19] };
  } catch {
    return undefined; // gone
  }
}

function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const p = Number(name);
    const st = Number.isInteger(p) ? stat(p) : undefined;
    if (st) children.set(st.ppid, [...(children.get(st.ppid) ?? []), p]);
  }
  const out: number[] = [];
  for (let queue = [pid]; queue.length; ) {
    for (const c of children.get(queue.shift()!) ?? []) out.push(c), queue.push(c);
  }
  return out;
}

/** Resident memory in bytes (VmRSS) of a process, optionally plus all its descendants. */
function rss(pid: number, withDescendants: boolean): number {
  let total = 0;
  for (const p of [pid, ...(withDescendants ? descendants(pid) : [])]) {
    try {
      const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      total += kb ? Number(kb[1]) * 1024 : 0;
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

/** SIGTERM a child we spawned and wait for it (SIGKILL after a grace period). */
async function terminate(child: ChildProcess, graceMs: number) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  if ((await Promise.race([exited, sleep(graceMs, 'timeout')])) === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}

// ---- engines -------------------------------------------------------------------------------------

const cliEnv = (dir: string, socket: string) => ({ ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: join(dir, 'docker-config') });

async function startBerth(dir: string): Promise<Engine> {
  const socket = join(dir, 'berth.sock');
  const log = join(dir, 'berth.log');
  const args = [BERTH_MAIN, 'serve', '--socket', socket, '--root', join(dir, 'berth-root'), '--run-root', join(dir, 'berth-run')];
  const child = spawn(process.execPath, args, { stdio: ['ignore', openSync(log, 'a'), openSync(log, 'a')], detached: true });
  const engine: Engine = { name: 'berth', pid: child.pid!, env: cliEnv(dir, socket), stop: () => terminate(child, 15_000) };
  try {
    await waitForPing('berth', child, socket, log, 20_000);
  } catch (err) {
    await engine.stop();
    throw err;
  }
  return engine;
}

async function startDockerd(dir: string): Promise<Engine> {
  const socket = join(dir, 'dockerd.sock');
  const log = join(dir, 'dockerd.log');
  await writeFile(join(dir, 'daemon.json'), '{}\n'); // ignore any host-wide /etc/docker/daemon.json
  const args = [
    '-H', `unix://${socket}`, '--config-file', join(dir, 'daemon.json'),
    '--data-root', join(dir, 'dockerd-root'), '--exec-root', join(dir, 'dockerd-exec'), '--pidfile', join(dir, 'dockerd.pid'),
    '--bridge', 'none', '--iptables=false', '--ip-masq=false',
    '--containerd-namespace', 'berthbench', '--containerd-plugins-namespace', 'berthbenchp',
  ];
  const child = spawn(DOCKERD, args, { stdio: ['ignore', openSync(log, 'a'), openSync(log, 'a')], detached: true });
  const pid = child.pid!;
  const stop = async () => {
    // Remember dockerd's children (its private containerd) with their start times: once dockerd
    // exits they are reparented and can no longer be found from it.
    const kids = descendants(pid).map((p) => ({ p, start: stat(p)?.start }));
    await terminate(child, 30_000);
    for (const { p, start } of kids) {
      if (stat(p)?.start !== start) continue; // exited (or PID reused)
      const kill = (sig: NodeJS.Signals) => stat(p)?.start === start && process.kill(p, sig);
      kill('SIGTERM');
      for (let i = 0; i < 50 && stat(p)?.start === start; i++) await sleep(100);
      kill('SIGKILL');
    }
  };
  const engine: Engine = { name: 'dockerd', pid, env: cliEnv(dir, socket), stop };
  try {
    await waitForPing('dockerd', child, socket, log);
  } catch (err) {
    await engine.stop();
    throw err;
  }
  return engine;
}

/** Unmounts anything left under dir (deepest first), then removes it. */
async function removeDir(dir: string) {
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((m): m is string => !!m && m.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    if (spawnSync('umount', [m]).status !== 0) spawnSync('umount', ['-l', m]);
  }
  await rm(dir, { recursive: true, force: true });
}

// ---- images --------------------------------------------------------------------------------------

/**
 * Merges docker-archives into one whose manifest.json lists every image, so one `docker load` brings
 * in all of them. docker save names files by content (config digest, layer chain ID), so a name seen
 * twice (the shared busybox base) is the same file and is written once.
 */
async function mergeArchives(parts: string[], out: string) {
  const pack = tar.pack();
  const written = finished(pack.pipe(createWriteStream(out)));
  const add = (header: Partial<tar.Header> & { name: string }, data: Buffer) =>
    new Promise<void>((resolve, reject) => pack.entry(header, data, (err) => (err ? reject(err) : resolve())));
  const manifest: object[] = [];
  const seen = new Map<string, string>(); // name → content digest
  for (const part of parts) {
    const extract = tar.extract();
    createReadStream(part).pipe(extract);
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      const data = Buffer.concat(chunks);
      const { name } = entry.header;
      if (name === 'manifest.json') {
        manifest.push(...JSON.parse(data.toString()));
      } else if (name !== 'repositories') {
        const digest = createHash('sha256').update(data).digest('hex');
        if (!seen.has(name)) await add(entry.header, data);
        else if (seen.get(name) !== digest) throw new Error(`${part}: ${name} differs from an earlier archive's`);
        seen.set(name, digest);
      }
    }
  }
  if (manifest.length !== parts.length) throw new Error(`merged ${manifest.length} manifests from ${parts.length} archives`);
  await add({ name: 'manifest.json' }, Buffer.from(JSON.stringify(manifest)));
  pack.finalize();
  await written;
}

// ---- the benchmark -------------------------------------------------------------------------------

type Cell = number | string; // a measurement, or the error that prevented it
interface Row {
  step: string;
  unit: 'ms' | 'MiB';
  cells: Cell[]; // one per engine, in engine order
}

/**
 * Runs one step on every engine: fn gives one measurement or several (the row shows their median).
 * A failure becomes the cell's text instead of ending the run.
 */
async function step(rows: Row[], engines: Engine[], label: string, unit: Row['unit'], fn: (e: Engine) => Promise<number | number[]>) {
  const row: Row = { step: label, unit, cells: [] };
  for (const e of engines) {
    if (interrupted) throw new Error('interrupted');
    try {
      const runs = [await fn(e)].flat();
      process.stderr.write(`bench: ${label} on ${e.name}: ${runs.map((x) => x.toFixed(unit === 'ms' ? 0 : 1)).join(', ')} ${unit}\n`);
      row.cells.push(median(runs));
    } catch (err) {
      process.stderr.write(`bench: ${label} on ${e.name}: ${(err as Error).message}\n`);
      row.cells.push(`error: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  rows.push(row);
}

function printTable(rows: Row[], names: string[]) {
  const fmt = (c: Cell, unit: string) => (typeof c === 'number' ? `${c.toFixed(unit === 'ms' ? 0 : 1)} ${unit}` : c);
  const table = [
    ['step', ...names, `ratio ${names[0]}/${names[1]}`],
    ...rows.map((r) => {
      const [a, b] = r.cells;
      return [r.step, ...r.cells.map((c) => fmt(c, r.unit)), typeof a === 'number' && typeof b === 'number' ? (a / b).toFixed(2) : '—'];
    }),
  ];
  const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  console.log(line(table[0]));
  console.log('|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|');
  for (const r of table.slice(1)) console.log(line(r));
}

async function serverVersion(e: Engine) {
  return (await docker(e, ['version', '--format', '{{.Server.Version}}']).catch((err: Error) => ({ stdout: err.message }))).stdout.trim();
}

async function main() {
  if (!existsSync(DOCKERD)) {
    console.error(`bench: ${DOCKERD} is missing; install the reference engine with: sudo bash scripts/deps.sh`);
    process.exit(1);
  }
  if (!existsSync(DOCKER)) {
    console.error(`bench: the docker CLI (${DOCKER}) is missing`);
    process.exit(1);
  }
  if (process.getuid?.() !== 0) {
    console.error('bench: run as root (dockerd and berth need it)');
    process.exit(1);
  }

  const dir = await mkdtemp('/var/tmp/berth-bench-');
  const engines: Engine[] = [];
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      for (const c of running) c.kill('SIGKILL');
      for (const e of engines) await e.stop().catch((err) => console.error(`bench: stopping ${e.name}: ${err}`));
      await removeDir(dir);
    })());
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      console.error(`bench: ${sig}, cleaning up`);
      interrupted = true;
      void cleanup().finally(() => process.exit(130));
    });
  }

  try {
    // Images: one ~100 MB multi-layer image, and 200 tiny distinct images merged into one archive.
    process.stderr.write('bench: building test images\n');
    const big = await buildSizedArchive(join(dir, 'big.tar'), { ...BIG, seed: 1 });
    const bigLabel = `${Math.round(statSync(big.archive).size / 1e6)} MB, ${big.diffIds.length} layers`;
    await mkdir(join(dir, 'small'));
    const parts: string[] = [];
    for (let i = 0; i < SMALL_COUNT; i++) {
      const out = join(dir, 'small', `${i}.tar`);
      parts.push((await buildSizedArchive(out, { tag: `bench/small-${i}:latest`, layers: 1, bytesPerLayer: 1024, seed: 1000 + i })).archive);
    }
    const smallArchive = join(dir, 'small.tar');
    await mergeArchives(parts, smallArchive);
    await rm(join(dir, 'small'), { recursive: true });

    engines.push(await startBerth(dir), await startDockerd(dir));
    const names = engines.map((e) => e.name);
    const memory = (e: Engine) => rss(e.pid, e.name === 'dockerd') / 2 ** 20;
    await sleep(2000);
    const atStart = new Map(engines.map((e) => [e, memory(e)]));
    const loadAvg = os.loadavg()[0].toFixed(2); // other work on the machine skews the times
    const rows: Row[] = [];

    // 1. load the big image: 3 cold loads, the image removed before each.
    await step(rows, engines, `docker load -i (${bigLabel}), median of 3`, 'ms', async (e) => {
      const ms: number[] = [];
      for (let i = 0; i < 3; i++) {
        await docker(e, ['rmi', '-f', BIG.tag]).catch(() => {}); // absent on the first run
        spawnSync('sync'); // don't bill this load for the previous one's writeback
        ms.push(await time(e, ['load', '-i', big.archive]));
      }
      const id = (await docker(e, ['image', 'inspect', '--format', '{{.Id}}', BIG.tag])).stdout.trim();
      if (id !== big.id) throw new Error(`loaded ID ${id}, expected ${big.id}`);
      return ms;
    });

    // 2. list with 200 (+1) images: one load of the merged archive (timed once, for information).
    await step(rows, engines, `docker load -i (${SMALL_COUNT} tiny images, one archive), once`, 'ms', (e) => time(e, ['load', '-i', smallArchive]));
    await step(rows, engines, `docker images (${SMALL_COUNT + 1} images), median of 10`, 'ms', async (e) => {
      const listed = (await docker(e, ['images', '-q'])).stdout.trim().split('\n').filter(Boolean).length;
      if (listed < SMALL_COUNT + 1) throw new Error(`lists ${listed} images, expected ${SMALL_COUNT + 1}`);
      const ms: number[] = [];
      for (let i = 0; i < 10; i++) ms.push(await time(e, ['images']));
      return ms;
    });

    // 3. save the big image.
    await step(rows, engines, `docker save -o (${bigLabel}), median of 3`, 'ms', async (e) => {
      const out = join(dir, `saved-${e.name}.tar`);
      const ms: number[] = [];
      for (let i = 0; i < 3; i++) {
        await rm(out, { force: true });
        spawnSync('sync');
        ms.push(await time(e, ['save', '-o', out, BIG.tag]));
      }
      await rm(out, { force: true });
      return ms;
    });

    // 4. idle memory (dockerd's includes its containerd), after the workload and, for reference, at start.
    await sleep(2000);
    await step(rows, engines, 'idle RSS after the workload', 'MiB', async (e) => memory(e));
    await step(rows, engines, 'idle RSS at start (for reference)', 'MiB', async (e) => atStart.get(e)!);

    const cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
    const pkg = JSON.parse(await readFile(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8'));
    const cli = (await docker(engines[1], ['version', '--format', '{{.Client.Version}}'])).stdout.trim();
    const containerd = (await exec('containerd', ['--version']).catch(() => ({ stdout: '?' }))).stdout.trim();
    console.log();
    console.log(`machine: ${os.availableParallelism()} CPUs (nproc) ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Linux ${os.release()}, load average ${loadAvg} at start`);
    console.log(`versions: berth ${pkg.version} (server says ${await serverVersion(engines[0])}) on Node ${process.version}; ` +
      `dockerd ${await serverVersion(engines[1])} (${containerd}); docker CLI ${cli}`);
    console.log(`state on ${dir} (${spawnSync('findmnt', ['-no', 'FSTYPE', '-T', dir]).stdout?.toString().trim() || '?'}); times are wall clock of the docker CLI command\n`);
    printTable(rows, names);
  } finally {
    await cleanup();
  }
}

main().catch((err) => {
  if (!interrupted) console.error(`bench: ${err instanceof Error ? err.stack ?? err.message : err}`);
  process.exitCode = 1;
});
