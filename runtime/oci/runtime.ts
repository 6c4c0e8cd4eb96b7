// The OCI runtime command line (runc, or crun where it works), with a private state root per engine.
import { constants, existsSync, open as openCallback } from 'node:fs';
import { promisify } from 'node:util';
import { access, unlink } from 'node:fs/promises';
import { Socket } from 'node:net';
import { EngineError } from '../errors.js';
import { pidsWithoutCgroup, withoutCgroups } from '../rootless/cgroups.js';
import { execFileOff } from '../util/spawner.js';

const openFd = promisify(openCallback);

export interface RuntimeState {
  id: string;
  pid: number;
  status: 'creating' | 'created' | 'running' | 'paused' | 'stopped';
}

export class OciRuntime {
  constructor(
    readonly path: string,
    readonly stateRoot: string,
  ) {}

  /** Through the process helper (util/spawner.ts): the engine's event loop does not wait on a fork. */
  private run(args: string[], input?: string): Promise<string> {
    return execFileOff(this.path, ['--root', this.stateRoot, ...args], { timeout: 30_000, input }).then(
      (r) => r.stdout,
      (err: Error & { stderr?: string }) => {
        throw new EngineError('internal', `${this.name} ${args[0]}: ${(err.stderr || err.message).trim()}`);
      },
    );
  }

  get name(): string {
    return this.path.split('/').pop() ?? this.path;
  }

  /** Whether the runtime has state for the container (runc and crun keep a directory per container): no process spawned. */
  knows = (id: string) => existsSync(`${this.stateRoot}/${id}`);

  /** knows(), off the event loop. */
  has = (id: string): Promise<boolean> =>
    access(`${this.stateRoot}/${id}`).then(
      () => true,
      () => false,
    );

  /** The runtime's view of a container, or undefined when it does not know it. */
  async state(id: string): Promise<RuntimeState | undefined> {
    try {
      return JSON.parse(await this.run(['state', id])) as RuntimeState;
    } catch {
      return undefined;
    }
  }

  /** Lets a created container run: through its exec FIFO when that works, else `<runtime> start`. */
  async start(id: string): Promise<void> {
    if (!(await this.releaseInit(id))) await this.run(['start', id]);
  }
  // `--all` signals through the container's cgroup: without one (rootless/cgroups.ts) runc refuses it, so
  // the container's init alone (its PID namespace goes with it).
  kill = (id: string, signal: string | number, all = false) => this.run(['kill', ...(all && !withoutCgroups() ? ['--all'] : []), id, String(signal)]);
  pause = (id: string) => this.run(['pause', id]);
  resume = (id: string) => this.run(['resume', id]);
  delete = (id: string) =>
    this.run(['delete', '--force', id]).then(
      () => undefined,
      () => undefined,
    );
  update = (id: string, resources: object) => this.run(['update', '--resources', '-', id], JSON.stringify(resources));

  async pids(id: string): Promise<number[]> {
    if (withoutCgroups()) {
      const state = await this.state(id);
      return state?.pid ? pidsWithoutCgroup(state.pid) : [];
    }
    return JSON.parse((await this.run(['ps', '--format', 'json', id])) || '[]') as number[];
  }

  /**
   * `runc start` (and crun's) reads the container's exec FIFO, which lets the waiting init exec the
   * user process, then removes the FIFO (the runtime reports `running` once it is gone). Done here it
   * saves a Go binary's start on every `docker run`. False, with nothing done, when the init never
   * wrote (not there, or not within the timeout): the caller then asks the runtime, which knows why.
   */
  private async releaseInit(id: string, timeoutMs = 2000): Promise<boolean> {
    const fifo = `${this.stateRoot}/${id}/exec.fifo`;
    let fd: number;
    try {
      // Non-blocking: opening the read end must not wait for a writer (an init that died never comes).
      // Opened off the event loop (a sync open measured ~2 ms per start under load).
      // A plain descriptor (not a FileHandle, which would close it when collected): the socket owns it.
      fd = await openFd(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch {
      return false;
    }
    return new Promise((resolve) => {
      const reader = new Socket({ fd, readable: true, writable: false });
      let wrote = false;
      const finish = (released: boolean) => {
        clearTimeout(timer);
        reader.destroy();
        if (released)
          unlink(fifo).then(
            () => resolve(true),
            () => resolve(true),
          );
        else resolve(false);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      reader.on('data', () => (wrote = true));
      // The init's end closes when it execs (close-on-exec): the user process is running.
      reader.on('end', () => finish(wrote));
      reader.on('error', () => finish(false));
    });
  }
}
