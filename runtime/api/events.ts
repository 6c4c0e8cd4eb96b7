// The events verbs the server may call: options in, results out; no store, path or process leaks out.
import type { Engine } from '../engine.js';
import { watchEvents, type EventSink, type WatchOptions } from '../events/watch.js';

export function eventApi(engine: Engine) {
  return {
    /** History from `since`, then live events, through `sink`; returns the stop function. */
    watch: (options: WatchOptions, sink: EventSink) => watchEvents(engine.events, options, sink),
  };
}
