// The events verbs the server may call: options in, results out; no store, path or process leaks out.
import type { Engine } from '../engine.js';
import type { LibpodEvent } from '../events/views.js';
import { watchEvents, watchLibpodEvents, type EventSink, type WatchOptions } from '../events/watch.js';

export function eventApi(engine: Engine) {
  return {
    /** History from `since`, then live events, through `sink` (the Docker API's view); returns the stop function. */
    watch: (options: WatchOptions, sink: EventSink) => watchEvents(engine.events, options, sink),
    /** The same in libpod's names and shapes, with libpod's filters. */
    watchLibpod: (options: WatchOptions, sink: EventSink<LibpodEvent>) =>
      watchLibpodEvents(engine.events, options, { containerName: (id) => engine.containers.store.get(id)?.name }, sink),
  };
}
