// Shared by the benchmarks (bench/images.ts, bench/containers.ts): running the docker CLI against a
// private berth and a private reference dockerd started side by side under one temporary directory,
// timing, memory, the results table, and a cleanup that leaves nothing of the run behind.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scrubNetworks } from '../test/helpers/network.js';
import type { BuiltImage } from '../test/images/build.js';

export const DOCKER = '/usr/local/bin/docker';
export const DOCKERD = '/usr/sbin/dockerd';
const BERTH_MAIN = fileURLToPath(new URL('../server/main.js', import.meta.url));

export interface Engine {
  name: string;
  pid: number;
  env: NodeJS.ProcessEnv; // DOCKER_HOST / DOCKER_CONFIG for the CLI
  /** Its API socket (for requests without the CLI: `api`). */
  socket?: string;
  /** Milliseconds from its launch to the first answered /_ping. */
  startMs?: number;
  stop(): Promise<void>;
}

// ---- processes -----------------------------------------------------------------------------------

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

const running = new Set<ChildProcess>(); // CLI commands in flight, killed on interrupt
let interrupted = false; // set by SIGINT/SIGTERM: the remaining steps are skipped

export function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
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
export async function docker(engine: Engine, args: string[]): Promise<Run> {
  const res = await exec(DOCKER, args, engine.env);
  if (res.code !== 0) {
    // The CLI's last line is often only "Run 'docker run --help' …": the daemon's error comes before it.
    const said = res.stderr.trim().split('\n');
    throw new Error(`docker ${args[0]}: ${said.find((l) => /error/i.test(l)) ?? (said.pop() || `exit ${res.code}`)}`);
  }
  return res;
}

/** An answer of the engine's API (`api`), with the milliseconds from sending to the body's end. */
export interface ApiResult {
  status: number;
  body: string;
  ms: number;
}

/** A keep-alive connection of its own for one API client (`api`'s agent option). */
export const apiAgent = () => new Agent({ keepAlive: true, maxSockets: 1 });

/**
 * One request to an engine's API on its socket (node:http, no CLI): a JSON body when given. Throws on a
 * failed connection or, unless `anyStatus`, on a status of 300 or more (with the engine's message).
 */
export function api(
  e: Engine,
  method: string,
  path: string,
  o: { body?: object; agent?: Agent; anyStatus?: boolean; timeoutMs?: number } = {},
): Promise<ApiResult> {
  const payload = o.body === undefined ? undefined : JSON.stringify(o.body);
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = request(
      {
        socketPath: e.socket,
        method,
        path,
        agent: o.agent,
        headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        timeout: o.timeoutMs ?? 300_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 300 && !o.anyStatus) reject(new Error(`${method} ${path.split('?')[0]}: ${status} ${body.trim().slice(0, 200)}`));
          else resolve({ status, body, ms: performance.now() - start });
        });
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer`)));
    req.end(payload);
  });
}

/** Wall-clock milliseconds of one docker CLI command (CLI start-up included, as a user sees it). */
export const time = async (engine: Engine, args: string[]) => (await docker(engine, args)).ms;

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

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
    await sleep(20); // fine enough to time a start (Engine.startMs)
  }
  const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-20).join('\n') : '';
  throw new Error(`${name} did not answer /_ping on ${socket}\n${tail}`);
}

// /proc helpers: parent PID and start time from /proc/PID/stat (fields after the "(comm)").
export function stat(pid: number): { ppid: number; start: string } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), start: f[19] };
  } catch {
    return undefined; // gone
  }
}

const pids = () =>
  readdirSync('/proc')
    .map(Number)
    .filter((p) => Number.isInteger(p) && p > 0);

function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const p of pids()) {
    const st = stat(p);
    if (st) children.set(st.ppid, [...(children.get(st.ppid) ?? []), p]);
  }
  const out: number[] = [];
  for (let queue = [pid]; queue.length; ) {
    for (const c of children.get(queue.shift()!) ?? []) out.push(c), queue.push(c);
  }
  return out;
}

/** A running process: its PID, start time (so a reused PID is not mistaken for it), name and argv. */
export interface Proc {
  pid: number;
  start: string;
  comm: string;
  cmdline: string;
}

function proc(pid: number): Proc | undefined {
  try {
    const st = stat(pid);
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    return st && { pid, start: st.start, comm, cmdline };
  } catch {
    return undefined; // gone
  }
}

/** Every process (not this one) whose command line mentions text, e.g. the bench directory. */
export const processesMentioning = (text: string): Proc[] =>
  pids()
    .filter((p) => p !== process.pid)
    .map(proc)
    .filter((p): p is Proc => !!p && p.cmdline.includes(text));

const alive = (p: Proc) => stat(p.pid)?.start === p.start;

/** Resident memory in bytes (VmRSS) of a process, optionally plus all its descendants. */
export function rss(pid: number, withDescendants: boolean): number {
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

/** An engine's own memory in MiB: berth's API process; dockerd with all its descendants (its containerd). */
export const engineRss = (e: Engine) => rss(e.pid, e.name === 'dockerd') / 2 ** 20;

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

/** Sends sig to each process that is still the same process, then waits up to waitMs for them to be gone. */
async function killAll(procs: Proc[], sig: NodeJS.Signals, waitMs: number) {
  for (const p of procs) {
    try {
      if (alive(p)) process.kill(p.pid, sig);
    } catch {
      // exited meanwhile
    }
  }
  for (const deadline = Date.now() + waitMs; Date.now() < deadline && procs.some(alive); ) await sleep(100);
}

// ---- engines -------------------------------------------------------------------------------------

const cliEnv = (dir: string, socket: string) => ({ ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: join(dir, 'docker-config') });

export const berthPaths = (dir: string, prefix = 'berth') => ({
  socket: join(dir, `${prefix}.sock`),
  root: join(dir, `${prefix}-root`),
  runRoot: join(dir, `${prefix}-run`),
  log: join(dir, `${prefix}.log`),
});

/** `node dist/server/main.js serve` on DIR/berth.sock (paths named by `prefix`), env added to its environment. */
export async function startBerth(dir: string, o: { env?: NodeJS.ProcessEnv; prefix?: string } = {}): Promise<Engine> {
  const { socket, root, runRoot, log } = berthPaths(dir, o.prefix);
  const args = [BERTH_MAIN, 'serve', '--socket', socket, '--root', root, '--run-root', runRoot];
  const start = performance.now();
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', openSync(log, 'a'), openSync(log, 'a')],
    detached: true,
    env: { ...process.env, ...o.env },
  });
  const engine: Engine = {
    name: 'berth',
    pid: child.pid!,
    env: cliEnv(dir, socket),
    socket, // berth keeps its networks' bridges and rules while they exist (as dockerd keeps docker0): they go with the run.
    stop: () => terminate(child, 15_000).then(() => scrubNetworks(root)),
  };
  try {
    await waitForPing('berth', child, socket, log, 20_000);
    engine.startMs = performance.now() - start;
  } catch (err) {
    await engine.stop();
    throw err;
  }
  return engine;
}

/**
 * Starts a private dockerd (and its containerd); extraArgs are appended to its command line. Without
 * networking it makes no bridge and no firewall rules; with it, its default docker0 and iptables rules
 * (removed afterwards by removeDockerNetworking).
 */
export async function startDockerd(dir: string, extraArgs: string[] = [], networking = false): Promise<Engine> {
  if (networking) await holdDockerNetworkingLock();
  const socket = join(dir, 'dockerd.sock');
  const log = join(dir, 'dockerd.log');
  await writeFile(join(dir, 'daemon.json'), '{}\n'); // ignore any host-wide /etc/docker/daemon.json
  const args = [
    '-H',
    `unix://${socket}`,
    '--config-file',
    join(dir, 'daemon.json'),
    '--data-root',
    join(dir, 'dockerd-root'),
    '--exec-root',
    join(dir, 'dockerd-exec'),
    '--pidfile',
    join(dir, 'dockerd.pid'),
    ...(networking ? [] : ['--bridge', 'none', '--iptables=false', '--ip-masq=false']),
    '--containerd-namespace',
    'berthbench',
    '--containerd-plugins-namespace',
    'berthbenchp',
    ...extraArgs,
  ];
  const start = performance.now();
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
  const engine: Engine = { name: 'dockerd', pid, env: cliEnv(dir, socket), socket, stop };
  try {
    await waitForPing('dockerd', child, socket, log);
    engine.startMs = performance.now() - start;
  } catch (err) {
    await engine.stop();
    throw err;
  }
  return engine;
}

// ---- leftovers -----------------------------------------------------------------------------------

/** The iptables rules and chains dockerd made (DOCKER*, docker0), as iptables-restore lines that undo them. */
function dockerRulesUndo(): string[] {
  const undo: string[] = [];
  let table = '';
  const chains: string[] = [];
  for (const line of spawnSync('iptables-save').stdout.toString().split('\n')) {
    if (line.startsWith('*')) table = line.slice(1);
    else if (line.startsWith(':DOCKER')) chains.push(`${table} ${line.slice(1).split(' ')[0]}`);
    else if (line.startsWith('-A ') && /DOCKER|docker0/.test(line) && !line.startsWith('-A DOCKER')) undo.push(`*${table}`, `-D${line.slice(2)}`, 'COMMIT');
  }
  for (const c of chains) {
    const [t, name] = c.split(' ');
    undo.push(`*${t}`, `-F ${name}`, 'COMMIT');
  }
  for (const c of chains) {
    const [t, name] = c.split(' ');
    undo.push(`*${t}`, `-X ${name}`, 'COMMIT');
  }
  return undo;
}

const DOCKER_NETWORKING_LOCK = '/run/lock/berth-bench-docker0.lock';
let networkingLock: Promise<void> | undefined;

/**
 * docker0 and dockerd's chains are host-wide: one bench at a time may run a networking dockerd (another's
 * end would delete the bridge under it). Held with flock(1) by a small shell until this process exits
 * (it watches this process, so a killed bench frees it too); waits up to 20 minutes for another bench.
 */
function holdDockerNetworkingLock(): Promise<void> {
  return (networkingLock ??= new Promise<void>((resolve, reject) => {
    const holder = spawn(
      'flock',
      ['-w', '1200', DOCKER_NETWORKING_LOCK, 'sh', '-c', `echo locked; while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done`],
      { stdio: ['ignore', 'pipe', 'ignore'], detached: true },
    );
    holder.unref();
    process.on('exit', () => holder.kill());
    let said = '';
    holder.stdout!.on('data', (d: Buffer) => {
      said += d;
      if (said.includes('locked')) {
        (holder.stdout as unknown as { unref?: () => void }).unref?.();
        resolve();
      }
    });
    holder.on('exit', () => reject(new Error(`another bench holds ${DOCKER_NETWORKING_LOCK} (its dockerd has docker0)`)));
    process.stderr.write(`bench: waiting for ${DOCKER_NETWORKING_LOCK} if another bench holds it\n`);
  }));
}

/** Whether dockerd's networking is on the host already (another dockerd): then the bench leaves it alone. */
export const dockerNetworkingPresent = () => dockerRulesUndo().length > 0 || spawnSync('ip', ['link', 'show', 'docker0']).status === 0;

/**
 * After a networking dockerd stopped: its docker0 bridge and iptables chains go (dockerd leaves them),
 * and any veth pair of its default bridge that a dockerd killed mid-start left half made.
 */
export function removeDockerNetworking(): void {
  spawnSync('ip', ['link', 'del', 'docker0']);
  // Pairs whose both ends are still here (never moved into a container), named as libnetwork names them
  // (veth + 7 hex digits; netavark's are vethN): a dockerd killed mid-start leaves them.
  const links = JSON.parse(spawnSync('ip', ['-j', 'link', 'show', 'type', 'veth']).stdout?.toString() || '[]') as { ifname: string; link?: string }[];
  const names = new Set(links.map((l) => l.ifname));
  const dockerish = (n?: string) => !!n && /^veth[0-9a-f]{7}$/.test(n) && names.has(n);
  for (const l of links) if (dockerish(l.ifname) && dockerish(l.link) && names.delete(l.ifname)) spawnSync('ip', ['link', 'del', l.ifname]);
  const undo = dockerRulesUndo();
  for (let i = 0; i < undo.length; i += 3) spawnSync('iptables-restore', ['--noflush'], { input: `${undo.slice(i, i + 3).join('\n')}\n` });
}

/** Mount points under dir, from /proc/self/mountinfo (octal escapes decoded), deepest first. */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4]?.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m): m is string => !!m && m.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
}

/**
 * Ends whatever of the run outlived its engines: every process whose command line mentions dir (conmon,
 * containerd-shim, runc, berth's exit command …) with all its descendants (the containers, which do not
 * mention dir), plus the extra processes given (containers the benchmark saw start). Then unmounts
 * anything under dir (deepest first, repeated for stacked mounts) and removes dir. Reports on stderr
 * what it had to kill and anything that could not be removed.
 */
async function removeLeftovers(dir: string, extra: Proc[]) {
  const found = processesMentioning(dir);
  const tree = found
    .flatMap((p) => descendants(p.pid))
    .map(proc)
    .filter((p): p is Proc => !!p);
  const byPid = new Map([...found, ...tree, ...extra.filter(alive)].map((p) => [p.pid, p]));
  const left = [...byPid.values()];
  if (left.length) {
    process.stderr.write(`bench: killing ${left.length} leftover process(es): ${left.map((p) => `${p.pid} ${p.comm}`).join(', ')}\n`);
    await killAll(left, 'SIGKILL', 5000);
  }
  for (let i = 0; i < 5; i++) {
    const mounts = mountsUnder(dir);
    if (!mounts.length) break;
    for (const m of mounts) {
      if (spawnSync('umount', [m]).status !== 0) spawnSync('umount', ['-l', m]);
    }
  }
  await rm(dir, { recursive: true, force: true });
  const still = [...processesMentioning(dir), ...left.filter(alive)];
  if (still.length) process.stderr.write(`bench: still running after cleanup: ${still.map((p) => `${p.pid} ${p.comm}`).join(', ')}\n`);
  const mounted = mountsUnder(dir);
  if (mounted.length) process.stderr.write(`bench: still mounted after cleanup: ${mounted.join(', ')}\n`);
  if (existsSync(dir)) process.stderr.write(`bench: ${dir} could not be removed\n`);
}

// ---- the table -----------------------------------------------------------------------------------

export type Cell = number | string; // a measurement, or the error that prevented it
export interface Row {
  step: string;
  unit: 'ms' | 'MiB';
  cells: Cell[]; // one per engine, in engine order
}

/**
 * Runs one step on every engine: fn gives one measurement or several (the row shows their median).
 * A failure becomes the cell's text instead of ending the run.
 */
export async function step(rows: Row[], engines: Engine[], label: string, unit: Row['unit'], fn: (e: Engine) => Promise<number | number[]>) {
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

/**
 * As step, for a step that measures several rows at once: fn gives one cell per label (a number, or a
 * text such as `n/a`). A failure on an engine puts its error in each of that engine's cells.
 */
export async function stepRows(rows: Row[], engines: Engine[], labels: { step: string; unit: Row['unit'] }[], fn: (e: Engine) => Promise<Cell[]>) {
  const added = labels.map((l): Row => ({ ...l, cells: [] }));
  for (const e of engines) {
    if (interrupted) throw new Error('interrupted');
    let cells: Cell[];
    try {
      cells = await fn(e);
    } catch (err) {
      cells = labels.map(() => `error: ${(err as Error).message.split('\n')[0]}`);
    }
    for (const [i, row] of added.entries()) {
      const c = cells[i] ?? 'n/a';
      row.cells.push(c);
      process.stderr.write(`bench: ${row.step} on ${e.name}: ${typeof c === 'number' ? `${c.toFixed(1)} ${row.unit}` : c}\n`);
    }
  }
  rows.push(...added);
}

/**
 * As step, but the engines take turns: each of `rounds` rounds runs `run` once on every engine (the
 * order alternating from round to round), so load that comes and goes on the machine falls on both
 * alike. `prepare` runs first on each engine (not timed), `check` after the last round. An engine that
 * fails gets the error in its cell and sits out the remaining rounds.
 */
export async function interleaved(
  rows: Row[],
  engines: Engine[],
  label: string,
  unit: Row['unit'],
  o: { rounds: number; prepare?: (e: Engine) => Promise<void>; run: (e: Engine) => Promise<number>; check?: (e: Engine) => Promise<void> },
) {
  const runs = engines.map(() => [] as number[]);
  const failed: (string | undefined)[] = engines.map(() => undefined);
  const attempt = async (i: number, fn: () => Promise<unknown>) => {
    if (interrupted) throw new Error('interrupted');
    if (failed[i] !== undefined) return;
    try {
      await fn();
    } catch (err) {
      process.stderr.write(`bench: ${label} on ${engines[i]!.name}: ${(err as Error).message}\n`);
      failed[i] = `error: ${(err as Error).message.split('\n')[0]}`;
    }
  };
  for (const [i, e] of engines.entries()) if (o.prepare) await attempt(i, () => o.prepare!(e));
  for (let r = 0; r < o.rounds; r++) {
    const order = engines.map((_, i) => i);
    if (r % 2) order.reverse();
    for (const i of order) await attempt(i, async () => runs[i]!.push(await o.run(engines[i]!)));
  }
  for (const [i, e] of engines.entries()) if (o.check) await attempt(i, () => o.check!(e));
  const row: Row = { step: label, unit, cells: [] };
  for (const [i, e] of engines.entries()) {
    const xs = runs[i]!;
    if (failed[i] === undefined)
      process.stderr.write(
        `bench: ${label} on ${e.name}: ${xs.map((x) => x.toFixed(unit === 'ms' ? 0 : 1)).join(', ')} ${unit} (mean ${mean(xs).toFixed(unit === 'ms' ? 0 : 1)})\n`,
      );
    row.cells.push(failed[i] ?? median(xs));
  }
  rows.push(row);
}

export function printTable(rows: Row[], names: string[]) {
  // An error's text is cut short in the table (stderr has it whole).
  const fmt = (c: Cell, unit: string) =>
    typeof c === 'number' ? `${c.toFixed(unit === 'ms' && c >= 10 ? 0 : 1)} ${unit}` : c.length > 90 ? `${c.slice(0, 89)}…` : c;
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

/** The lines above the table: machine, versions (engines are berth, dockerd), where the state lives. */
export async function printHeader(engines: Engine[], dir: string, loadAvg: string) {
  const cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  const pkg = JSON.parse(await readFile(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8'));
  const cli = (await docker(engines[1], ['version', '--format', '{{.Client.Version}}'])).stdout.trim();
  const containerd = (await exec('containerd', ['--version']).catch(() => ({ stdout: '?' }))).stdout.trim();
  console.log();
  console.log(
    `machine: ${os.availableParallelism()} CPUs (nproc) ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Linux ${os.release()}, load average ${loadAvg} at start`,
  );
  console.log(
    `versions: berth ${pkg.version} (server says ${await serverVersion(engines[0])}) on Node ${process.version}; ` +
      `dockerd ${await serverVersion(engines[1])} (${containerd}); docker CLI ${cli}`,
  );
  console.log(
    `state on ${dir} (${spawnSync('findmnt', ['-no', 'FSTYPE', '-T', dir]).stdout?.toString().trim() || '?'}); times are wall clock of the docker CLI command\n`,
  );
}

// ---- a run ---------------------------------------------------------------------------------------

export interface Bench {
  /** The run's private directory (sockets, roots, archives), removed at the end. */
  dir: string;
  /** The engines started so far (push them here): stopped at the end. */
  engines: Engine[];
  /** Runs fn at the end (also after an error or a signal) while the engines still run, before they stop. */
  beforeStop(fn: () => Promise<void>): void;
  /** Processes the run started that do not mention dir (containers): killed at the end if still there. */
  track(pid: number): void;
  /** Runs fn at the very end (also after an error or a signal), once the engines stopped and dir is gone. */
  afterStop(fn: () => void): void;
}

/**
 * Checks the prerequisites, makes the run's directory and runs body. At the end — also after an error,
 * SIGINT or SIGTERM — kills the CLI commands in flight, runs the beforeStop hooks, stops the engines,
 * and removes every process, mount and file of the run (see removeLeftovers).
 */
export async function runBench(body: (b: Bench) => Promise<void>) {
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
  const hooks: (() => Promise<void>)[] = [];
  const finals: (() => void)[] = [];
  const tracked: Proc[] = [];
  const bench: Bench = {
    dir,
    engines: [],
    beforeStop: (fn) => hooks.push(fn),
    track: (pid) => {
      const p = proc(pid);
      if (p) tracked.push(p);
    },
    afterStop: (fn) => finals.push(fn),
  };
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      for (const c of running) c.kill('SIGKILL');
      for (const fn of hooks) await fn().catch((err) => console.error(`bench: cleanup: ${err instanceof Error ? err.message : err}`));
      for (const e of bench.engines) await e.stop().catch((err) => console.error(`bench: stopping ${e.name}: ${err}`));
      await removeLeftovers(dir, tracked);
      for (const fn of finals) {
        try {
          fn();
        } catch (err) {
          console.error(`bench: cleanup: ${err instanceof Error ? err.message : err}`);
        }
      }
    })());
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      console.error(`bench: ${sig}, cleaning up`);
      interrupted = true;
      void cleanup().finally(() => process.exit(130));
    });
  }

  try {
    try {
      await body(bench);
    } finally {
      await cleanup();
    }
  } catch (err) {
    if (!interrupted) console.error(`bench: ${err instanceof Error ? (err.stack ?? err.message) : err}`);
    process.exitCode = 1;
  }
}

/** Starts berth and dockerd into `engines`, loads the busybox test image into both (checking its ID),
 * and lets them settle. */
export async function startWithBusybox(dir: string, engines: Engine[], image: string, dockerdNetworking = false): Promise<void> {
  engines.push(await startBerth(dir), await startDockerd(dir, [], dockerdNetworking));
  await loadBusybox(dir, engines, image);
  await sleep(2000);
}

/** Builds the busybox test image (DIR/busybox.tar) and loads it into each engine with `docker load`, checking its ID. */
export async function loadBusybox(dir: string, engines: Engine[], image: string): Promise<BuiltImage> {
  process.stderr.write('bench: building the busybox image\n');
  const { buildBusyboxArchive } = await import('../test/images/build.js');
  const busybox = await buildBusyboxArchive(join(dir, 'busybox.tar'), image);
  for (const e of engines) {
    await docker(e, ['load', '-i', busybox.archive]);
    const id = (await docker(e, ['image', 'inspect', '--format', '{{.Id}}', image])).stdout.trim();
    if (id !== busybox.id) throw new Error(`${e.name} loaded ${image} as ${id}, expected ${busybox.id}`);
  }
  return busybox;
}

/**
 * The cgroups a run's containers left (each container's paths under every controller, as `pathsOf`
 * names them relative to a controller): removed when empty, and said on stderr, as are those that stay.
 */
export function sweepCgroups(ids: Iterable<string>, pathsOf: (id: string) => string[]): void {
  const left: string[] = [];
  let removed = 0;
  for (const controller of existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup') : [])
    for (const id of ids)
      for (const path of pathsOf(id).map((p) => join('/sys/fs/cgroup', controller, p))) {
        if (!existsSync(path)) continue;
        try {
          rmdirSync(path);
          removed++;
        } catch {
          left.push(path);
        }
      }
  if (removed) process.stderr.write(`bench: removed ${removed} empty cgroup(s) left by the containers\n`);
  if (left.length) process.stderr.write(`bench: cgroups left behind: ${left.join(', ')}\n`);
}
