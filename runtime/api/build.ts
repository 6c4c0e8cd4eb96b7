// The build verbs the server may call: options in, results out; no store, path or process leaks out.
import type { Engine } from '../engine.js';
import type { BuildEvent, BuildRequest } from '../build/builder.js';
import { untilOf, type Filters } from '../filters.js';

export function buildApi(engine: Engine) {
  return {
    /** The classic builder: events as it goes; the image's ID and tags at the end. */
    build: (request: BuildRequest, emit: (e: BuildEvent) => void) => engine.builder.build(request, emit),
    /** `docker builder prune`: `until` (or `unused-for`) bounds what goes; the IDs removed and the bytes freed. */
    prune: (filters: Filters) => engine.builder.prune({ until: untilOf(filters) ?? untilOf(filters, 'unused-for') }),
  };
}
