// Attach: the container's output (followed from its log) to the client, and the client's bytes to the
// container's stdin, on a hijacked connection. Shared by the Upgrade (101) and plain (200) forms.
import type { Duplex } from 'node:stream';
import type { AttachSession } from '../runtime/api.js';
import { parseDetachKeys, pumpStdin, streamOutput } from './session-stream.js';

export interface AttachOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  logs: boolean; // replay the log first
  stream: boolean;
  detachKeys?: string;
  /** Frame stdout/stderr without a TTY (the hijacked stream); the websocket form sends raw bytes. */
  multiplex?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs an attach (from api.containers.attach, looked up before the answer began) until it ends. */
export async function attachContainer(session: AttachSession, socket: Duplex, o: AttachOptions): Promise<void> {
  // As dockerd: the detach sequence is looked for only on a TTY; piped binary stdin passes untouched.
  const keys = parseDetachKeys(o.detachKeys);
  const detachKeys = session.tty ? keys : Buffer.alloc(0);
  const abort = new AbortController();
  socket.on('close', () => abort.abort());
  socket.on('error', () => abort.abort());
  session.begin();

  if (o.stdin && o.stream && session.openStdin) {
    void pumpStdin(
      socket,
      () => session.stdin(abort.signal),
      detachKeys,
      () => {
        session.detached();
        abort.abort(); // the container runs on; this client is done
      },
    );
  } else socket.resume(); // the client may half-close; nothing it sends matters

  if (o.stdout || o.stderr) {
    const output = session.output({ stdout: o.stdout, stderr: o.stderr, follow: o.stream, fromEnd: !o.logs, signal: abort.signal });
    await streamOutput(socket, output, { tty: session.tty || o.multiplex === false, signal: abort.signal });
  } else if (o.stream) {
    // Without `stream`, dockerd answers what `logs` asked for (here nothing) and ends.
    while (session.attached() && !abort.signal.aborted) await sleep(100);
  }
  socket.end();
}
