// A berth extension: `GET /exec/{id}/start/ws` starts an exec session over a websocket, for the web
// console's terminal (a browser cannot hijack an HTTP connection). Messages in are the process's stdin
// (text or binary), its output goes out as binary messages, raw (a TTY session's bytes; without a TTY
// stdout and stderr are mixed, unframed). When the process has ended and its output is drained the
// websocket closes with 1000 and `exit <code>`; a failure after the upgrade closes it with 1011 and the
// message; a client that closes first hangs the process up (SIGHUP). What start refuses outright (no
// such session, started already, container not running) is an HTTP error before the upgrade, as with
// the attach websocket.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ExecIdParams as params } from '../../openapi/exec.js';
import { ResizeQuery } from '../../openapi/containers.js';
import { runExecSession } from '../exec.js';
import { websocketDuplex } from '../websocket.js';
import type { VerbOptions } from './family.js';

export const execWebsocketRoutes: FastifyPluginAsyncTypebox<VerbOptions> = async (app, { api, family }) => {
  if (family !== 'compat') return; // like the attach websocket, a Docker-family route

  app.get(
    '/exec/:id/start/ws',
    {
      websocket: true,
      schema: { summary: 'Start an exec instance via a websocket (berth extension)', params, querystring: ResizeQuery },
      preHandler: async (request) => void api.exec.checkStartable(request.params.id),
    },
    async (socket, request) => {
      const { id } = request.params;
      const h = Number(request.query.h ?? 0);
      const w = Number(request.query.w ?? 0);
      // `tty: true` means unframed output whatever the session's Tty. The session's end closes the websocket here, with its exit code, not when the duplex ends.
      const stream = websocketDuplex({ send: socket.send.bind(socket), on: socket.on.bind(socket), close: () => undefined });
      // A client that goes away is a terminal hung up: the process gets SIGHUP, as from a closed
      // terminal window (dockerd's exec would leave it running, a shell for each closed browser tab).
      socket.on('close', () => api.exec.signal(id, 'SIGHUP'));
      try {
        await runExecSession(api, id, stream, () => undefined, { consoleSize: h && w ? [h, w] : undefined, tty: true });
        const code = api.exec.inspect(id).exit_code;
        socket.close(1000, code === null ? '' : `exit ${code}`);
      } catch (err) {
        socket.close(1011, (err as Error).message.slice(0, 120));
      }
    },
  );
};
