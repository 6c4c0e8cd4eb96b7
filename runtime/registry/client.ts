// A client of one registry (OCI distribution / Docker Registry HTTP API v2) over undici: scheme
// choice (HTTPS, then plain HTTP only for an insecure registry), TLS from certs.d, and the auth
// dance of auth.ts, retried once per request with what a 401 asked for.
import type { Agent, Dispatcher } from 'undici';
import { undici } from '../util/lazy-modules.js';
import { Readable } from 'node:stream';
import { AuthError, parseChallenge, reason, TokenCache, type Challenge, type Credentials } from './auth.js';
import { MAX_DOCUMENT_SIZE, readBounded } from './bodies.js';
import { dialError } from '../util/dial-errors.js';

export interface Endpoint {
  /** host[:port] as in the reference (`registry-1.docker.io` for docker.io). */
  host: string;
  insecure: boolean;
  tls?: { ca?: (Buffer | string)[]; cert?: Buffer; key?: Buffer };
}

export class RegistryError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface RegistryResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable & { text(): Promise<string>; arrayBuffer(): Promise<ArrayBuffer>; dump(): Promise<void> };
}

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export class RegistryClient {
  private scheme?: 'https' | 'http';
  private challenge?: Challenge;
  private readonly tls: Agent;
  private readonly plain: Agent;

  constructor(
    readonly endpoint: Endpoint,
    readonly credentials: Credentials = {},
    readonly tokens = new TokenCache(),
  ) {
    this.tls = new (undici().Agent)({
      connect: {
        rejectUnauthorized: !endpoint.insecure,
        ca: endpoint.tls?.ca?.length ? endpoint.tls.ca : undefined,
        cert: endpoint.tls?.cert,
        key: endpoint.tls?.key,
      },
      bodyTimeout: 60_000,
      headersTimeout: 60_000,
    });
    this.plain = new (undici().Agent)({ bodyTimeout: 60_000, headersTimeout: 60_000 });
  }

  async close(): Promise<void> {
    await Promise.all([this.tls.close(), this.plain.close()]);
  }

  private dispatcher(): Dispatcher {
    return this.scheme === 'http' ? this.plain : this.tls;
  }

  /** `https://host` or, for an insecure registry that does not speak TLS, `http://host`. */
  async baseUrl(): Promise<string> {
    if (!this.scheme) {
      try {
        const res = await undici().request(`https://${this.endpoint.host}/v2/`, { method: 'GET', dispatcher: this.tls });
        await res.body.dump();
        this.scheme = 'https';
        this.challenge = parseChallenge(header(res.headers, 'www-authenticate'));
      } catch (err) {
        if (!this.endpoint.insecure) throw new RegistryError(`Get "https://${this.endpoint.host}/v2/": ${describe(err)}`, 500);
        const res = await undici()
          .request(`http://${this.endpoint.host}/v2/`, { method: 'GET', dispatcher: this.plain })
          .catch((e: Error) => {
            throw new RegistryError(`Get "http://${this.endpoint.host}/v2/": ${describe(e)}`, 500);
          });
        await res.body.dump();
        this.scheme = 'http';
        this.challenge = parseChallenge(header(res.headers, 'www-authenticate'));
      }
    }
    return `${this.scheme}://${this.endpoint.host}`;
  }

  private async authorization(scope: string): Promise<string | undefined> {
    const c = this.challenge;
    if (!c) return undefined;
    if (c.scheme === 'basic') {
      if (this.credentials.username === undefined) return undefined;
      return `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password ?? ''}`).toString('base64')}`;
    }
    if (c.scheme === 'bearer') return `Bearer ${await this.tokens.token(c, scope, this.credentials, this.dispatcher())}`;
    return undefined;
  }

  /**
   * One request to `/v2/...` (or an absolute upload URL the registry gave), authorized for `scope`
   * (`repository:<path>:pull` or `...:pull,push`); a 401 is answered once with the challenge it carries.
   */
  async fetch(
    method: Method,
    path: string,
    scope: string,
    o: { headers?: Record<string, string>; body?: Buffer | Readable | string } = {},
  ): Promise<RegistryResponse> {
    const base = await this.baseUrl();
    const url = /^https?:\/\//.test(path) ? path : `${base}${path}`;
    for (let attempt = 0; ; attempt++) {
      const auth = await this.authorization(scope).catch((err: Error) => {
        throw new RegistryError(err instanceof AuthError ? err.message : `getting a token: ${describe(err)}`, 401, 'UNAUTHORIZED');
      });
      let res: Dispatcher.ResponseData;
      try {
        res = await undici().request(url, {
          method,
          headers: { ...o.headers, ...(auth ? { authorization: auth } : {}) },
          body: o.body,
          dispatcher: this.dispatcher(),
          maxRedirections: method === 'GET' || method === 'HEAD' ? 5 : 0,
        });
      } catch (err) {
        throw new RegistryError(`${method[0]}${method.slice(1).toLowerCase()} "${url}": ${describe(err)}`, 500);
      }
      // A 401 is answered once with the challenge it carries; a streamed body cannot be sent twice.
      if (res.statusCode === 401 && attempt === 0 && !(o.body instanceof Readable)) {
        const challenge = parseChallenge(header(res.headers, 'www-authenticate'));
        await res.body.dump();
        if (challenge) {
          this.challenge = challenge;
          continue;
        }
      }
      return { status: res.statusCode, headers: res.headers, body: res.body as RegistryResponse['body'] };
    }
  }

  /** Throws the registry's error for a failed response, in the wording dockerd passes on. */
  static async fail(res: RegistryResponse, what: string): Promise<never> {
    // An error body past the bound says nothing worth the memory: the status speaks alone then.
    const text =
      res.status === 405 || res.status >= 500 ? '' : (await readBounded(res.body, MAX_DOCUMENT_SIZE, () => new Error('too large')).catch(() => '')).toString();
    const why = reason(text);
    let code: string | undefined;
    try {
      code = (JSON.parse(text) as { errors?: { code?: string }[] }).errors?.[0]?.code;
    } catch {
      // not JSON
    }
    if (res.status === 401) throw new RegistryError(`${what}: ${why || 'unauthorized: authentication required'}`, 401, code ?? 'UNAUTHORIZED');
    throw new RegistryError(`${what}: ${why || `unexpected status ${res.status}`}`, res.status, code);
  }
}

export function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function describe(err: unknown): string {
  const e = err as Error & { cause?: Error };
  return dialError(err) ?? ((e.cause ?? e).message || String(err));
}
