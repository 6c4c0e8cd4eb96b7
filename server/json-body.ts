// JSON request bodies: bounded in size and in nesting, so that no body can exhaust the engine's memory
// or stack. Real requests are a few kB (a create with 20 000 --env-file variables is 1.2 MB) and a
// few levels deep.
import { EngineError } from '../runtime/api.js';

/** The largest JSON body accepted (dockerd has no bound; this one is far above what clients send). */
export const MAX_JSON_BODY = 32 * 1024 * 1024;

/** Nesting beyond this is refused before parsing: recursive code downstream would overflow the stack. */
export const MAX_JSON_DEPTH = 512;

/** A JSON body (empty = no body); a broken or too deeply nested one is a 400. */
export function parseJsonBody(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (depthExceeds(trimmed, MAX_JSON_DEPTH)) throw new EngineError('invalid', `invalid JSON: nested deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return JSON.parse(trimmed);
  } catch (err) {
    throw new EngineError('invalid', `invalid JSON: ${(err as Error).message}`);
  }
}

/** Whether arrays and objects nest deeper than max, brackets inside strings not counted. One pass. */
function depthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/**
 * Go decodes JSON field names case-insensitively, and clients rely on it (docker-py sends exec's
 * `detachKeys`): a field spelt in another case is taken under the schema's name when that is absent.
 */
export function foldFieldCase<T extends object>(body: T, names: readonly string[]): T {
  const byLower = new Map(names.map((n) => [n.toLowerCase(), n]));
  const out: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  for (const [key, value] of Object.entries(body)) {
    const name = byLower.get(key.toLowerCase());
    if (name && name !== key && !(name in out)) out[name] = value;
  }
  return out as T;
}
