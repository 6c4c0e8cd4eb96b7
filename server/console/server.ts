// The web console's HTTP server (`berth serve --console [HOST:]PORT`): the page from dist/console and the
// engine's API under /api, behind the token. Loaded only when the flag is given (server/main.ts requires
// dist/server/console.cjs, bundled apart from the engine), so without it none of this is in memory.
// The API is reached through a private socket in run-root whose connections go to the API's own HTTP
// server: the same path whether the engine listens on a socket path or on an fd from systemd (which has
// no path to connect to), and the requests count for the engine's idle exit and its shutdown like any.
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import Fastify from 'fastify';
import fastifyStatic from '@fastify/static';
import { type ConsoleAddress, urlHost } from './address.js';
import { authorized, crossSiteRefusal, isApiPath, refuse, sendJson, sendUnauthorized, tokenCookie } from './auth.js';
import { ApiProxy } from './proxy.js';
import { newToken, tokenMatches, writeTokenFile } from './token.js';

export { parseConsoleAddress } from './address.js';

export interface ConsoleOptions {
  address: ConsoleAddress;
  runRoot: string;
  /** The engine's API server: the console's requests are handed to it. */
  api: HttpServer;
  /** The built page (dist/console). */
  staticRoot: string;
}

export interface ConsoleServer {
  /** The URL with the token, as printed. */
  url: string;
  /** Stops listening, ends the console's connections (and so their requests in the engine), removes the token. */
  close(): Promise<void>;
}

// On every answer: the console is not to be framed by another page, nor its files sniffed.
const SAFE_HEADERS = { 'x-frame-options': 'DENY', 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };

export async function startConsole(o: ConsoleOptions): Promise<ConsoleServer> {
  const token = newToken();
  const tokenFile = join(o.runRoot, 'console-token');
  const apiSocket = join(o.runRoot, 'console-api.sock');
  const inner = await listenPrivate(apiSocket, o.api);
  const proxy = new ApiProxy(apiSocket);
  const upgraded = new Set<Duplex>();

  const app = Fastify({
    // Every request passes the token and CSRF checks first; the API never reaches Fastify. No limit on
    // a request's duration: a build context may take long to upload.
    serverFactory: (serveStatic) => createServer({ requestTimeout: 0 }, (req, res) => front(req, res, serveStatic)),
  });
  await app.register(fastifyStatic, { root: o.staticRoot, index: 'index.html' });
  const http = app.server;

  function front(req: IncomingMessage, res: ServerResponse, serveStatic: (req: IncomingMessage, res: ServerResponse) => void): void {
    for (const [name, value] of Object.entries(SAFE_HEADERS)) res.setHeader(name, value);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    // The printed URL: its token becomes the cookie, and the address bar loses it.
    if (path === '/' && q >= 0) {
      const given = new URLSearchParams(url.slice(q + 1)).get('token');
      if (given !== null) {
        if (!tokenMatches(token, given)) return sendUnauthorized(res, path);
        res.writeHead(303, { location: '/', 'set-cookie': tokenCookie(token), 'cache-control': 'no-store' });
        res.end();
        return;
      }
    }
    if (!authorized(req, token)) return sendUnauthorized(res, path);
    const refusal = crossSiteRefusal(req);
    if (refusal) return sendJson(res, 403, refusal);
    if (isApiPath(path)) proxy.request(req, res);
    else serveStatic(req, res);
  }

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node took its own error handler off the socket with the upgrade: a reset must not go uncaught.
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '/').split('?')[0]!;
    if (!authorized(req, token)) return refuse(socket, 401, 'the console token is missing or wrong');
    if (!isApiPath(path)) return refuse(socket, 404, `no upgrade at ${path}`);
    const refusal = crossSiteRefusal(req, req.headers.upgrade?.toLowerCase() === 'websocket');
    if (refusal) return refuse(socket, 403, refusal);
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    proxy.upgrade(req, socket, head);
  });

  try {
    await app.listen({ host: o.address.host, port: o.address.port });
  } catch (err) {
    inner.close();
    await rm(apiSocket, { force: true });
    throw new Error(`--console ${urlHost(o.address.host, o.address.port)}: ${err instanceof Error ? err.message : String(err)}`);
  }
  await writeTokenFile(tokenFile, token);
  const bound = http.address();
  const port = typeof bound === 'object' && bound ? bound.port : o.address.port;
  return {
    url: `http://${urlHost(o.address.host, port)}/?token=${token}`,
    async close() {
      const closed = app.close();
      http.closeAllConnections();
      for (const socket of upgraded) socket.destroy();
      // Its connections belong to the API server now, which ends them with the engine.
      inner.close();
      await closed;
      await rm(tokenFile, { force: true });
      await rm(apiSocket, { force: true });
    },
  };
}

/** A socket only root can use (born 0600), whose connections the API server takes as its own. */
async function listenPrivate(path: string, api: HttpServer): Promise<NetServer> {
  await rm(path, { force: true });
  // As the API's own server accepts: half-open allowed (a hijacked stream's stdin ends while its output
  // still flows), no Nagle delay.
  const inner = createNetServer({ allowHalfOpen: true, noDelay: true }, (socket: Socket) => api.emit('connection', socket));
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      inner.once('error', reject);
      inner.listen(path, () => {
        inner.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(umask);
  }
  return inner;
}
