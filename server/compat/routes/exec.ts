// /containers/{id}/exec and /exec/{id}: create, start (for clients that do not ask for an Upgrade, and
// detached starts), resize, inspect. The Upgrade form of start is in hijack.ts.
import type { FastifyPluginAsync } from 'fastify';
import type { Engine } from '../../../runtime/engine.js';
import { EngineError, invalid } from '../../../runtime/errors.js';
import { foldFieldCase } from '../../json-body.js';
import { parseDetachKeys } from '../../session-stream.js';
import { resizeTerminal } from '../../../runtime/containers/attach.js';
import { ExecCreateBody, ExecCreateResponse, ExecStartBody } from '../../../openapi/exec.js';
import { ResizeQuery } from '../../../openapi/containers.js';
import { rawCommonHeaders } from '../../app.js';
import { execInspect } from '../views/exec.js';
import { writeEngineError } from '../../hijack.js';
import { runExecSession, startConsoleSize } from '../../exec.js';
import { takeRawSocket } from '../../plain-hijack.js';

type Id = { Params: { id: string } };

export const execRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  const { execs } = engine;

  app.post('/containers/:id/exec', { schema: { summary: 'Create an exec instance', body: ExecCreateBody, response: { 201: ExecCreateResponse } } }, async (request, reply) => {
    const body = foldFieldCase((request.body ?? {}) as ExecCreateBody, Object.keys(ExecCreateBody.properties));
    if (!body.Cmd?.length) throw invalid('No exec command specified');
    if (body.DetachKeys !== undefined && body.DetachKeys !== null) {
      if (typeof body.DetachKeys !== 'string') throw invalid('invalid parameter: DetachKeys must be a string');
      try {
        parseDetachKeys(body.DetachKeys);
      } catch {
        throw new EngineError('internal', `Invalid escape keys (${body.DetachKeys}) provided`); // dockerd's words and status
      }
    }
    return reply.code(201).send({ Id: execs.create((request.params as { id: string }).id, body) });
  });

  app.post('/exec/:id/start', { schema: { summary: 'Start an exec instance', body: ExecStartBody } }, async (request, reply) => {
    const body = (request.body ?? {}) as ExecStartBody;
    const { id } = request.params as { id: string };
    const size = startConsoleSize(body);
    if (body.Detach) {
      await execs.start(id, { consoleSize: size });
      return reply.code(200).send();
    }
    execs.checkStartable(id); // 404 or 409 before the stream starts
    reply.hijack();
    const socket = reply.raw.socket!;
    takeRawSocket(socket); // stdin, if attached, is what the client sends after the request
    await runExecSession(engine, id, socket, () => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n' + rawCommonHeaders() + '\r\n');
    }, { consoleSize: size, tty: body.Tty ?? undefined }).catch((err: Error) => writeEngineError(socket, err));
    socket.destroySoon?.();
  });

  app.post<Id>('/exec/:id/resize', { schema: { querystring: ResizeQuery } }, async (request, reply) => {
    const s = execs.inspect(request.params.id);
    const { h, w } = request.query as { h?: string; w?: string };
    if (s.state !== 'running') throw invalid(`Exec ${s.id} is not running`);
    if (s.config.Tty) await resizeTerminal(execs.controlFifo(s), Number(h ?? 0), Number(w ?? 0)).catch(() => undefined);
    // podman's resize answers 201
    return reply.code(request.url.includes('/libpod/') ? 201 : 200).send();
  });

  app.get<Id>('/exec/:id/json', async (request) => execInspect(execs.inspect(request.params.id)));
};
