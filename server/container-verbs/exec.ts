// /containers/{id}/exec and /exec/{id}: create, start (for clients that do not ask for an Upgrade, and
// detached starts), resize, inspect. The Upgrade form of start is in hijack.ts. Both families answer
// alike, but for resize: 201 from libpod (podman's), 200 from Docker's.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EngineError, conflict, invalid } from '../../runtime/api.js';
import { foldFieldCase } from '../json-body.js';
import { parseDetachKeys } from '../session-stream.js';
import { ExecCreateBody, ExecCreateResponse, ExecIdParams, ExecInspectResponse, ExecStartBody } from '../../openapi/exec.js';
import { ContainerIdParams, ResizeQuery } from '../../openapi/containers.js';
import { rawCommonHeaders } from '../app.js';
import { execInspect } from '../compat/views/exec.js';
import { writeEngineError } from '../hijack.js';
import { NOT_FOUND, runExecSession, startConsoleSize } from '../exec.js';
import { takeRawSocket } from '../plain-hijack.js';
import type { VerbOptions } from './family.js';

export const execRoutes: FastifyPluginAsyncTypebox<VerbOptions> = async (app, { api, family }) => {
  app.post(
    '/containers/:id/exec',
    { schema: { summary: 'Create an exec instance', params: ContainerIdParams, body: ExecCreateBody, response: { 201: ExecCreateResponse } } },
    async (request, reply) => {
      const body = foldFieldCase(request.body ?? {}, Object.keys(ExecCreateBody.properties));
      if (!body.Cmd?.length) throw invalid('No exec command specified');
      if (body.DetachKeys !== undefined && body.DetachKeys !== null) {
        if (typeof body.DetachKeys !== 'string') throw invalid('invalid parameter: DetachKeys must be a string');
        try {
          parseDetachKeys(body.DetachKeys);
        } catch {
          throw new EngineError('internal', `Invalid escape keys (${body.DetachKeys}) provided`); // dockerd's words and status
        }
      }
      if (family === 'libpod') {
        // podman's refusals, in its words and statuses.
        const c = api.containers.inspect(request.params.id);
        if (c.state === 'paused') throw conflict(`cannot create exec session as container ${c.id} is paused`);
        if (c.state !== 'running') throw new EngineError('internal', 'can only create exec sessions on running containers: container state improper');
      }
      return reply.code(201).send({ Id: api.exec.create(request.params.id, body) });
    },
  );

  app.post('/exec/:id/start', { schema: { summary: 'Start an exec instance', params: ExecIdParams, body: ExecStartBody } }, async (request, reply) => {
    const body = request.body ?? {};
    const { id } = request.params;
    const size = startConsoleSize(body);
    const libpod = family === 'libpod';
    if (body.Detach) {
      await api.exec.start(id, { consoleSize: size, notFoundCode: libpod ? NOT_FOUND : undefined });
      return reply.code(200).send();
    }
    api.exec.checkStartable(id); // 404 or 409 before the stream starts
    reply.hijack();
    const socket = reply.raw.socket!;
    takeRawSocket(socket); // stdin, if attached, is what the client sends after the request
    await runExecSession(
      api,
      id,
      socket,
      () => {
        // podman's head is the content type alone: no length, no chunking, the stream ends at close.
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n' + (libpod ? '' : rawCommonHeaders()) + '\r\n');
      },
      { consoleSize: size, tty: body.Tty ?? undefined, libpod },
    ).catch((err: Error) => writeEngineError(socket, err, libpod));
    socket.destroySoon?.();
  });

  app.post('/exec/:id/resize', { schema: { params: ExecIdParams, querystring: ResizeQuery } }, async (request, reply) => {
    const { h, w } = request.query;
    await api.exec.resize(request.params.id, Number(h ?? 0), Number(w ?? 0));
    return reply.code(family === 'libpod' ? 201 : 200).send();
  });

  app.get('/exec/:id/json', { schema: { params: ExecIdParams, response: { 200: ExecInspectResponse } } }, async (request) =>
    execInspect(api.exec.inspect(request.params.id)),
  );
};
