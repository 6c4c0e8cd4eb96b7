// Attach: the container's output (followed from its log) to the client, and the client's bytes to the
// container's stdin, on a hijacked connection. Shared by the Upgrade (101) and plain (200) forms.
import type { Duplex } from 'node:stream';
import type { Engine } from '../runtime/engine.js';
import { readLog } from '../runtime/containers/logs.js';
import { openStdin } from '../runtime/containers/attach.js';
import type { Container } from '../runtime/containers/store.js';
import { frame, STDERR, STDOUT } from './framing.js';

export interface AttachOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  logs: boolean; // replay the log first
  stream: boolean;
}

const LIVE = new Set(['running', 'paused', 'restarting']);

export async function attachContainer(engine: Engine, container: Container, socket: Duplex, o: AttachOptions): Promise<void> {
  const { containers } = engine;
  const id = container.id;
  const runAtAttach = container.run_id;
  const errorAtAttach = container.error;
  const wasLive = LIVE.has(container.state);
  const abort = new AbortController();
  socket.on('close', () => abort.abort());
  socket.on('error', () => abort.abort());

  /** The run this attach belongs to is still to come or still going. */
  const attached = () => {
    const c = containers.store.get(id);
    if (!c) return false;
    if (LIVE.has(c.state) && c.state !== 'restarting') return true;
    if (wasLive) return false;
    return c.run_id === runAtAttach && c.error === errorAtAttach; // not started yet, and no failed start
  };

  if (o.stdin && container.config.OpenStdin) void pumpStdin(engine, id, runAtAttach, wasLive, socket, abort.signal);
  else socket.resume(); // the client may half-close; nothing it sends matters

  if (o.stdout || o.stderr) {
    const tty = !!container.config.Tty;
    const entries = readLog(containers.paths.log(id), {
      stdout: o.stdout, stderr: o.stderr, follow: o.stream, fromEnd: !o.logs, running: attached, signal: abort.signal,
    });
    try {
      for await (const e of entries) {
        const chunk = tty ? e.data : frame(e.stream === 'stdout' ? STDOUT : STDERR, e.data);
        if (!socket.write(chunk)) await new Promise((r) => socket.once('drain', r));
        if (abort.signal.aborted) break;
      }
    } catch {
      // the client went away
    }
  } else {
    while (attached() && !abort.signal.aborted) await new Promise((r) => setTimeout(r, 100));
  }
  socket.end();
}

/** Client bytes go to the container's stdin once it runs; the client's half-close closes stdin. */
async function pumpStdin(engine: Engine, id: string, runAtAttach: number, wasLive: boolean, socket: Duplex, signal: AbortSignal) {
  const { containers } = engine;
  socket.pause(); // hold what the client sends until the container runs (docker run -i sends it before start)
  for (;;) {
    if (signal.aborted) return;
    const c = containers.store.get(id);
    if (!c) return;
    if (c.state === 'running' && (wasLive || c.run_id > runAtAttach)) break;
    if (!LIVE.has(c.state) && c.run_id > runAtAttach) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  const pipe = openStdin(containers.paths, id);
  socket.pipe(pipe.stdin);
  socket.resume();
}
