// docker attach, the engine's half: which run an attach belongs to, the container's output followed from
// its log while that run is to come or going, and its stdin once that run is going. The server's half
// (server/attach.ts) frames the output and watches the client's bytes for the detach keys.
import type { Writable } from 'node:stream';
import { changesOf } from '../util/changed.js';
import { openStdin, resizeTerminal } from './attach.js';
import { readLogBatches, type LogEntry } from './logs.js';
import type { ContainerService } from './service.js';
import { conflict } from '../errors.js';

const LIVE = new Set(['running', 'paused', 'restarting']);
/** States of a run made ready but not started (libpod's init): an attach then belongs to that run. */
const PREPARED = new Set<string>(['initialized']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface AttachOutputOptions {
  stdout: boolean;
  stderr: boolean;
  /** Follow while the run is going (attach's `stream`). */
  follow: boolean;
  /** Only what is written from now on (no `logs` replay). */
  fromEnd: boolean;
  signal: AbortSignal;
}

export interface AttachSession {
  readonly id: string;
  /** The container has a TTY: output is raw, and the detach keys are looked for in stdin. */
  readonly tty: boolean;
  /** The container keeps a stdin open for clients (OpenStdin). */
  readonly openStdin: boolean;
  /** Records the attach (once the client's request is accepted). */
  begin(): void;
  /** The run this attach belongs to is still to come or still going. */
  attached(): boolean;
  /** The container's output, in batches, from the log. */
  output(o: AttachOutputOptions): AsyncIterable<LogEntry[]>;
  /** The container's stdin once this attach's run is going; undefined if it never will be. */
  stdin(signal: AbortSignal): Promise<Writable | undefined>;
  /** The client detached (the container runs on). */
  detached(): void;
}

/** Resolves the container now: the attach belongs to the run going or prepared (or the next one) at this moment. */
export function attachSession(containers: ContainerService, nameOrId: string): AttachSession {
  const container = containers.store.resolve(nameOrId);
  const id = container.id;
  const runAtAttach = container.run_id;
  const errorAtAttach = container.error;
  const wasLive = LIVE.has(container.state);
  const prepared = PREPARED.has(container.state);

  const attached = () => {
    const c = containers.store.get(id);
    if (!c) return false;
    if (prepared) return c.run_id === runAtAttach && (PREPARED.has(c.state) || (LIVE.has(c.state) && c.state !== 'restarting'));
    if (LIVE.has(c.state) && c.state !== 'restarting') return true;
    if (wasLive) return false;
    return c.run_id === runAtAttach && c.error === errorAtAttach; // not started yet, and no failed start
  };

  return {
    id,
    tty: container.spec.process.tty,
    openStdin: container.spec.process.stdin,
    begin: () => containers.record(container, 'attach'),
    attached,
    output: (o) =>
      readLogBatches(containers.paths.log(id), {
        stdout: o.stdout,
        stderr: o.stderr,
        follow: o.follow,
        fromEnd: o.fromEnd,
        running: attached,
        onStateChange: changesOf(containers.events, id),
        signal: o.signal,
        coalesce: true,
      }),
    async stdin(signal) {
      for (;;) {
        if (signal.aborted) return undefined;
        const c = containers.store.get(id);
        if (!c) return undefined;
        if (prepared) {
          // The prepared run's stdin, once started; none if it never is.
          if (c.run_id !== runAtAttach) return undefined;
          if (c.state === 'running') return openStdin(containers.paths.attachSocket(id)).stdin;
          if (!PREPARED.has(c.state) && !LIVE.has(c.state)) return undefined;
        } else {
          if (c.state === 'running' && (wasLive || c.run_id > runAtAttach)) return openStdin(containers.paths.attachSocket(id)).stdin;
          if (!LIVE.has(c.state) && c.run_id > runAtAttach) return undefined;
        }
        await sleep(20);
      }
    },
    detached() {
      const c = containers.store.get(id);
      if (c) containers.record(c, 'detach');
    },
  };
}

/** States in which podman refuses a resize ("can only resize created or running containers"). */
const NO_TERMINAL = new Set<string>(['paused', 'restarting', 'exited', 'dead', 'removing']);

/**
 * A running container's terminal size (ignored without a TTY, or when conmon is not there to take it).
 * With `libpod` (podman's, whose attach makes the terminal before start): a created container's size is
 * kept for its start (`podman run -it` sends it between the attach and the start), a prepared one's
 * (libpod's init) goes to its conmon, and podman's refusal is worded as podman words it.
 */
export async function resizeContainer(
  containers: ContainerService,
  nameOrId: string,
  height: number,
  width: number,
  o: { libpod?: boolean } = {},
): Promise<void> {
  const c = containers.store.resolve(nameOrId);
  if (o.libpod && c.state === 'created') {
    if (c.spec.process.tty && height > 0 && width > 0) {
      const spec = { ...c.spec, process: { ...c.spec.process, consoleSize: [height, width] } };
      containers.store.update(c.id, { spec: JSON.stringify(spec) });
    }
  } else {
    if (o.libpod && NO_TERMINAL.has(c.state)) throw conflict('can only resize created or running containers: container state improper');
    if (!o.libpod && c.state !== 'running') throw conflict(`Container ${c.id} is not running`);
    if (c.spec.process.tty) await resizeTerminal(containers.paths.controlFifo(c.id), height, width).catch(() => undefined);
  }
  containers.record(c, 'resize', { height: String(height), width: String(width) });
}
