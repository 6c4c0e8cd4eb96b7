// An exec session on a hijacked connection: start it, stream its output (from its conmon log) and the
// client's stdin, and end when the process has ended and its output is drained.
import type { Duplex } from 'node:stream';
import type { Engine } from '../runtime/engine.js';
import { EngineError } from '../runtime/errors.js';
import { frame, STDOUT } from './framing.js';
import { changesOf, parseDetachKeys, pumpStdin, streamOutput } from './session-stream.js';

/**
 * Starts exec session `id`; `writeHead` answers the request (101 or 200) once the process runs, so a
 * start that fails is still an HTTP error. Then streams until the process has ended.
 */
export async function runExecSession(engine: Engine, id: string, socket: Duplex, writeHead: () => void, consoleSize?: [number, number]): Promise<void> {
  const { execs } = engine;
  let session;
  try {
    session = await execs.start(id, { consoleSize });
  } catch (err) {
    // Not there, or not startable: an HTTP error. A process that could not start: as dockerd, the
    // stream opens and carries the runtime's message (as stdout), and the exit code is 126.
    if (err instanceof EngineError && (err.kind === 'not-found' || err.kind === 'conflict')) throw err;
    writeHead();
    const message = Buffer.from(`${(err as Error).message}\r\n`);
    socket.end(execs.store.find(id)?.config.Tty ? message : frame(STDOUT, message));
    return;
  }
  writeHead();
  const abort = new AbortController();
  socket.on('close', () => abort.abort());
  socket.on('error', () => abort.abort());
  const { config } = session;
  const running = () => execs.store.find(id)?.state === 'running';
  if (config.AttachStdin) {
    void pumpStdin(socket, async () => execs.attachSocket(session), config.Tty ? parseDetachKeys(config.DetachKeys || undefined) : Buffer.alloc(0), () => abort.abort());
  } else socket.resume();
  await streamOutput(socket, {
    logPath: execs.logPath(session), tty: !!config.Tty, stdout: !!config.AttachStdout, stderr: !!config.AttachStderr,
    follow: true, fromEnd: false, running, onStateChange: changesOf(execs.changes, id), signal: abort.signal,
  });
  socket.end();
}

/** A console size from an exec start body: Docker's ConsoleSize [h, w], or podman's h and w. */
export function startConsoleSize(body: { ConsoleSize?: number[] | null; h?: number; w?: number }): [number, number] | undefined {
  const [h, w] = body.ConsoleSize ?? [body.h, body.w];
  return h && w ? [h, w] : undefined;
}
