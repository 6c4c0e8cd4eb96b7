// berth vs dockerd: `docker exec` latency and `docker logs` throughput (and the engine's memory while it
// serves the logs), driven by the docker CLI against both engines on this machine, in one run. Prints each
// step's result on each engine and the ratio berth/dockerd (lower is better).
// Needs root, the docker CLI and Debian's docker.io (a private dockerd + containerd is started).
// Every container runs with --network none on both engines: networking is not compared.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import { join } from 'node:path';
import {
  startWithBusybox,
  DOCKER,
  docker,
  mean,
  median,
  printHeader,
  printTable,
  runBench,
  startBerth,
  startDockerd,
  step,
  time,
  type Engine,
  type Row,
} from './harness.js';

const IMAGE = 'busybox:latest';
const NET = ['--network', 'none'];
const EXEC_WARMUP = 3;
const EXEC_RUNS = 30;
const EXEC_CONTAINER = 'bench-exec';
const LOGS_CONTAINER = 'bench-logs';
const LOG_BYTES = 200 * 2 ** 20; // 209715200
const LOG_LINE = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz\n');
const LOG_RUNS = 3;

const lines = (s: string) => s.trim().split('\n').filter(Boolean);

// ---- memory of the engine's own process ------------------------------------------------------------

/** VmRSS and VmHWM (peak RSS) of one process, in bytes, from /proc/PID/status (as the harness reads VmRSS). */
function memory(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Resets the process's VmHWM to its current VmRSS (`5` to /proc/PID/clear_refs, Linux ≥ 4.0); false if refused. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

// ---- reading `docker logs` -------------------------------------------------------------------------

// The log is LOG_LINE repeated, cut at LOG_BYTES: the byte at stream offset o is LOG_LINE[o % 37]. A chunk
// is compared (memcmp) with this pattern from offset o % 37, in pieces no longer than PIECE.
const PIECE = 1 << 20;
const PATTERN = Buffer.alloc(PIECE + LOG_LINE.length, LOG_LINE);

/** Offset in chunk of its first byte that differs from the expected log at stream offset `at`, or -1. */
function mismatch(chunk: Buffer, at: number): number {
  for (let i = 0; i < chunk.length; i += PIECE) {
    const piece = chunk.subarray(i, i + PIECE);
    const p = (at + i) % LOG_LINE.length;
    if (piece.equals(PATTERN.subarray(p, p + piece.length))) continue;
    for (let j = 0; j < piece.length; j++) if (piece[j] !== PATTERN[p + j]) return i + j;
  }
  return -1;
}

const logReaders = new Set<ChildProcess>(); // `docker logs` in flight (not the harness's exec): killed at the end

interface LogsRun {
  ms: number;
  growth: number; // MiB: the engine's peak RSS during the run minus its RSS before
  sampled: number; // MiB: the same from VmRSS polled every 10 ms (a cross-check of the VmHWM reading)
}

/**
 * One `docker logs LOGS_CONTAINER`, its stdout counted (and compared with the expected bytes) in this
 * process as it arrives. Throws unless exactly LOG_BYTES of the expected log came on stdout and nothing
 * on stderr.
 */
async function readLogs(e: Engine): Promise<LogsRun> {
  await sleep(1000); // let the previous run's buffers go
  const peakReset = resetPeak(e.pid);
  const before = memory(e.pid);
  let sampledPeak = before.rss;
  const sampler = setInterval(() => {
    try {
      sampledPeak = Math.max(sampledPeak, memory(e.pid).rss);
    } catch {
      // the engine is gone; the run fails below
    }
  }, 10);

  let bytes = 0;
  let stderr = '';
  let stderrBytes = 0;
  let firstBad = -1;
  const start = performance.now();
  const child = spawn(DOCKER, ['logs', LOGS_CONTAINER], { env: e.env, stdio: ['ignore', 'pipe', 'pipe'] });
  logReaders.add(child);
  child.stdout.on('data', (chunk: Buffer) => {
    if (firstBad < 0) {
      const bad = mismatch(chunk, bytes);
      if (bad >= 0) firstBad = bytes + bad;
    }
    bytes += chunk.length;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderrBytes += chunk.length;
    if (stderr.length < 2000) stderr += chunk;
  });
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? -1));
  }).finally(() => {
    logReaders.delete(child);
    clearInterval(sampler);
  });
  const ms = performance.now() - start;
  const after = memory(e.pid);
  sampledPeak = Math.max(sampledPeak, after.rss);

  if (code !== 0) throw new Error(`docker logs exited ${code}: ${stderr.trim().split('\n').pop() ?? ''}`);
  if (bytes !== LOG_BYTES) throw new Error(`docker logs delivered ${bytes} bytes on stdout, expected ${LOG_BYTES}`);
  if (firstBad >= 0) throw new Error(`docker logs delivered the wrong bytes: the first differs at offset ${firstBad}`);
  if (stderrBytes) throw new Error(`docker logs wrote ${stderrBytes} bytes on stderr: ${stderr.trim().split('\n')[0]}`);
  const growth = ((peakReset ? after.hwm : sampledPeak) - before.rss) / 2 ** 20;
  if (!peakReset) process.stderr.write(`bench: could not reset ${e.name}'s VmHWM; its peak is the polled VmRSS\n`);
  return { ms, growth, sampled: (sampledPeak - before.rss) / 2 ** 20 };
}

// ---- the run ---------------------------------------------------------------------------------------

await runBench(async (bench) => {
  const { dir, engines } = bench;
  // Whatever happens, every container goes before the engines stop (the harness then kills and unmounts
  // anything that still mentions the run's directory).
  bench.beforeStop(async () => {
    for (const c of logReaders) c.kill('SIGKILL');
    for (const e of engines) {
      try {
        const ids = lines((await docker(e, ['ps', '-aq', '--no-trunc'])).stdout);
        if (ids.length) await docker(e, ['rm', '-f', ...ids]);
        if (ids.length) process.stderr.write(`bench: removed ${ids.length} container(s) from ${e.name}\n`);
      } catch (err) {
        process.stderr.write(`bench: removing ${e.name}'s containers: ${(err as Error).message}\n`);
      }
    }
  });

  await startWithBusybox(dir, engines, IMAGE);
  const names = engines.map((e) => e.name);
  const loadAvg = os.loadavg()[0].toFixed(2); // other work on the machine skews the times
  const rows: Row[] = [];

  // 1. `docker exec c true` in one running container: 3 warm-ups, then 30 sequential execs.
  const execMs = new Map<Engine, number[]>();
  await step(rows, engines, `docker exec c true, mean of ${EXEC_RUNS}`, 'ms', async (e) => {
    await docker(e, ['run', '-d', '--name', EXEC_CONTAINER, ...NET, IMAGE, 'sleep', '1000']);
    const pid = Number((await docker(e, ['inspect', '--format', '{{.State.Pid}}', EXEC_CONTAINER])).stdout.trim());
    if (pid > 0) bench.track(pid);
    for (let i = 0; i < EXEC_WARMUP; i++) await docker(e, ['exec', EXEC_CONTAINER, 'true']);
    const ms: number[] = [];
    for (let i = 0; i < EXEC_RUNS; i++) ms.push(await time(e, ['exec', EXEC_CONTAINER, 'true']));
    process.stderr.write(`bench: docker exec on ${e.name}: ${ms.map((x) => x.toFixed(0)).join(', ')} ms\n`);
    execMs.set(e, ms);
    return mean(ms);
  });
  await step(rows, engines, `docker exec c true, median of ${EXEC_RUNS}`, 'ms', async (e) => {
    const ms = execMs.get(e);
    if (!ms) throw new Error('not measured (the exec step failed)');
    return median(ms);
  });

  // 2. `docker logs` of a 200 MiB log: each engine's writer container runs alone to its end (its time
  //    printed for information), then LOG_RUNS timed reads of the whole log, counted and checked here.
  const logRuns = new Map<Engine, LogsRun[]>();
  await step(rows, engines, `docker logs c (200 MiB log) into a byte counter, median of ${LOG_RUNS}`, 'ms', async (e) => {
    const t = performance.now();
    await docker(e, ['run', '-d', '--name', LOGS_CONTAINER, ...NET, IMAGE, 'sh', '-c', `yes ${LOG_LINE.toString().trim()} | head -c ${LOG_BYTES}`]);
    const exit = (await docker(e, ['wait', LOGS_CONTAINER])).stdout.trim();
    process.stderr.write(
      `bench: writing the 200 MiB log on ${e.name} (docker run -d … ; docker wait): ` + `${((performance.now() - t) / 1000).toFixed(1)} s (for information)\n`,
    );
    if (exit !== '0') throw new Error(`the log writer exited ${exit}`);
    const runs: LogsRun[] = [];
    for (let i = 0; i < LOG_RUNS; i++) runs.push(await readLogs(e));
    process.stderr.write(
      `bench: docker logs on ${e.name}: ${runs
        .map(
          (r) =>
            `${r.ms.toFixed(0)} ms ` +
            `(${(LOG_BYTES / 1e3 / r.ms).toFixed(0)} MB/s, peak RSS +${r.growth.toFixed(1)} MiB, polled +${r.sampled.toFixed(1)} MiB)`,
        )
        .join(', ')}\n`,
    );
    logRuns.set(e, runs);
    return runs.map((r) => r.ms);
  });
  // Throughput from the median time: higher is better, so it has no ratio column; the time ratio above is it.
  rows.push({
    step: `docker logs throughput (MB/s = 10^6 B/s, from the median time)`,
    unit: 'ms',
    cells: engines.map((e) => {
      const runs = logRuns.get(e);
      return runs ? `${(LOG_BYTES / 1e3 / median(runs.map((r) => r.ms))).toFixed(0)} MB/s` : 'error: not measured';
    }),
  });
  await step(rows, engines, `engine's peak RSS growth serving docker logs, max of ${LOG_RUNS}`, 'MiB', async (e) => {
    const runs = logRuns.get(e);
    if (!runs) throw new Error('not measured (the logs step failed)');
    return Math.max(...runs.map((r) => r.growth));
  });

  await printHeader(engines, dir, loadAvg);
  printTable(rows, names);
  console.log(
    `\nRSS: berth's node process; dockerd's own process (not its containerd). ` +
      `Peak = VmHWM after the run (reset to VmRSS before it), minus VmRSS before it.`,
  );
  const failed = rows.filter((r) => r.cells.some((c) => typeof c === 'string' && c.startsWith('error')));
  if (failed.length) throw new Error(`${failed.length} step(s) failed: ${failed.map((r) => r.step).join('; ')}`);
});
