// libpod attaches open on a container. podman's service prepares (inits) a created container in its
// attach, before the 101, and a failure there answers the attach: `preparing container <id> for attach:
// …`. berth prepares it in the start the client sends once the 101 has come (an init before the 101
// would end this attach's stream with it), so a start that fails while an attach is open is worded so.
import { EngineError } from '../../runtime/api.js';

// Each open attach is a token; the start that follows it takes the token (one start per attach, as
// podman's client sends), so a later start of the same container is not worded as that attach's.
const open = new Map<string, Set<symbol>>();

/** Records an open libpod attach on container `id`; returns its release. */
export function holdAttach(id: string): () => void {
  const token = Symbol(id);
  const tokens = open.get(id) ?? new Set<symbol>();
  tokens.add(token);
  open.set(id, tokens);
  return () => {
    tokens.delete(token);
    if (tokens.size === 0 && open.get(id) === tokens) open.delete(id);
  };
}

/**
 * Takes an open, untaken libpod attach on the container `ref` (an ID or its prefix, as the client
 * names it): the container's ID, or undefined when there is none.
 */
export function takeAttach(ref: string): string | undefined {
  let id: string | undefined = open.has(ref) ? ref : undefined;
  if (!id && ref.length >= 3 && /^[0-9a-f]+$/.test(ref)) for (const key of open.keys()) if (key.startsWith(ref)) id = key;
  const tokens = id ? open.get(id) : undefined;
  const token = tokens?.values().next().value;
  if (!id || !tokens || token === undefined) return undefined;
  tokens.delete(token);
  if (tokens.size === 0) open.delete(id);
  return id;
}

/** A start's failure as podman's attach words it (a 409, as podman's). */
export function attachFailure(id: string, err: unknown): unknown {
  if (!(err instanceof EngineError) || err.kind === 'not-found') return err;
  return new EngineError('conflict', `preparing container ${id} for attach: ${err.message}`);
}
