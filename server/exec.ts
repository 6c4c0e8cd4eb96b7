// An exec session on a hijacked connection: start it, stream its output (from its conmon log) and the
// client's stdin, and end when the process has ended and its output is drained.
import type { Duplex } from 'node:stream';
import { EngineError, type Api } from '../runtime/api.js';
import { frame, STDERR, STDOUT } from './framing.js';
import { libpodError } from './libpod/errors.js';
import { headReadFirst, parseDetachKeys, pumpStdin, streamOutput } from './session-stream.js';

/** podman's exit code for a command that is not there (define.ExecErrorCodeNotFound). */
export const NOT_FOUND = 127;

/**
 * Starts exec session `id`. What start refuses outright (no such session, run already, container not
 * running) is an HTTP error; then `writeHead` answers (101 or 200) before the process starts, as dockerd
 * does: docker-py reads the head with a buffered reader and loses bytes that come in the same read. A
 * process that cannot start is reported in the stream: dockerd's way (the message as stdout, exit code
 * 126), or with `libpod` podman's (`Error: <message>` as stderr, exit code 127 for a command not there).
 * `tty` (the start request's Tty, else the exec's) decides the framing.
 */
export async function runExecSession(
  api: Api,
  id: string,
  socket: Duplex,
  writeHead: () => void,
  o: { consoleSize?: [number, number]; tty?: boolean; libpod?: boolean } = {},
): Promise<void> {
  const created = api.exec.checkStartable(id);
  // podman's start body says whether the client has a terminal; the session's own Tty decides the framing.
  const tty = (o.libpod ? undefined : o.tty) ?? !!created.config.Tty;
  // A bad detach sequence of the session (an exec created with it) is refused before the stream opens.
  const detachKeys = created.config.Tty && created.config.AttachStdin ? parseDetachKeys(created.config.DetachKeys || undefined) : Buffer.alloc(0);
  // podman prepares the process (its user, its directory) before it answers: what fails there is an
  // HTTP error (500), what the runtime refuses comes in the stream.
  if (!o.libpod) writeHead();
  let session;
  try {
    session = await api.exec.start(id, { consoleSize: o.consoleSize, notFoundCode: o.libpod ? NOT_FOUND : undefined });
  } catch (err) {
    if (o.libpod) {
      const e = err as Error;
      if (!e.message.startsWith('OCI runtime')) throw e instanceof EngineError && e.kind !== 'invalid' ? e : new EngineError('internal', e.message);
      writeHead();
      await headReadFirst(socket);
      const message = Buffer.from(`Error: ${libpodError(e, 500).message}\n`);
      socket.end(tty ? message : frame(STDERR, message));
    } else {
      const message = Buffer.from(`${(err as Error).message}\r\n`);
      socket.end(tty ? message : frame(STDOUT, message));
    }
    return;
  }
  if (o.libpod) {
    // The process runs already: its first output must not come in the head's read.
    writeHead();
    await headReadFirst(socket);
  }
  const abort = new AbortController();
  socket.on('close', () => abort.abort());
  socket.on('error', () => abort.abort());
  const { config } = session;
  const started = session;
  if (config.AttachStdin) {
    // Detaching closes the session's stdin and ends the stream with dockerd's message.
    void pumpStdin(
      socket,
      async () => api.exec.stdin(started),
      detachKeys,
      () => {
        const message = Buffer.from('exec attach failed: error on attach stdin: read escape sequence\r\n');
        socket.write(tty ? message : frame(STDOUT, message));
        abort.abort();
      },
      { closeOnDetach: true },
    );
  } else socket.resume();
  await streamOutput(socket, api.exec.output(session, { stdout: !!config.AttachStdout, stderr: !!config.AttachStderr, signal: abort.signal }), {
    tty,
    signal: abort.signal,
  });
  socket.end();
}

/** A console size from an exec start body: Docker's ConsoleSize [h, w], or podman's h and w. */
export function startConsoleSize(body: { ConsoleSize?: number[] | null; h?: number; w?: number }): [number, number] | undefined {
  const [h, w] = body.ConsoleSize ?? [body.h, body.w];
  return h && w ? [h, w] : undefined;
}
