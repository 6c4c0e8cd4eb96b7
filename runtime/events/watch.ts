// docker events / podman events: the stored history from `since`, then live events, until `until` or
// the watcher stops. It subscribes before reading the history, so nothing recorded in between is lost
// or sent twice. Each API family sees the log through its view (views.ts), and filters what it sees.
import { invalid } from '../errors.js';
import { eventFilter, libpodEventFilter, type Filters } from '../filters.js';
import type { EngineEvent, EventLog } from './log.js';
import { dockerView, libpodView, type LibpodEvent, type LibpodViewLookups } from './views.js';

export interface WatchOptions {
  filters?: Filters;
  /** Nanoseconds since the epoch; the history is replayed from here. */
  since?: bigint;
  /** Nanoseconds since the epoch; the watch ends here (at once when it has passed). */
  until?: bigint;
}

export interface EventSink<E extends EngineEvent = EngineEvent> {
  /** Called once the options are accepted, before the first event. */
  start(): void;
  event(e: E): void;
  /** The watch reached `until`. */
  end(): void;
}

/** Starts a watch over the Docker API's view; returns its stop function. Refuses (before `start`) an `until` before `since`. */
export function watchEvents(log: EventLog, o: WatchOptions, sink: EventSink): () => void {
  const matches = eventFilter(o.filters ?? {});
  return watchView(log, o, dockerView, matches, sink);
}

/** The same over the libpod API's view, with libpod's filters (an unknown key is refused before `start`). */
export function watchLibpodEvents(log: EventLog, o: WatchOptions, lookups: LibpodViewLookups, sink: EventSink<LibpodEvent>): () => void {
  const matches = libpodEventFilter(o.filters ?? {});
  return watchView(log, o, (e) => libpodView(e, lookups), matches, sink);
}

function watchView<E extends EngineEvent>(
  log: EventLog,
  o: WatchOptions,
  view: (e: EngineEvent) => E | undefined,
  matches: (e: E) => boolean,
  sink: EventSink<E>,
): () => void {
  const { since, until } = o;
  if (since !== undefined && until !== undefined && until < since) throw invalid('`since` time must be before `until` time');
  const now = BigInt(Date.now()) * 1_000_000n;
  sink.start();
  const send = (recorded: EngineEvent) => {
    const e = view(recorded);
    if (e && matches(e)) sink.event(e);
  };
  let lastSeq = 0;
  const queued: EngineEvent[] = [];
  let replaying = true;
  const unsubscribe = log.subscribe((e) => (replaying ? queued.push(e) : e.seq > lastSeq && send(e)));
  if (since !== undefined) {
    for (const e of log.history(since, until)) {
      lastSeq = e.seq;
      send(e);
    }
  }
  replaying = false;
  for (const e of queued) if (e.seq > lastSeq && (until === undefined || e.timeNano <= until)) send(e);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    unsubscribe();
    clearTimeout(timer);
  };
  if (until !== undefined) {
    const finish = () => {
      stop();
      sink.end();
    };
    if (until <= now) finish();
    else timer = setTimeout(finish, Number((until - now) / 1_000_000n));
  }
  return stop;
}
