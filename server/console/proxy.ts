// /api/<path> → the engine's /<path>, verbatim and streaming both ways: a followed log, an event stream
// or a pull's progress goes out as it comes, a build context goes in as it is sent. When either side goes
// away the other is ended, so a closed tab does not leave a request running in the engine. Upgrades
// (websockets, Docker's `Upgrade: tcp` hijack) are passed through as raw bytes once the head is sent.
import { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, request, type ServerResponse } from 'node:http';
import { createConnection } from 'node:net';
import type { Duplex } from 'node:stream';
import { refuse, sendJson } from './auth.js';

// Hop-by-hop headers belong to one connection; Node writes its own.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
// The console's token stays with the console: the engine needs neither.
const PRIVATE = new Set(['cookie', 'authorization']);

/** '/api/v1.50/x?y' → '/v1.50/x?y'. */
export function upstreamPath(url: string): string {
  const rest = url.slice('/api'.length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}

function forwardHeaders(headers: IncomingHttpHeaders, drop: Set<string>): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name) && !drop.has(name)) out[name] = value;
  return out;
}

export class ApiProxy {
  constructor(private readonly socketPath: string) {}

  request(req: IncomingMessage, res: ServerResponse): void {
    const headers = forwardHeaders(req.headers, PRIVATE);
    // A bodiless POST is sent with an empty body, not as an empty chunked one.
    if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined && req.method !== 'GET' && req.method !== 'HEAD') {
      headers['content-length'] = '0';
    }
    // A connection per request (agent: false), closed with it: a Unix socket costs little, and the
    // engine sees its client leave exactly when the browser's request ends.
    const up = request({ socketPath: this.socketPath, agent: false, method: req.method, path: upstreamPath(req.url ?? '/api'), headers });
    up.on('response', (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, forwardHeaders(answer.headers, new Set()));
      // A stream's head goes now: a client following events sees the 200 before the first event.
      res.flushHeaders();
      answer.pipe(res);
      // The engine ended the stream early: the browser must see it cut, not complete.
      answer.on('close', () => {
        if (!answer.complete) res.destroy();
      });
    });
    up.on('error', (err) => {
      if (res.headersSent) res.destroy();
      else sendJson(res, 502, `the engine's socket: ${err.message}`);
    });
    // The browser went away (a closed tab, an aborted fetch): the engine's request ends too.
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  }

  /** An upgrade's head, rewritten to the engine's path, then bytes both ways until either side closes. */
  upgrade(req: IncomingMessage, client: Duplex, head: Buffer): void {
    const upstream = createConnection({ path: this.socketPath, allowHalfOpen: true });
    let lines = `${req.method} ${upstreamPath(req.url ?? '/api')} HTTP/${req.httpVersion}\r\n`;
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      if (!PRIVATE.has(req.rawHeaders[i]!.toLowerCase())) lines += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
    }
    upstream.write(`${lines}\r\n`);
    if (head.length > 0) upstream.write(head);
    let answered = false;
    upstream.once('data', () => (answered = true));
    // Each side's end is passed on as a half-close (`docker attach`'s stdin EOF); pipe does that.
    client.pipe(upstream);
    upstream.pipe(client);
    upstream.on('error', (err) => {
      if (answered) client.destroy();
      else refuse(client, 502, `the engine's socket: ${err.message}`);
    });
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => {
      if (!client.writableEnded) client.end();
    });
  }
}
