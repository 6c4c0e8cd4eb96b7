// Registry authentication, as the distribution spec and dockerd do it: a 401 carries a
// `WWW-Authenticate` challenge; Basic sends the credentials, Bearer trades them (or nothing, for
// anonymous pulls) at the realm for a token scoped to the repository, cached until it expires.
import type { Dispatcher } from 'undici';
import { undici } from '../util/lazy-modules.js';
import { MAX_DOCUMENT_SIZE, readBounded } from './bodies.js';

/** What a client sends in `X-Registry-Auth` (base64url JSON), or what `docker login` stored. */
export interface Credentials {
  username?: string;
  password?: string;
  identitytoken?: string; // an OAuth refresh token from an earlier login
  registrytoken?: string; // a bearer token to use as it is
  serveraddress?: string;
}

export interface Challenge {
  scheme: string; // "bearer" | "basic"
  params: Record<string, string>;
}

/** Parses `Bearer realm="...",service="...",scope="..."` (quoted values may hold commas). */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) params[p[1]!.toLowerCase()] = p[2] ?? p[3] ?? '';
  return { scheme: m[1]!.toLowerCase(), params };
}

/** A key of podman's credentials map as a domain: `https://index.docker.io/v1/` → `docker.io`. */
function keyDomain(key: string): string {
  const host = key.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

/**
 * The `X-Registry-Auth` header: base64url (or plain base64) JSON; empty or `{}` means anonymous. podman
 * sends a map of registry → credentials (its whole auth file): with `domain`, that registry's entry (none:
 * anonymous), else the first.
 */
export function decodeAuthHeader(value: string | undefined, domain?: string): Credentials {
  if (!value) return {};
  try {
    const json = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
    const parsed = JSON.parse(json) as Record<string, unknown>;
    const single = typeof parsed.username === 'string' || typeof parsed.identitytoken === 'string' || typeof parsed.registrytoken === 'string';
    const keyed = domain === undefined ? Object.values(parsed)[0] : Object.entries(parsed).find(([k]) => keyDomain(k) === domain)?.[1];
    const entry = single ? parsed : ((keyed as Record<string, unknown> | undefined) ?? {});
    const str = (k: string) => (typeof entry[k] === 'string' && entry[k] ? (entry[k] as string) : undefined);
    return {
      username: str('username'),
      password: str('password'),
      identitytoken: str('identitytoken'),
      registrytoken: str('registrytoken'),
      serveraddress: str('serveraddress'),
    };
  } catch {
    return {};
  }
}

export class AuthError extends Error {}

interface CachedToken {
  token: string;
  expires: number;
}

/** Tokens per realm+service+scope, shared by the requests of one pull or push. */
export class TokenCache {
  private readonly tokens = new Map<string, CachedToken>();
  /** A refresh token the realm gave (OAuth), sent back as `IdentityToken` by `docker login`. */
  refreshToken?: string;

  async token(challenge: Challenge, scope: string, creds: Credentials, dispatcher: Dispatcher): Promise<string> {
    const { realm, service } = challenge.params;
    if (!realm) throw new AuthError('the registry asked for a token without a realm');
    const key = `${realm}|${service ?? ''}|${scope}`;
    const cached = this.tokens.get(key);
    if (cached && cached.expires > Date.now()) return cached.token;
    if (creds.registrytoken) return creds.registrytoken;
    const url = new URL(realm);
    let res: Dispatcher.ResponseData;
    if (creds.identitytoken) {
      // OAuth refresh-token grant, as dockerd does with a stored identity token.
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: creds.identitytoken,
        client_id: 'docker',
        scope,
        ...(service ? { service } : {}),
      });
      res = await undici().request(url, {
        method: 'POST',
        body: form.toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        dispatcher,
      });
    } else {
      if (service) url.searchParams.set('service', service);
      if (scope) url.searchParams.set('scope', scope);
      if (creds.username) url.searchParams.set('account', creds.username);
      if (creds.username !== undefined) url.searchParams.set('offline_token', 'true');
      const headers: Record<string, string> = {};
      if (creds.username !== undefined) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}`;
      res = await undici().request(url, { method: 'GET', headers, dispatcher });
    }
    const text = (
      await readBounded(res.body, MAX_DOCUMENT_SIZE, () => new AuthError(`the token server's answer is larger than ${MAX_DOCUMENT_SIZE / 1024 / 1024} MiB`))
    ).toString();
    if (res.statusCode === 401 || res.statusCode === 403) throw new AuthError(reason(text) || 'unauthorized: incorrect username or password');
    if (res.statusCode >= 300) throw new AuthError(`token server answered ${res.statusCode}: ${text.slice(0, 200)}`);
    const body = JSON.parse(text) as { token?: string; access_token?: string; expires_in?: number; refresh_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new AuthError('the token server gave no token');
    if (body.refresh_token) this.refreshToken = body.refresh_token;
    // Refresh a little early; the spec's default lifetime is 60 s.
    this.tokens.set(key, { token, expires: Date.now() + Math.max(10, (body.expires_in ?? 60) - 10) * 1000 });
    return token;
  }
}

/** The message of a registry's JSON error body (`{"errors":[{"code","message","detail"}]}`). */
export function reason(text: string): string {
  try {
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[]; details?: string };
    const e = body.errors?.[0];
    if (e) return [e.code?.toLowerCase().replace(/_/g, ' '), e.message].filter(Boolean).join(': ');
    return body.details ?? '';
  } catch {
    return text.trim().slice(0, 200);
  }
}
