// A long-lived helper process spoken to in lines: the perl helpers that fork processes (spawner.ts), make
// mount(2)/umount2(2) calls (storage/rootfs.ts) and hold the host's netavark lock (network/netavark.ts).
// Started at first use; never what keeps the engine (or a short-lived `berth cleanup`) running except
// while its caller awaits an answer; gone with the engine, at the end of its stdin.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';

export interface LineHelperOptions {
  /** How its output is decoded into lines. */
  encoding: BufferEncoding;
  /** Each line it writes, without the newline. */
  line: (line: string) => void;
  /** It ended, or could not start (`started` false: it is not tried again). What it said on stderr is in the error. */
  gone: (err: Error, started: boolean) => void;
  /** Not to be used at all (a switch in the environment, an architecture it does not know). */
  disabled?: boolean;
}

export class LineHelper {
  private child?: ChildProcess;
  private broken: boolean;

  constructor(
    private readonly command: string,
    private readonly args: string[],
    private readonly o: LineHelperOptions,
  ) {
    this.broken = !!o.disabled;
  }

  /** Writes one request line; false when the helper is not available (the caller does it its own way). */
  send(line: string): boolean {
    const child = this.process();
    if (!child) return false;
    child.stdin!.write(`${line}\n`);
    return true;
  }

  /** Whether it runs now (a signal for a process of an earlier helper must not start a new one). */
  running(): boolean {
    return this.child !== undefined;
  }

  /** Whether it can be used (started now if it is not running). */
  available(): boolean {
    return this.process() !== undefined;
  }

  /** While answers are awaited, the helper's output keeps the process alive; not otherwise. */
  awaiting(yes: boolean): void {
    const stdout = this.child?.stdout as Socket | undefined;
    if (yes) stdout?.ref();
    else stdout?.unref();
  }

  private process(): ChildProcess | undefined {
    if (this.broken) return undefined;
    if (this.child) return this.child;
    const child = spawn(this.command, this.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    let buffered = '';
    let said = '';
    child.stdout!.setEncoding(this.o.encoding);
    child.stdout!.on('data', (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        this.o.line(line);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (said = (said + d.toString()).slice(-1000)));
    let started = false;
    child.on('spawn', () => (started = true));
    const gone = (err?: Error) => {
      if (this.child !== child) return;
      this.child = undefined;
      if (!started) this.broken = true;
      this.o.gone(err ?? new Error(`${this.command} helper exited${said ? `: ${said.trim()}` : ''}`), started);
    };
    child.on('error', gone);
    child.on('exit', () => gone());
    child.stdin!.on('error', () => undefined);
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as Socket).unref();
    return child;
  }
}
