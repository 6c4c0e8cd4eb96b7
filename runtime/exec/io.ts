// An exec session's streams, as a client attached to it reads and writes them: its output followed from
// the session's conmon log until the process has ended and the log is drained, and its stdin.
import type { Writable } from 'node:stream';
import { openStdin, resizeTerminal } from '../containers/attach.js';
import { readLogBatches, type LogEntry } from '../containers/logs.js';
import { invalid } from '../errors.js';
import { changesOf } from '../util/changed.js';
import type { ExecService } from './service.js';
import type { ExecSession } from './store.js';

export function execOutput(execs: ExecService, s: ExecSession, o: { stdout: boolean; stderr: boolean; signal: AbortSignal }): AsyncIterable<LogEntry[]> {
  return readLogBatches(execs.logPath(s), {
    stdout: o.stdout,
    stderr: o.stderr,
    follow: true,
    fromEnd: false,
    coalesce: true,
    signal: o.signal,
    running: () => execs.store.find(s.id)?.state === 'running',
    onStateChange: changesOf(execs.changes, s.id),
  });
}

/** The session's stdin (ending it closes the process's stdin). */
export function execStdin(execs: ExecService, s: ExecSession): Writable {
  return openStdin(execs.attachSocket(s)).stdin;
}

/** A running session's terminal size (ignored without a TTY, or when conmon is gone); kept for a session still starting. */
export async function resizeExec(execs: ExecService, id: string, height: number, width: number): Promise<void> {
  const s = execs.inspect(id);
  if (s.state !== 'running') throw invalid(`Exec ${s.id} is not running`);
  if (!s.config.Tty) return;
  // Started, its conmon not up yet (no PID): start applies the size once it is.
  if (!s.pid) execs.pendingResize.set(s.id, [height, width]);
  else await resizeTerminal(execs.controlFifo(s), height, width).catch(() => undefined);
}
