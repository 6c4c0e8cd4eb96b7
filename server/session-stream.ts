// What attach and exec have in common on a hijacked connection: output followed from a conmon log
// (framed without a TTY, raw with one), and the client's bytes into a conmon-held stdin, watched for
// the detach key sequence.
import { Transform, type Duplex, type TransformCallback, type Writable } from 'node:stream';
import { invalid, type LogEntry } from '../runtime/api.js';
import { encodeEntries } from './framing.js';

/**
 * Streams output (batches of log entries, framed without a TTY) to the socket with backpressure: a
 * 50 MB output is never held in memory.
 */
export async function streamOutput(socket: Duplex, batches: AsyncIterable<LogEntry[]>, o: { tty: boolean; signal: AbortSignal }): Promise<void> {
  try {
    for await (const batch of batches) {
      if (!socket.write(encodeEntries(batch, { tty: o.tty }))) await drainedOrGone(socket);
      if (o.signal.aborted) break;
    }
  } catch {
    // the client went away
  }
}

/** Waits for the socket to take more, or to close: a client gone under a full buffer never drains. */
function drainedOrGone(socket: Duplex): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

/** Time for a client to read a response head on its own before the stream's first bytes follow it. */
const HEAD_ALONE_MS = 50;

/**
 * Waits a moment after a head: clients that read the head with a buffered reader and then take the raw
 * connection (docker-py, podman's exec) lose the bytes that came in the same read.
 */
export function headReadFirst(socket: Duplex): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, HEAD_ALONE_MS);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

const CTRL: Record<string, number> = { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 };

/** Docker's detach key syntax: `ctrl-p,ctrl-q`, `a,ctrl-@`...; an empty string disables detaching. */
export function parseDetachKeys(spec: string | undefined): Buffer {
  if (spec === undefined) spec = 'ctrl-p,ctrl-q';
  if (spec === '') return Buffer.alloc(0);
  const bytes = spec.split(',').map((key) => {
    const k = key.trim();
    if (k.length === 1) return k.charCodeAt(0);
    const m = /^ctrl-(.)$/i.exec(k);
    if (m) {
      const c = m[1]!.toLowerCase();
      if (c >= 'a' && c <= 'z') return c.charCodeAt(0) - 96;
      if (c in CTRL) return CTRL[c]!;
    }
    throw invalid(`Invalid detach keys (${spec}) provided`);
  });
  return Buffer.from(bytes);
}

/** Passes bytes through until the detach sequence arrives (held back while it may be one). */
export class DetachScanner extends Transform {
  private matched = 0;
  detached = false;

  constructor(
    private readonly keys: Buffer,
    private readonly onDetach: () => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.detached) return done();
    if (this.keys.length === 0) return done(null, chunk);
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) {
          this.detached = true;
          if (out.length) this.push(Buffer.from(out));
          this.onDetach();
          return done();
        }
        continue;
      }
      // Not the sequence after all: what was held goes through.
      out.push(...this.keys.subarray(0, this.matched));
      this.matched = 0;
      if (byte === this.keys[0]) this.matched = 1;
      else out.push(byte);
    }
    done(null, out.length ? Buffer.from(out) : undefined);
  }
}

/**
 * Client bytes into a stdin once `ready` gives it (undefined: never); the client's half-close closes
 * that stdin. The socket is paused until then: `docker run -i` sends stdin before the container has
 * started.
 */
export async function pumpStdin(
  socket: Duplex,
  ready: () => Promise<Writable | undefined>,
  detachKeys: Buffer,
  onDetach: () => void,
  o: { closeOnDetach?: boolean } = {},
): Promise<void> {
  socket.pause();
  const stdin = await ready();
  if (!stdin) {
    socket.resume();
    return;
  }
  // An exec's stdin closes on detach, as dockerd's (its copy ends); a container's stays open.
  const scanner = new DetachScanner(detachKeys, () => {
    onDetach();
    if (o.closeOnDetach) {
      socket.unpipe(scanner);
      close();
    }
  });
  socket.pipe(scanner).pipe(stdin);
  // pipe() ends stdin only at the client's end; a connection that fails (reset) or was gone before
  // the container ran must close it too, or the container waits on its stdin forever.
  const close = () => scanner.writableEnded || scanner.end();
  if (socket.destroyed) close();
  else socket.once('close', close);
  socket.resume();
}
