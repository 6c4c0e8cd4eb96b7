// The console's client of the engine API. Every request goes to /api/<engine path>: the console server
// proxies it to berth's own socket, so the page can do nothing the socket cannot. Every request carries
// X-Berth-Console, the header the server demands of state-changing requests (a cross-site form cannot
// send it, and a cross-origin fetch that tries is stopped at its preflight).
export const DOCKER = '/api/v1.50';
export const LIBPOD = '/api/v4.3.1/libpod';
const MARK = { 'x-berth-console': '1' };

/** The engine's answer to a failed request: its status and its message (Docker's or libpod's). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface RequestOptions {
  /** A JSON body (sent as application/json). */
  json?: unknown;
  /** A raw body: a tar context, a YAML file. */
  body?: BodyInit;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** One request; a status of 400 or more becomes an ApiError with the engine's message. */
export async function request(method: string, path: string, o: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...MARK, ...o.headers };
  let body = o.body;
  if (o.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(o.json);
  }
  const res = await fetch(path, { method, headers, body, signal: o.signal, credentials: 'same-origin' });
  if (res.status >= 400) throw new ApiError(res.status, await errorMessage(res));
  return res;
}

async function errorMessage(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const parsed = JSON.parse(text) as { message?: string; cause?: string };
    return parsed.message ?? parsed.cause ?? text;
  } catch {
    return text || `${res.status} ${res.statusText}`;
  }
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return (await request('GET', path, { signal })).json() as Promise<T>;
}

/** A state-changing request; its JSON answer if it has one. */
export async function send<T = unknown>(method: string, path: string, o: RequestOptions = {}): Promise<T | undefined> {
  const res = await request(method, path, o);
  const text = await res.text();
  return text ? (JSON.parse(text) as T) : undefined;
}

/** The lines of a streaming body, as they arrive. */
export async function* lines(res: Response): AsyncGenerator<string> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += value;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line) yield line;
      }
    }
    if (buffered.trim()) yield buffered.trim();
  } finally {
    reader.releaseLock();
  }
}

/** A stream of JSON objects, one per line (events, pull and build progress, stats). */
export async function* jsonLines<T>(method: string, path: string, o: RequestOptions = {}): AsyncGenerator<T> {
  const res = await request(method, path, o);
  for await (const line of lines(res)) yield JSON.parse(line) as T;
}

/** One frame of a multiplexed stream (logs or attach of a container without a TTY). */
export interface Frame {
  stream: 'stdout' | 'stderr';
  data: Uint8Array;
}

/**
 * The frames of a body: Docker's 8-byte headers (stream, 0, 0, 0, big-endian length) when `multiplexed`,
 * else the raw bytes as stdout (a TTY container's logs).
 */
export async function* frames(res: Response, multiplexed: boolean): AsyncGenerator<Frame> {
  const reader = res.body!.getReader();
  let pending = new Uint8Array(0);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (!multiplexed) {
        yield { stream: 'stdout', data: value };
        continue;
      }
      const joined = new Uint8Array(pending.length + value.length);
      joined.set(pending);
      joined.set(value, pending.length);
      let at = 0;
      while (joined.length - at >= 8) {
        const size = new DataView(joined.buffer, joined.byteOffset + at + 4, 4).getUint32(0);
        if (joined.length - at - 8 < size) break;
        yield { stream: joined[at] === 2 ? 'stderr' : 'stdout', data: joined.subarray(at + 8, at + 8 + size) };
        at += 8 + size;
      }
      pending = joined.slice(at);
    }
  } finally {
    reader.releaseLock();
  }
}

/** The websocket URL of an engine path (exec and attach websockets go through the same proxy). */
export function wsUrl(path: string): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
}

/** Query string from an object; undefined values are left out, objects are JSON (Docker's filters). */
export function query(params: Record<string, string | number | boolean | object | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    q.set(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
