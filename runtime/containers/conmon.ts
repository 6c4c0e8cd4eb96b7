// conmon: one monitor per container. It runs `<runtime> create`, holds the container's stdio, writes
// the log and the exit file, serves the attach socket, and calls the exit command when the container
// ends — whether or not the API server is running.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { EngineError } from '../errors.js';
import { forget, spawnOff } from '../util/spawner.js';

export interface ConmonOptions {
  id: string;
  /** conmon's name for this monitor: the attach socket dir under socketDir (short, for the 108-byte limit). */
  uuid: string;
  name: string;
  bundle: string;
  /** conmon's persist dir: its ctl/winsz FIFOs, and an `exit` file with the exit code. */
  persistDir: string;
  runtimePath: string;
  runtimeRoot: string;
  exitDir?: string;
  logPath: string;
  logSizeMax?: number;
  socketDir: string;
  conmonPidFile: string;
  stdin: boolean;
  leaveStdinOpen: boolean;
  tty: boolean;
  exitCommand: string[];
  /** An exec session in the (running) container `id`, with this OCI process spec. */
  execProcessSpec?: string;
  /** Exec sessions: called with the exit code conmon reports on the sync pipe. */
  onExecExit?: (code: number) => void;
}

/** Starts conmon (which daemonizes) and returns the container's PID once the runtime has created it. */
export function startConmon(o: ConmonOptions): Promise<number> {
  const args = [
    '--api-version',
    '1',
    '-c',
    o.id,
    '-u',
    o.uuid,
    '-r',
    o.runtimePath,
    '-b',
    o.bundle,
    '-p',
    `${o.persistDir}/pidfile`,
    '-n',
    o.name,
    '-l',
    `k8s-file:${o.logPath}`,
    '--socket-dir-path',
    o.socketDir,
    '--conmon-pidfile',
    o.conmonPidFile,
    '-0',
    o.persistDir,
    '--log-level',
    'error',
    '--runtime-arg',
    '--root',
    '--runtime-arg',
    o.runtimeRoot,
  ];
  if (o.exitDir) args.push('--exit-dir', o.exitDir);
  if (o.execProcessSpec) args.push('--exec', '--exec-process-spec', o.execProcessSpec);
  if (o.logSizeMax) args.push('--log-size-max', String(o.logSizeMax));
  if (o.stdin) args.push('-i');
  if (o.leaveStdinOpen) args.push('--leave-stdin-open');
  if (o.tty) args.push('-t');
  const [command, ...commandArgs] = o.exitCommand;
  if (command) {
    args.push('--exit-command', command);
    for (const a of commandArgs) args.push('--exit-command-arg', a);
  }
  return new Promise((resolve, reject) => {
    // fd 3 is the sync pipe: conmon writes {"data": pid} or {"data": -1, "message": "..."} on it.
    const child = startMonitor(args);
    let sync = '';
    let stderr = '';
    child.onStderr((d) => (stderr += d.toString()));
    const pipe = { destroy: () => child.closeSync() };
    let settled = false;
    const answer = () => {
      const lines = sync.split('\n').filter((l) => l.includes('"data"') && l.trim().endsWith('}'));
      const line = lines[0];
      if (!line) return;
      if (settled) {
        // An exec's second message is its exit code.
        if (lines[1]) {
          const code = (JSON.parse(lines[1]) as { data: number }).data;
          // After the start's own continuation (which records exec_start): a quick exit comes in the same read.
          setImmediate(() => o.onExecExit?.(code));
          pipe.destroy();
        }
        return;
      }
      settled = true;
      const msg = JSON.parse(line) as { data: number; message?: string };
      // The daemonized conmon keeps its end; a container needs nothing more from it, an exec its exit code.
      if (!o.onExecExit || msg.data <= 0) pipe.destroy();
      else if (lines[1]) answer();
      if (msg.data > 0) resolve(msg.data);
      else if (o.execProcessSpec) reject(new EngineError('invalid', `OCI runtime exec failed: ${logrusMessage((msg.message ?? stderr).trim())}: unknown`));
      else reject(new EngineError('invalid', `OCI runtime create failed: ${(msg.message ?? stderr).trim()}`));
    };
    child.onSync((d) => {
      sync += d.toString();
      answer();
    });
    child.onError((err) => reject(new EngineError('internal', `cannot run conmon: ${err.message}`)));
    child.onSyncEnd(() => {
      answer();
      if (!settled) reject(new EngineError('internal', `conmon failed: ${stderr.trim() || 'no answer on the sync pipe'}`));
    });
  });
}

/** conmon started, through the process helper when it runs (util/spawner.ts), and what is read of it. */
interface Monitor {
  onStderr(fn: (d: Buffer) => void): void;
  onSync(fn: (d: Buffer) => void): void;
  onSyncEnd(fn: () => void): void;
  onError(fn: (err: Error) => void): void;
  /** Closes our end of the sync pipe. */
  closeSync(): void;
}

function startMonitor(args: string[]): Monitor {
  const off = spawnOff('conmon', args, { stderr: true, fd3: true, detached: true, env: { _OCI_SYNCPIPE: '3' } });
  if (off) {
    // The helper keeps what it relays of this process until the sync pipe is done with.
    let syncDone = false;
    let exited = false;
    // Closed by us: nothing more is delivered (as after destroying a pipe's read end).
    let closed = false;
    const done = () => syncDone && exited && forget(off);
    off.events.on('exit', () => ((exited = true), done()));
    off.events.on('end:fd3', () => ((syncDone = true), done()));
    return {
      onStderr: (fn) => off.events.on('stderr', fn),
      onSync: (fn) => off.events.on('fd3', (d: Buffer) => closed || fn(d)),
      onSyncEnd: (fn) => off.events.on('end:fd3', () => closed || fn()),
      onError: (fn) => off.events.on('error', fn),
      closeSync: () => {
        closed = true;
        off.closeFd3();
      },
    };
  }
  const child = spawn('conmon', args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], env: { ...process.env, _OCI_SYNCPIPE: '3' }, detached: true });
  child.unref();
  const pipe = child.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
  return {
    onStderr: (fn) => child.stderr!.on('data', fn),
    onSync: (fn) => pipe.on('data', fn),
    onSyncEnd: (fn) => pipe.on('end', fn),
    onError: (fn) => child.on('error', fn),
    closeSync: () => pipe.destroy(),
  };
}

/**
 * runc's error as dockerd words it: the message of its logrus line (`time=… level=error msg="…"`),
 * unquoted; anything else as it is. The error line's where warnings come before it (rootless runc
 * without cgroups warns `unable to get oom kill count` first).
 */
export function logrusMessage(text: string): string {
  const line = text.split('\n').find((l) => /(?:^|\s)level=(?:error|fatal)\s/.test(l)) ?? text;
  const quoted = /(?:^|\s)msg=("(?:[^"\\]|\\.)*")/.exec(line)?.[1];
  if (!quoted) return text;
  try {
    const value: unknown = JSON.parse(quoted);
    return typeof value === 'string' ? value : text;
  } catch {
    return text;
  }
}

/**
 * Waits for the conmon whose pid file is given to be gone, killing it after `timeoutMs`. A monitor that
 * outlives its deleted container would write its exit file (and call the exit command) late, into the
 * next run of the same container.
 */
export async function awaitConmonGone(id: string, pidFile: string, timeoutMs = 3000): Promise<void> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return;
  const alive = () => {
    try {
      // A pid reused by another process is not ours to wait for (or kill).
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return cmdline.startsWith('conmon') && cmdline.includes(id);
    } catch {
      return false;
    }
  };
  for (const deadline = Date.now() + timeoutMs; alive(); await sleep(20)) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        return;
      }
    }
  }
}
