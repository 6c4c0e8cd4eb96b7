// A token server for distribution's token auth, as Docker Hub's auth.docker.io works: it checks Basic
// credentials (when sent), grants the scopes it allows, and signs a JWT (RS256, its certificate in
// `x5c`) that the registry verifies against the certificate it was given.
import { createServer, type Server } from 'node:http';
import { createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './engine.js';

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  certFile: string;
  /** Every request's account and scope, for assertions. */
  requests: { account?: string; scope?: string; authenticated: boolean; grant?: string }[];
  close(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** `users` may push and pull anything; anonymous clients may only pull repositories under `public/`. */
export async function startTokenServer(dir: string, users: Record<string, string>): Promise<TokenServer> {
  const keyFile = join(dir, 'token.key');
  const certFile = join(dir, 'token.crt');
  const made = await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-subj',
    '/CN=berth-token',
    '-days',
    '2',
  ]);
  if (made.code !== 0) throw new Error(`openssl: ${made.stderr}`);
  const key = createPrivateKey(await readFile(keyFile));
  const certDer = new X509Certificate(await readFile(certFile)).raw;
  const service = 'berth-registry';
  const issuer = 'berth-test-issuer';
  const requests: TokenServer['requests'] = [];
  // OAuth refresh tokens (what `docker login` stores as an identity token), by the user they stand for.
  const refreshTokens = new Map<string, string>();
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = req.headers.authorization;
    let user: string | undefined;
    let grant: string | undefined;
    if (req.method === 'POST') {
      let body = '';
      for await (const chunk of req) body += String(chunk);
      const form = new URLSearchParams(body);
      grant = form.get('grant_type') ?? undefined;
      user = refreshTokens.get(form.get('refresh_token') ?? '');
      if (grant !== 'refresh_token' || !user) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ details: 'invalid refresh token' }));
        return;
      }
      for (const [k, v] of form) url.searchParams.set(k, v);
    } else if (auth?.startsWith('Basic ')) {
      const [name, password] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
      if (!name || users[name] !== password) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ details: 'incorrect username or password' }));
        return;
      }
      user = name;
    }
    const scope = url.searchParams.get('scope') ?? undefined;
    requests.push({ account: url.searchParams.get('account') ?? undefined, scope, authenticated: !!user, grant });
    const access = (scope ?? '')
      .split(' ')
      .filter(Boolean)
      .map((s) => {
        const [type, name, actions] = s.split(':');
        const wanted = (actions ?? '').split(',');
        const granted = user ? wanted : name!.startsWith('public/') ? wanted.filter((a) => a === 'pull') : [];
        return { type, name, actions: granted };
      });
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', x5c: [certDer.toString('base64')] }));
    const claims = b64url(
      JSON.stringify({ iss: issuer, sub: user ?? '', aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access }),
    );
    const signature = b64url(sign('sha256', Buffer.from(`${header}.${claims}`), key));
    const token = `${header}.${claims}.${signature}`;
    let refresh: string | undefined;
    if (user && url.searchParams.get('offline_token') === 'true' && !grant) {
      refresh = randomBytes(16).toString('hex');
      refreshTokens.set(refresh, user);
    }
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(
        JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString(), ...(refresh ? { refresh_token: refresh } : {}) }),
      );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certFile,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
