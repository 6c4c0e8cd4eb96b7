// Exec sessions: a process started in a running container by its own conmon (`conmon --exec`), like
// Podman. conmon runs `<runtime> exec`, writes the output to the session's log (which clients follow
// as they follow a container's) and reports the exit code on its sync pipe and in an `exit` file.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { EventEmitter } from 'node:events';
import { conflict } from '../errors.js';
import { startConmon } from '../containers/conmon.js';
import { resizeTerminal } from '../containers/attach.js';
import type { ContainerService } from '../containers/service.js';
import type { Container } from '../containers/store.js';
import { execProcess } from './process.js';
import type { ExecConfig, ExecSession, ExecStore } from './store.js';

export interface ExecStartOptions {
  consoleSize?: [number, number];
  /** conmon's bound on the session's log file (health probes keep only the head of their output). */
  logSizeMax?: number;
  /** The exit code recorded when the command is not there (podman: 127); 126, dockerd's, for every other failure. */
  notFoundCode?: number;
}

/** runc's words for a command that is not there (as podman tells 127 from 126). */
export const commandNotFound = (message: string) => /executable file not found|no such file or directory/.test(message);

/** dockerd's event action: entrypoint, a space, the arguments (so `exec_create: true ` for a lone word). */
const actionOf = (action: string, cmd: string[] | null | undefined) => `${action}: ${cmd?.[0] ?? ''} ${(cmd ?? []).slice(1).join(' ')}`;

/** What exec sessions use of the container service: records, paths, runtimes, events. */
export type ExecContainers = Pick<ContainerService, 'store' | 'paths' | 'record' | 'runtimeOf'>;

export class ExecService {
  /** 'changed' (exec ID) when a session starts or ends. */
  readonly changes = new EventEmitter();
  /**
   * Terminal sizes asked for while a session's conmon was still starting (cockpit-podman resizes right
   * after it sends the start): applied once conmon is there, or the terminal would keep no size (0x0).
   */
  readonly pendingResize = new Map<string, [number, number]>();

  constructor(
    readonly store: ExecStore,
    private readonly containers: ExecContainers,
  ) {
    this.changes.setMaxListeners(0);
  }

  /** Where a session's files live: process spec, log, conmon's FIFOs and exit file. */
  dir = (s: Pick<ExecSession, 'id' | 'container_id'>) => `${this.containers.paths.bundle(s.container_id)}/exec/${s.id}`;
  logPath = (s: Pick<ExecSession, 'id' | 'container_id'>) => `${this.dir(s)}/log`;
  /** conmon's socket dir name: short, as the attach socket path must fit in 108 bytes. */
  uuid = (s: Pick<ExecSession, 'id'>) => s.id.slice(0, 12);
  attachSocket = (s: Pick<ExecSession, 'id'>) => `${this.containers.paths.socketDir()}/${this.uuid(s)}/attach`;
  controlFifo = (s: Pick<ExecSession, 'id' | 'container_id'>) => `${this.dir(s)}/ctl`;

  create(nameOrId: string, config: ExecConfig): string {
    const c = this.runningContainer(nameOrId);
    const id = randomBytes(32).toString('hex');
    this.store.insert(id, c.id, config);
    this.containers.record(c, actionOf('exec_create', config.Cmd), { execID: id });
    return id;
  }

  private runningContainer(nameOrId: string): Container {
    const c = this.containers.store.resolve(nameOrId);
    if (c.state === 'paused') throw conflict(`Container ${c.name} is paused, unpause the container before exec`);
    if (c.state !== 'running') throw conflict(`Container ${c.id} is not running`);
    return c;
  }

  /** The session with its state brought up to date (an exit the server did not see, a container gone). */
  inspect(id: string): ExecSession {
    this.store.get(id); // 404 for an unknown session
    this.settle(id);
    return this.store.get(id);
  }

  /** A running session's end from conmon's exit file, or from its container's (killed with it: 137). */
  private settle(id: string): void {
    const s = this.store.find(id);
    if (s?.state !== 'running') return;
    const code = this.exitFileCode(s);
    if (code !== undefined) return this.finish(id, code);
    const c = this.containers.store.get(s.container_id);
    if (!c || (c.state !== 'running' && c.state !== 'paused')) this.finish(id, 137);
  }

  private exitFileCode(s: ExecSession): number | undefined {
    try {
      const text = readFileSync(`${this.dir(s)}/exit`, 'utf8').trim();
      return text === '' ? undefined : Number(text);
    } catch {
      return undefined;
    }
  }

  /** What start() refuses before it does anything: a session not there (404), run already, or whose container does not run (409). */
  checkStartable(id: string): { session: ExecSession; container: Container } {
    const session = this.store.get(id);
    if (session.state !== 'created') throw conflict(`Exec command ${id} has already run`);
    return { session, container: this.runningContainer(session.container_id) };
  }

  /** Starts the session's process; resolves once it runs (its PID recorded). */
  async start(id: string, o: ExecStartOptions = {}): Promise<ExecSession> {
    const { session: s, container: c } = this.checkStartable(id);
    if (!this.store.transition(id, 'created', { state: 'running' })) throw conflict(`Exec command ${id} is already running`);
    const dir = this.dir(s);
    try {
      await mkdir(dir, { recursive: true });
      const config = { ...s.config, ConsoleSize: o.consoleSize ?? s.config.ConsoleSize };
      const process = await execProcess(
        this.containers.paths.bundle(c.id),
        this.containers.paths.merged(c.id),
        c.spec.process.groups ?? [],
        config,
        c.echo.libpod ? 'never' : 'always',
      );
      await writeFile(`${dir}/process.json`, JSON.stringify(process));
      await writeFile(this.logPath(s), '', { flag: 'a' });
      const runtime = this.containers.runtimeOf(c);
      const pid = await startConmon({
        id: c.id,
        uuid: this.uuid(s),
        name: c.name,
        bundle: dir,
        persistDir: dir,
        runtimePath: runtime.path,
        runtimeRoot: runtime.stateRoot,
        logPath: this.logPath(s),
        logSizeMax: o.logSizeMax,
        socketDir: this.containers.paths.socketDir(),
        conmonPidFile: `${dir}/conmon.pid`,
        stdin: !!s.config.AttachStdin,
        leaveStdinOpen: false,
        tty: !!s.config.Tty,
        exitCommand: [],
        execProcessSpec: `${dir}/process.json`,
        onExecExit: (code) => this.finish(id, code),
      });
      this.store.transition(id, 'running', { state: 'running', pid });
      const size = this.pendingResize.get(id);
      this.pendingResize.delete(id);
      if (size) await resizeTerminal(this.controlFifo(s), ...size).catch(() => undefined);
      this.containers.record(c, actionOf('exec_start', s.config.Cmd), { execID: id });
      this.changes.emit('changed', id);
      this.watchExitFile(s);
      return this.store.get(id);
    } catch (err) {
      this.pendingResize.delete(id);
      const code = o.notFoundCode !== undefined && commandNotFound((err as Error).message) ? o.notFoundCode : 126;
      this.store.transition(id, 'running', { state: 'exited', exit_code: code });
      this.changes.emit('changed', id);
      throw err;
    }
  }

  /** Signals a running session's process (a health probe past its timeout). */
  signal(id: string, signal: NodeJS.Signals): void {
    const s = this.store.find(id);
    if (s?.state !== 'running' || s.pid <= 0) return;
    try {
      process.kill(s.pid, signal);
    } catch {
      // already gone
    }
  }

  /** Forgets an ended session: its record, files and attach socket link (health probes, one per run). */
  async discard(id: string): Promise<void> {
    const s = this.store.find(id);
    if (!s || s.state === 'running') return;
    this.store.remove(id);
    await rm(this.dir(s), { recursive: true, force: true });
    await rm(this.containers.paths.attachLink(s.id), { force: true });
  }

  /** A fallback to the sync pipe, while the session runs. */
  private watchExitFile(s: ExecSession) {
    const timer = setInterval(() => {
      if (this.store.find(s.id)?.state !== 'running') return clearInterval(timer);
      this.settle(s.id);
    }, 500);
    timer.unref();
  }

  /** Records a session's end, once (sync pipe, exit file and inspect may all see it); never throws. */
  private finish(id: string, code: number) {
    try {
      const s = this.store.find(id);
      if (!s || !this.store.transition(id, 'running', { state: 'exited', exit_code: code })) return;
      const c = this.containers.store.get(s.container_id);
      if (c) this.containers.record(c, 'exec_die', { execID: id, exitCode: String(code) });
      this.changes.emit('changed', id);
    } catch (err) {
      // Called from conmon's callback and a timer, where a throw would take the engine down (a DB write
      // on a full disk). The session stays running in the record: the exit file is read again next tick.
      process.stderr.write(`berth: exec ${id}: recording its exit failed: ${(err as Error).message}\n`);
    }
  }
}
