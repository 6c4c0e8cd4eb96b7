// conmon: one monitor per container. It runs `<runtime> create`, holds the container's stdio, writes
// the log and the exit file, serves the attach socket, and calls the exit command when the container
// ends — whether or not the API server is running.
import { spawn } from 'node:child_process';
import { EngineError } from '../errors.js';

export interface ConmonOptions {
  id: string;
  name: string;
  bundle: string;
  runtimePath: string;
  runtimeRoot: string;
  exitDir: string;
  logPath: string;
  logSizeMax?: number;
  socketDir: string;
  conmonPidFile: string;
  stdin: boolean;
  leaveStdinOpen: boolean;
  tty: boolean;
  exitCommand: string[];
}

/** Starts conmon (which daemonizes) and returns the container's PID once the runtime has created it. */
export function startConmon(o: ConmonOptions): Promise<number> {
  const args = [
    '--api-version', '1', '-c', o.id, '-u', o.id.slice(0, 12), '-r', o.runtimePath, '-b', o.bundle, '-p', `${o.bundle}/pidfile`,
    '-n', o.name, '--exit-dir', o.exitDir, '-l', `k8s-file:${o.logPath}`, '--socket-dir-path', o.socketDir,
    '--conmon-pidfile', o.conmonPidFile, '-0', o.bundle, '--log-level', 'error', '--runtime-arg', '--root', '--runtime-arg', o.runtimeRoot,
  ];
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
    const child = spawn('conmon', args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], env: { ...process.env, _OCI_SYNCPIPE: '3' }, detached: true });
    let sync = '';
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const pipe = child.stdio[3] as NodeJS.ReadableStream;
    let settled = false;
    const answer = () => {
      const line = sync.split('\n').find((l) => l.includes('"data"') && l.trim().endsWith('}'));
      if (!line || settled) return;
      settled = true;
      (pipe as unknown as { destroy(): void }).destroy(); // the daemonized conmon keeps its end; we need nothing more from it
      const msg = JSON.parse(line) as { data: number; message?: string };
      if (msg.data > 0) resolve(msg.data);
      else reject(new EngineError('invalid', `OCI runtime create failed: ${(msg.message ?? stderr).trim()}`));
    };
    pipe.on('data', (d: Buffer) => {
      sync += d.toString();
      answer();
    });
    child.on('error', (err) => reject(new EngineError('internal', `cannot run conmon: ${err.message}`)));
    pipe.on('end', () => {
      answer();
      if (!settled) reject(new EngineError('internal', `conmon failed: ${stderr.trim() || 'no answer on the sync pipe'}`));
    });
    child.unref();
  });
}
