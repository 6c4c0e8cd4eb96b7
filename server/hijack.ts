// HTTP upgrade (`Connection: Upgrade`, `Upgrade: tcp`): how the docker CLI attaches. Node hands these to
// the server's 'upgrade' event, outside Fastify's router, with the raw socket; answer 101 and speak bytes.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { EngineError, type Api } from '../runtime/api.js';
import { ExecStartBody } from '../openapi/exec.js';
import { validated } from './validate.js';
import { NOT_FOUND, runExecSession, startConsoleSize } from './exec.js';
import { headReadFirst, parseDetachKeys } from './session-stream.js';
import { attachContainer } from './attach.js';
import { checkVersion, splitVersion } from './versioning.js';
import { ERROR_STATUS, rawCommonHeaders } from './app.js';
import { MAX_JSON_BODY, parseJsonBody } from './json-body.js';
import { libpodError } from './libpod/errors.js';
import { holdAttach } from './container-verbs/attach-waiting.js';
import { dockerAttachQuery, libpodAttachQuery } from './libpod/attach-query.js';

/** A body announced larger than any JSON body may be; refused before it is read. */
class BodyTooLarge extends Error {
  constructor() {
    super(`request body is larger than the limit of ${MAX_JSON_BODY / 1024 / 1024} MiB`);
  }
}

/** A libpod request (`/libpod/...`, versioned or not): its errors have libpod's body. */
const isLibpod = (url: string | undefined) => /^\/(?:v[\d.]+\/)?libpod(?:\/|\?|$)/.test(url ?? '');

function writeError(socket: Duplex, status: number, message: string, libpod = false) {
  const body = JSON.stringify(libpod ? libpodError({ message }, status) : { message });
  const reason = { 400: 'Bad Request', 404: 'Not Found', 409: 'Conflict', 413: 'Payload Too Large', 500: 'Internal Server Error' }[status] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      rawCommonHeaders() +
      `Connection: close\r\n\r\n${body}`,
  );
}

/** An error as an HTTP response on a raw socket: before a hijacked stream has started (libpod's body with `libpod`). */
export function writeEngineError(socket: Duplex, err: Error, libpod = false): void {
  if (err instanceof BodyTooLarge) writeError(socket, 413, err.message, libpod);
  else if (err instanceof EngineError) writeError(socket, ERROR_STATUS[err.kind], err.message, libpod);
  else writeError(socket, 500, err.message, libpod);
}

/**
 * The server's one 'upgrade' listener: WebSocket upgrades go to the listeners already there
 * (@fastify/websocket's, which routes them through Fastify), the Docker hijack (`Upgrade: tcp`) here.
 */
export function handleUpgrades(server: Server, api: Api): void {
  const websocketListeners = server.listeners('upgrade') as ((req: IncomingMessage, socket: Duplex, head: Buffer) => void)[];
  server.removeAllListeners('upgrade');
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A WebSocket handshake carries Sec-WebSocket-Key. cockpit-podman sends `Upgrade: WebSocket` without
    // one on libpod's exec start and attach, and podman hijacks those as any other upgrade.
    if (req.headers.upgrade?.toLowerCase() === 'websocket' && req.headers['sec-websocket-key'] !== undefined) {
      for (const listener of websocketListeners) listener.call(server, req, socket, head);
      return;
    }
    socket.on('error', () => undefined);
    if (head.length > 0) socket.unshift(head);
    void upgrade(req, socket, api).catch((err: Error) => writeEngineError(socket, err, isLibpod(req.url)));
  });
}

/** The request body that precedes the raw stream on an upgraded connection (Content-Length bytes). */
async function readBody(req: IncomingMessage, socket: Duplex): Promise<Buffer> {
  let want = Number(req.headers['content-length'] ?? 0);
  // Held in memory: bounded as every JSON body is.
  if (want > MAX_JSON_BODY) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  while (want > 0) {
    const chunk = socket.read() as Buffer | null;
    if (!chunk) {
      await new Promise((resolve) => {
        socket.once('readable', resolve);
        socket.once('end', resolve);
      });
      if (socket.readableEnded) break;
      continue;
    }
    const take = chunk.subarray(0, want);
    if (chunk.length > want) socket.unshift(chunk.subarray(want));
    chunks.push(take);
    want -= take.length;
  }
  return Buffer.concat(chunks);
}

const UPGRADED = 'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n';

async function upgrade(req: IncomingMessage, socket: Duplex, api: Api): Promise<void> {
  const { version, url } = splitVersion(req.url ?? '/');
  if (version) checkVersion(version);
  const parsed = new URL(url, 'http://berth');
  const q = (k: string) => parsed.searchParams.get(k) ?? undefined;
  const attach = /^(?:\/libpod)?\/containers\/([^/]+)\/attach$/.exec(parsed.pathname);
  if (req.method === 'POST' && attach) {
    const query = { stdin: q('stdin'), stdout: q('stdout'), stderr: q('stderr'), logs: q('logs'), stream: q('stream') };
    const streams = isLibpod(req.url) ? libpodAttachQuery(query) : dockerAttachQuery(query);
    const session = api.containers.attach(decodeURIComponent(attach[1]!));
    // Drain the (empty) request body the CLI announces with Content-Length: 0; the raw bytes follow.
    await readBody(req, socket);
    parseDetachKeys(q('detachKeys') ?? q('detachkeys')); // a bad sequence is a 400 before the stream
    const { logs } = streams;
    // A libpod start while this attach is open fails as the attach would have (container-verbs/attach-waiting.ts).
    const release = isLibpod(req.url) ? holdAttach(session.id) : undefined;
    try {
      socket.write(`${UPGRADED}\r\n`);
      // The log replay would follow the head at once: docker-py reads the head with a buffered reader and
      // loses what arrives in the same read. dockerd's replay comes later than that; so does this one.
      if (logs) await headReadFirst(socket);
      await attachContainer(session, socket, {
        ...streams,
        // podman's service (4.3.1) does not detach on the keys: they reach the container, and the client,
        // which waits for the exit after its attach ends, would wait on a container left running.
        detachKeys: isLibpod(req.url) ? '' : (q('detachKeys') ?? q('detachkeys')),
      });
    } finally {
      release?.();
    }
    return;
  }
  const exec = /^(?:\/libpod)?\/exec\/([^/]+)\/start$/.exec(parsed.pathname);
  if (req.method === 'POST' && exec) {
    const id = decodeURIComponent(exec[1]!);
    const raw = (await readBody(req, socket)).toString();
    // Validated as the plain start's body is (Fastify's schema): `"Detach": "yes"` is a 400, not a detached start.
    const body = validated(ExecStartBody, parseJsonBody(raw), 'body');
    const libpod = isLibpod(req.url);
    if (body.Detach) {
      await api.exec.start(id, { consoleSize: startConsoleSize(body), notFoundCode: libpod ? NOT_FOUND : undefined });
      socket.end(`HTTP/1.1 200 OK\r\nContent-Length: 0\r\n${rawCommonHeaders()}\r\n`);
      return;
    }
    await runExecSession(api, id, socket, () => socket.write(`${UPGRADED}${rawCommonHeaders()}\r\n`), {
      consoleSize: startConsoleSize(body),
      tty: body.Tty ?? undefined,
      libpod,
    });
    return;
  }
  if (isLibpod(req.url))
    socket.end(`HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 10\r\nConnection: close\r\n\r\nNot Found\n`);
  else writeError(socket, 404, 'page not found');
}
