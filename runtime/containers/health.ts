// The healthcheck monitor: while a container with a healthcheck runs (not paused), its probe runs every
// interval as an exec session in it (exec/service.ts: conmon --exec, with dockerd's exec_create,
// exec_start and exec_die events), and each result moves State.Health on (health-state.ts), recorded in
// the DB with a `health_status: …` event when the status changes. Runs in the API server only: while
// no engine runs nothing probes, and the status stays as last recorded. Monitors follow the container
// service's changes (start, exit, pause, unpause, removal) and resume for running containers when the
// server starts.
import { goDuration } from '../build/gofmt.js';
import type { ExecService } from '../exec/service.js';
import { readLogBatches } from './logs.js';
import type { ContainerService } from './service.js';
import type { Container } from './store.js';
import { nowNano } from '../util/time.js';
import {
  applyResult,
  DEFAULT_TIMEOUT,
  MAX_OUTPUT,
  nextProbeDelay,
  probeCommand,
  startingHealth,
  type HealthResult,
  type HealthStatus,
} from './health-state.js';
import { conflict } from '../errors.js';

/** conmon's bound on a probe's log: only the first MAX_OUTPUT bytes are kept, the disk must not fill. */
const PROBE_LOG_MAX = 1 << 20;
/** After a timeout the probe gets SIGTERM, then SIGKILL after this long (dockerd's termProcessTimeout). */
const TERM_GRACE_MS = 10_000;

const now = nowNano; // probe times with nanoseconds, as dockerd's

/** What a command's Output keeps: its stderr too or not, and up to how many bytes. */
export interface OutputCapture {
  stderr: boolean;
  max: number;
}
const PROBE_CAPTURE: OutputCapture = { stderr: true, max: MAX_OUTPUT };
/** A command's whole stdout, as far as its log keeps it. */
export const STDOUT_CAPTURE: OutputCapture = { stderr: false, max: PROBE_LOG_MAX };

/** One container run's monitor: a probe, then the next after the interval, until stopped. */
class Monitor {
  private stopped = false;
  private timer?: NodeJS.Timeout;
  /** The probe in flight (and its cleanup): a monitor that follows waits for it. */
  private probing: Promise<void> = Promise.resolve();
  private readonly abort = new AbortController();

  constructor(
    private readonly health: HealthMonitor,
    readonly id: string,
    readonly runId: number,
    after: Promise<void>,
  ) {
    void after.then(() => this.schedule());
  }

  /** Stops probing; resolves once a probe in flight has ended (it is killed). */
  stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort();
    return this.probing;
  }

  private schedule(): void {
    if (this.stopped) return;
    const c = this.health.current(this);
    if (!c?.health || !c.spec.healthcheck) return;
    this.timer = setTimeout(
      () => {
        this.probing = this.probe().catch((err: Error) => void process.stderr.write(`berth: health check of ${this.id}: ${err.message}\n`));
        void this.probing.then(() => this.schedule());
      },
      nextProbeDelay(c.spec.healthcheck, c.health.Status, c.started_at),
    );
  }

  private async probe(): Promise<void> {
    const c = this.health.current(this);
    const command = c && probeCommand(c.spec);
    if (!c || !command || this.stopped) return;
    const timeout = (c.spec.healthcheck?.timeout || DEFAULT_TIMEOUT) / 1e6;
    const { result, ended } = await this.health.runProbe(c, command, timeout, this.abort.signal);
    if (result && !this.stopped) this.health.record(this, result);
    await ended;
  }
}

/** What probes use: the containers' records and state changes, and exec sessions to run in them. */
export type HealthContainers = Pick<ContainerService, 'events' | 'store' | 'record'>;
export type HealthExecs = Pick<ExecService, 'changes' | 'create' | 'discard' | 'logPath' | 'signal' | 'start' | 'store'>;

export class HealthMonitor {
  private readonly monitors = new Map<string, Monitor>();

  constructor(
    private readonly containers: HealthContainers,
    private readonly execs: HealthExecs,
  ) {}

  /** Starts monitoring (the API server): running containers' probes resume, changes are followed. Returns the stop. */
  start(): () => Promise<void> {
    // Called inside the container service's own steps: a failure here (a full disk) must not fail them.
    const onChange = (id: string) => {
      try {
        this.update(id);
      } catch (err) {
        process.stderr.write(`berth: health check of ${id}: ${(err as Error).message}\n`);
      }
    };
    this.containers.events.on('changed', onChange);
    for (const c of this.containers.store.all()) if (c.state === 'running') onChange(c.id);
    return async () => {
      this.containers.events.off('changed', onChange);
      const monitors = [...this.monitors.values()];
      this.monitors.clear();
      await Promise.all(monitors.map((m) => m.stop()));
    };
  }

  /** Whether any container is being health-checked: an engine under --idle-exit stays up for it. */
  active(): boolean {
    return this.monitors.size > 0;
  }

  /** The container of a monitor while that run still runs; undefined once it stopped, paused or went. */
  current(m: Monitor): Container | undefined {
    const c = this.containers.store.get(m.id);
    return c && c.state === 'running' && c.run_id === m.runId && this.monitors.get(m.id) === m ? c : undefined;
  }

  /** Starts or stops a container's monitor to match its state: one per running (unpaused) run with a probe. */
  private update(id: string): void {
    const c = this.containers.store.get(id);
    const wanted = !!c && c.state === 'running' && !!probeCommand(c.spec);
    const existing = this.monitors.get(id);
    if (existing && wanted && existing.runId === c.run_id) return;
    let after = Promise.resolve();
    if (existing) {
      this.monitors.delete(id);
      after = existing.stop();
    }
    if (!wanted) return;
    // Running with a healthcheck but no state yet: started before this berth kept health.
    if (!c.health) this.containers.store.setHealth(id, c.run_id, startingHealth(c.spec, null)!);
    this.monitors.set(id, new Monitor(this, id, c.run_id, after));
  }

  /**
   * One probe: an exec session of the command, its exit code and the head of its output. Past the
   * timeout: SIGTERM (SIGKILL after the grace), and dockerd's "Health check exceeded timeout (…)" with
   * exit code -1, given at once; `ended` resolves when the process is gone and its session discarded.
   * A probe that cannot start gives -1 and the runtime's message. No result once aborted. `capture`:
   * what Output keeps (a probe's: stdout and stderr, MAX_OUTPUT bytes; podman top's ps: all its stdout).
   */
  async runProbe(
    c: Container,
    command: string[],
    timeoutMs: number,
    signal: AbortSignal,
    capture: OutputCapture = PROBE_CAPTURE,
  ): Promise<{ result?: HealthResult; ended: Promise<void> }> {
    const start = now();
    let id: string;
    try {
      id = this.execs.create(c.id, { Cmd: command, AttachStdout: true, AttachStderr: true });
    } catch (err) {
      return { result: { Start: start, End: now(), ExitCode: -1, Output: (err as Error).message }, ended: Promise.resolve() };
    }
    const execId = id;
    try {
      await this.execs.start(execId, { logSizeMax: PROBE_LOG_MAX });
    } catch (err) {
      return { result: { Start: start, End: now(), ExitCode: -1, Output: (err as Error).message }, ended: this.execs.discard(execId) };
    }
    const code = await this.exitWithin(execId, timeoutMs, signal);
    if (code !== undefined) {
      const result = { Start: start, End: now(), ExitCode: code, Output: await this.output(execId, capture) };
      await this.execs.discard(execId);
      return { result: signal.aborted ? undefined : result, ended: Promise.resolve() };
    }
    // Timed out (or aborted: the container stopped or paused): end the process, then forget it.
    const end = now();
    const ended = (async () => {
      this.execs.signal(execId, signal.aborted ? 'SIGKILL' : 'SIGTERM');
      if ((await this.exitWithin(execId, TERM_GRACE_MS, signal)) === undefined) {
        this.execs.signal(execId, 'SIGKILL');
        await this.exitWithin(execId, TERM_GRACE_MS);
      }
      await this.execs.discard(execId);
    })();
    if (signal.aborted) return { ended };
    const Output = `Health check exceeded timeout (${goDuration(timeoutMs * 1e6)})`;
    return { result: { Start: start, End: end, ExitCode: -1, Output }, ended };
  }

  /** The session's exit code once it ends within `ms`; undefined past that or once aborted. */
  private async exitWithin(execId: string, ms: number, signal?: AbortSignal): Promise<number | undefined> {
    const deadline = Date.now() + ms;
    const ended = () => {
      const s = this.execs.store.find(execId);
      return !s ? -1 : s.state === 'exited' ? (s.exit_code ?? -1) : undefined;
    };
    while (Date.now() < deadline && !signal?.aborted) {
      const code = ended();
      if (code !== undefined) return code;
      // Woken by the session's end (conmon's sync pipe), or after a while (the exit file fallback).
      await new Promise<void>((resolve) => {
        const wake = (id: string) => {
          if (id !== execId) return;
          done();
        };
        const done = () => {
          clearTimeout(timer);
          this.execs.changes.off('changed', wake);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(1, Math.min(250, deadline - Date.now())));
        this.execs.changes.on('changed', wake);
        signal?.addEventListener('abort', done);
      });
    }
    return signal?.aborted ? undefined : ended();
  }

  /** Stdout (and stderr) as written, the first `max` bytes; more is marked with "...", as dockerd. */
  private async output(execId: string, { stderr, max }: OutputCapture): Promise<string> {
    const s = this.execs.store.find(execId);
    if (!s) return '';
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    const entries = readLogBatches(this.execs.logPath(s), { stdout: true, stderr, follow: false, running: () => false, coalesce: true });
    for await (const batch of entries) {
      for (const e of batch) {
        const kept = e.data.subarray(0, max - size);
        chunks.push(kept);
        size += kept.length;
        truncated = kept.length < e.data.length;
        if (truncated) break;
      }
      if (truncated) break;
    }
    return Buffer.concat(chunks).toString('utf8') + (truncated ? '...' : '');
  }

  /** A probe's result applied to the run it belongs to; a change of status is an event. */
  record(m: Monitor, result: HealthResult): void {
    const c = this.current(m);
    if (c) this.apply(c, result);
  }

  private apply(c: Container, result: HealthResult): void {
    if (!c.health || !c.spec.healthcheck) return;
    const next = applyResult(c.health, c.spec.healthcheck, result, c.started_at);
    if (!this.containers.store.setHealth(c.id, c.run_id, next)) return;
    if (next.Status !== c.health.Status) this.containers.record(c, `health_status: ${next.Status}`);
  }

  /**
   * One probe now (podman healthcheck run), recorded as the monitor records its own. The verdict is the
   * probe's: healthy on success; a failure is `starting` within the start period, `unhealthy` after it
   * (whatever the retries make of the container's status).
   */
  async checkNow(nameOrId: string): Promise<{ status: HealthStatus; result: HealthResult }> {
    const c = this.containers.store.resolve(nameOrId);
    if (c.state !== 'running') throw conflict(`container ${c.id} is not running`);
    const command = probeCommand(c.spec);
    if (!command || !c.spec.healthcheck) throw conflict(`container ${c.id} has no defined healthcheck`);
    const timeout = (c.spec.healthcheck.timeout || DEFAULT_TIMEOUT) / 1e6;
    const { result } = await this.runProbe(c, command, timeout, new AbortController().signal);
    if (!result) throw conflict(`container ${c.id} is not running`); // unreachable: nothing aborts it
    const current = this.containers.store.get(c.id);
    if (current && current.state === 'running' && current.run_id === c.run_id) {
      if (!current.health) this.containers.store.setHealth(c.id, c.run_id, startingHealth(current.spec, null)!);
      this.apply(this.containers.store.get(c.id)!, result);
    }
    if (result.ExitCode === 0) return { status: 'healthy', result };
    const sinceStart = Date.parse(result.Start) - Date.parse(c.started_at ?? result.Start);
    const starting = c.health?.Status === 'starting' && sinceStart < (c.spec.healthcheck.startPeriod ?? 0) / 1e6;
    return { status: starting ? 'starting' : 'unhealthy', result };
  }
}
