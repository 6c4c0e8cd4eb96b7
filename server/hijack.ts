// HTTP upgrade (`Connection: Upgrade`, `Upgrade: tcp`): how the docker CLI attaches. Node hands these to
// the server's 'upgrade' event, outside Fastify's router, with the raw socket; answer 101 and speak bytes.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Engine } from '../runtime/engine.js';
import { EngineError } from '../runtime/errors.js';
import { attachContainer } from './attach.js';
import { checkVersion, splitVersion } from './versioning.js';
import { ERROR_STATUS, rawCommonHeaders } from './app.js';
import { parseBool } from './query.js';

function writeError(socket: Duplex, status: number, message: string) {
  const body = JSON.stringify({ message });
  const reason = { 400: 'Bad Request', 404: 'Not Found', 409: 'Conflict', 500: 'Internal Server Error' }[status] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      rawCommonHeaders() + `Connection: close\r\n\r\n${body}`,
  );
}

export function handleUpgrades(server: Server, engine: Engine): void {
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    if (head.length > 0) socket.unshift(head);
    void upgrade(req, socket, engine).catch((err: Error) => {
      if (err instanceof EngineError) writeError(socket, ERROR_STATUS[err.kind], err.message);
      else writeError(socket, 500, err.message);
    });
  });
}

async function upgrade(req: IncomingMessage, socket: Duplex, engine: Engine): Promise<void> {
  const { version, url } = splitVersion(req.url ?? '/');
  if (version) checkVersion(version);
  const parsed = new URL(url, 'http://berth');
  const q = (k: string) => parsed.searchParams.get(k) ?? undefined;
  const attach = /^(?:\/libpod)?\/containers\/([^/]+)\/attach$/.exec(parsed.pathname);
  if (req.method === 'POST' && attach) {
    const container = engine.containers.store.resolve(decodeURIComponent(attach[1]!));
    // Drain the (empty) request body the CLI announces with Content-Length: 0; the raw bytes follow.
    socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    await attachContainer(engine, container, socket, {
      stdin: parseBool(q('stdin')), stdout: parseBool(q('stdout')), stderr: parseBool(q('stderr')), logs: parseBool(q('logs')),
      stream: parseBool(q('stream')),
    });
    return;
  }
  writeError(socket, 404, 'page not found');
}
