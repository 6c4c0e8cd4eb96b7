// The engine's events stream as a page needs it: the events it asks for, handed over as they come,
// with a reconnect after the stream breaks (an engine restart), until the page goes away (`signal`).
import { DOCKER, lines, query, request } from '../api.js';

/** One event of `GET /events` (Docker's shape). */
export interface EngineEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> };
  time: number;
}

/**
 * Calls `onOpen(true)` each time the stream is open (again): a page reloads its list then, for what
 * happened while there was no stream; `onOpen(false)` when it broke.
 */
export function watchEvents(filters: Record<string, string[]>, onEvent: (e: EngineEvent) => void, signal: AbortSignal, onOpen?: (open: boolean) => void): void {
  void (async () => {
    while (!signal.aborted) {
      try {
        const res = await request('GET', `${DOCKER}/events${query({ filters })}`, { signal });
        onOpen?.(true);
        for await (const line of lines(res)) onEvent(JSON.parse(line) as EngineEvent);
      } catch {
        // broken or aborted: retried below unless the page is gone
      }
      if (signal.aborted) return;
      onOpen?.(false);
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
}

/** `fn` once, `ms` after the last of a burst of calls (a `compose up` sends dozens of events). */
export function debounce(fn: () => void, ms: number): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
}
