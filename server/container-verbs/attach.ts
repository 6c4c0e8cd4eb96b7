// attach for clients that do not ask for an Upgrade (200 and the raw stream until it ends), and Docker's
// websocket attach. The Upgrade form is the hijack router's (server/hijack.ts), for both families.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AttachQuery, ContainerIdParams as params } from '../../openapi/containers.js';
import { rawCommonHeaders } from '../app.js';
import { attachContainer } from '../attach.js';
import { parseDetachKeys } from '../session-stream.js';
import { websocketDuplex } from '../websocket.js';
import { takeRawSocket } from '../plain-hijack.js';
import type { VerbOptions } from './family.js';
import { holdAttach } from './attach-waiting.js';
import { dockerAttachQuery, libpodAttachQuery } from '../libpod/attach-query.js';

export const attachRoutes: FastifyPluginAsyncTypebox<VerbOptions> = async (app, { api, family }) => {
  app.post('/containers/:id/attach', { schema: { params, querystring: AttachQuery } }, async (request, reply) => {
    const q = request.query;
    const streams = family === 'libpod' ? libpodAttachQuery(q) : dockerAttachQuery(q);
    const session = api.containers.attach(request.params.id);
    parseDetachKeys(q.detachKeys ?? q.detachkeys); // a bad sequence is a 400 before the stream
    reply.hijack();
    const socket = reply.raw.socket!;
    // What the client sends after the request is the container's stdin, as with dockerd.
    takeRawSocket(socket);
    socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n' + rawCommonHeaders() + '\r\n');
    const release = family === 'libpod' ? holdAttach(session.id) : undefined; // attach-waiting.ts
    try {
      await attachContainer(session, socket, {
        ...streams,
        detachKeys: family === 'libpod' ? '' : (q.detachKeys ?? q.detachkeys), // podman's does not detach (hijack.ts)
      });
    } finally {
      release?.();
    }
    socket.destroySoon?.();
  });

  if (family !== 'compat') return; // podman has no websocket attach

  // Raw output bytes (never framed) out, stdin in. A missing container is a 404 with dockerd's message
  // before any upgrade (the hook runs for both).
  app.get(
    '/containers/:id/attach/ws',
    {
      websocket: true,
      schema: { summary: 'Attach to a container via a websocket', params, querystring: AttachQuery },
      preHandler: async (request) => void api.containers.inspect(request.params.id),
    },
    async (socket, request) => {
      const q = request.query;
      const stream = websocketDuplex(socket);
      try {
        const session = api.containers.attach(request.params.id);
        await attachContainer(session, stream, {
          ...dockerAttachQuery(q),
          detachKeys: q.detachKeys,
          multiplex: false,
        });
      } catch (err) {
        socket.close(1011, (err as Error).message.slice(0, 120));
      }
    },
  );
};
