// Who may use the console: a request carries the token in the cookie the page got for it (or as a
// Bearer token, for scripts), and a state-changing one also proves it comes from the console's own page.
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { tokenMatches } from './token.js';

export const COOKIE = 'berth_console';

/** The cookie `GET /?token=T` sets: never readable by scripts, never sent by another site's requests. */
export function tokenCookie(token: string): string {
  return `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function authorized(req: IncomingMessage, token: string): boolean {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  return tokenMatches(token, bearer) || tokenMatches(token, cookieValue(req.headers.cookie, COOKIE));
}

/** The origin the browser is on when it talks to us: the one it addressed (Host). */
function ownOrigin(req: IncomingMessage): string | undefined {
  return req.headers.host ? `http://${req.headers.host}` : undefined;
}

/**
 * Why a request is refused as cross-site, or undefined. Other than GET/HEAD it must carry
 * X-Berth-Console: 1 (a form cannot; a cross-origin fetch that tries stops at its preflight, which we do
 * not answer) and an Origin, if any, must be ours: SameSite does not tell apart two ports of one host.
 * A websocket must show our Origin: a browser sets no custom header on one, and sends the cookie to
 * another port's page too.
 */
export function crossSiteRefusal(req: IncomingMessage, websocket = false): string | undefined {
  const origin = req.headers.origin;
  if (websocket) {
    if (origin === undefined || origin !== ownOrigin(req)) return `websocket refused: Origin ${origin ?? '(none)'} is not the console's`;
    return undefined;
  }
  if (req.method === 'GET' || req.method === 'HEAD') return undefined;
  if (req.headers['x-berth-console'] !== '1') return 'a state-changing request needs the header X-Berth-Console: 1';
  if (origin !== undefined && origin !== ownOrigin(req)) return `Origin ${origin} is not the console's`;
  return undefined;
}

const UNAUTHORIZED_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>berth: console token needed</title></head>
<body><h1>berth</h1><p>This console needs its token. Open the URL berth printed when it started
(<code>berth: console at http://…/?token=…</code>), or add <code>?token=</code> and the contents of
<code>&lt;run-root&gt;/console-token</code> to this address.</p></body></html>
`;

/** 401: a page for the browser's navigations, JSON (the engine's error shape) under /api. */
export function sendUnauthorized(res: ServerResponse, path: string): void {
  if (isApiPath(path)) sendJson(res, 401, 'the console token is missing or wrong');
  else {
    res.writeHead(401, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(UNAUTHORIZED_PAGE);
  }
}

export function sendJson(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(`${JSON.stringify({ message })}\n`);
}

/** An upgrade refused: an HTTP answer on the raw socket, then closed. */
export function refuse(socket: Duplex, status: number, message: string): void {
  const body = `${JSON.stringify({ message })}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

export function isApiPath(path: string): boolean {
  return path === '/api' || path.startsWith('/api/');
}
