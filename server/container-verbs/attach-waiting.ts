// libpod attaches open on a container. podman's service prepares (inits) a created container in its
// attach, before the 101, and a failure there answers the attach: `preparing container <id> for attach:
// …`. berth prepares it in the start the client sends once the 101 has come (an init before the 101
// would end this attach's stream with it), so a start that fails while an attach is open is worded so.
import { EngineError } from '../../runtime/api.js';

const open = new Map<string, number>();

/** Records an open libpod attach on container `id`; returns its release. */
export function holdAttach(id: string): () => void {
  open.set(id, (open.get(id) ?? 0) + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const left = (open.get(id) ?? 1) - 1;
    if (left > 0) open.set(id, left);
    else open.delete(id);
  };
}

/** The ID of the container `ref` (an ID or its prefix, as the client names it) with a libpod attach open. */
export function attachOpenOn(ref: string): string | undefined {
  if (open.has(ref)) return ref;
  if (ref.length < 3 || !/^[0-9a-f]+$/.test(ref)) return undefined;
  for (const id of open.keys()) if (id.startsWith(ref)) return id;
  return undefined;
}

/** A start's failure as podman's attach words it (a 409, as podman's). */
export function attachFailure(id: string, err: unknown): unknown {
  if (!(err instanceof EngineError) || err.kind === 'not-found') return err;
  return new EngineError('conflict', `preparing container ${id} for attach: ${err.message}`);
}
