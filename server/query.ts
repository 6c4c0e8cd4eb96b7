// Query parsing as lenient as moby's: clients send booleans and filters in several shapes.
import { EngineError, invalid } from '../runtime/api.js';

/** moby's rule: false iff the value is "", 0, no, false or none (any case); absent means the default. */
export function parseBool(value: string | undefined, fallback = false): boolean {
  if (value === undefined) return fallback;
  return !['', '0', 'no', 'false', 'none'].includes(value.trim().toLowerCase());
}

export type FilterMap = Record<string, string[]>;

/** `{"label":{"a=b":true}}` (docker CLI) and `{"label":["a=b"]}` (docker-py, dockerode) both. */
export function parseFilters(raw: string | undefined, allowed: readonly string[]): FilterMap {
  if (!raw) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalid(`invalid filter: ${raw}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid(`invalid filter: ${raw}`);
  const out: FilterMap = {};
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (!allowed.includes(key)) throw invalid(`invalid filter '${key}'`);
    if (Array.isArray(value)) out[key] = value.map(String);
    else if (value && typeof value === 'object')
      out[key] = Object.entries(value)
        .filter(([, on]) => on)
        .map(([v]) => v);
    else throw invalid(`invalid filter: ${raw}`);
  }
  return out;
}

/** A filter that takes a single boolean, such as `dangling`. */
export function boolFilter(filters: FilterMap, key: string): boolean | undefined {
  const values = filters[key];
  if (!values || values.length === 0) return undefined;
  const v = values[values.length - 1]!.toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw invalid(`invalid filter '${key}=${values[values.length - 1]}'`);
}

/**
 * dockerd reads a single-valued parameter with Go's url.Values.Get, the first of its values: a repeated
 * one (`name=a&name=b`, docker-py's repeated `dockerfile=`) is no error. Parameters whose schema takes
 * a list (`t`, `names`, `changes`...) keep every value.
 */
export function firstOfRepeated(query: Record<string, unknown>, schema?: { properties?: Record<string, unknown> }): void {
  for (const [key, value] of Object.entries(query)) {
    if (Array.isArray(value) && !takesList(schema?.properties?.[key])) query[key] = value[0];
  }
}

function takesList(schema: unknown): boolean {
  if (!schema || typeof schema !== 'object') return false;
  const s = schema as { type?: unknown; anyOf?: unknown[]; oneOf?: unknown[] };
  return s.type === 'array' || (Array.isArray(s.type) && s.type.includes('array')) || !!s.anyOf?.some(takesList) || !!s.oneOf?.some(takesList);
}

/** Go's strconv.Atoi, as dockerd parses `t` (its errors are dockerd's 500s). */
export function parseGoInt(value: string): number {
  if (!/^[+-]?\d+$/.test(value)) throw new EngineError('internal', `strconv.Atoi: parsing ${JSON.stringify(value)}: invalid syntax`);
  const n = BigInt(value);
  if (n > 9223372036854775807n || n < -9223372036854775808n)
    throw new EngineError('internal', `strconv.Atoi: parsing ${JSON.stringify(value)}: value out of range`);
  return Number(n);
}

/** A header's value when it came once as a string (X-Registry-Auth...); undefined otherwise. */
export const headerValue = (value: string | string[] | undefined): string | undefined => (typeof value === 'string' ? value : undefined);

/** A query parameter that may be repeated, as a list (absent: none). */
export const repeated = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** A query parameter that holds JSON (`buildargs={"A":"1"}`); what does not parse is the client's error. */
export function jsonParam<T>(name: string, value: string | undefined): T | undefined {
  if (!value) return undefined;
  try {
    return JSON.parse(value) as T;
  } catch {
    throw invalid(`invalid ${name}: ${value}`);
  }
}
