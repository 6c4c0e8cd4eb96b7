// Attach: the container's output (followed from its log) to the client, and the client's bytes to the
// container's stdin, on a hijacked connection. Shared by the Upgrade (101) and plain (200) forms.
import type { Duplex } from 'node:stream';
import type { Engine } from '../runtime/engine.js';
import type { Container } from '../runtime/containers/store.js';
import { changesOf, parseDetachKeys, pumpStdin, streamOutput } from './session-stream.js';

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

const LIVE = new Set(['running', 'paused', 'restarting']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function attachContainer(engine: Engine, container: Container, socket: Duplex, o: AttachOptions): Promise<void> {
  const { containers } = engine;
  const id = container.id;
  const runAtAttach = container.run_id;
  const errorAtAttach = container.error;
  const wasLive = LIVE.has(container.state);
  // As dockerd: the detach sequence is looked for only on a TTY; piped binary stdin passes untouched.
  const keys = parseDetachKeys(o.detachKeys);
  const detachKeys = container.spec.process.tty ? keys : Buffer.alloc(0);
  const abort = new AbortController();
  socket.on('close', () => abort.abort());
  socket.on('error', () => abort.abort());
  containers.record(container, 'attach');

  /** The run this attach belongs to is still to come or still going. */
  const attached = () => {
    const c = containers.store.get(id);
    if (!c) return false;
    if (LIVE.has(c.state) && c.state !== 'restarting') return true;
    if (wasLive) return false;
    return c.run_id === runAtAttach && c.error === errorAtAttach; // not started yet, and no failed start
  };

  /** The container's attach socket once this attach's run is going; undefined if it never will be. */
  const stdinReady = async (): Promise<string | undefined> => {
    for (;;) {
      if (abort.signal.aborted) return undefined;
      const c = containers.store.get(id);
      if (!c) return undefined;
      if (c.state === 'running' && (wasLive || c.run_id > runAtAttach)) return containers.paths.attachSocket(id);
      if (!LIVE.has(c.state) && c.run_id > runAtAttach) return undefined;
      await sleep(20);
    }
  };

  if (o.stdin && o.stream && container.spec.process.stdin) {
    void pumpStdin(socket, stdinReady, detachKeys, () => {
      const c = containers.store.get(id);
      if (c) containers.record(c, 'detach');
      abort.abort(); // the container runs on; this client is done
    });
  } else socket.resume(); // the client may half-close; nothing it sends matters

  if (o.stdout || o.stderr) {
    await streamOutput(socket, {
      logPath: containers.paths.log(id), tty: container.spec.process.tty || o.multiplex === false, stdout: o.stdout, stderr: o.stderr,
      follow: o.stream, fromEnd: !o.logs, running: attached, onStateChange: changesOf(containers.events, id), signal: abort.signal,
    });
  } else if (o.stream) {
    // Without `stream`, dockerd answers what `logs` asked for (here nothing) and ends.
    while (attached() && !abort.signal.aborted) await sleep(100);
  }
  socket.end();
}
