// docker cp. HEAD and GET: a path's stat (and contents); PUT: a tar extracted into a directory.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Readable } from 'node:stream';
import { ArchiveQuery, ContainerIdParams as params, ExtractQuery } from '../../openapi/containers.js';
import { parseBool } from '../query.js';
import type { VerbOptions } from './family.js';

const pathStatHeader = (stat: object) => Buffer.from(JSON.stringify(stat)).toString('base64');

export const archiveRoutes: FastifyPluginAsyncTypebox<VerbOptions> = async (app, { api }) => {
  app.head('/containers/:id/archive', { schema: { params, querystring: ArchiveQuery } }, async (request, reply) => {
    const stat = await api.containers.statPath(request.params.id, request.query.path ?? '');
    return reply.header('X-Docker-Container-Path-Stat', pathStatHeader(stat)).header('content-type', 'application/x-tar').send();
  });

  app.get('/containers/:id/archive', { schema: { params, querystring: ArchiveQuery } }, async (request, reply) => {
    const { stat, tar } = await api.containers.archive(request.params.id, request.query.path ?? '');
    return reply.header('X-Docker-Container-Path-Stat', pathStatHeader(stat)).header('content-type', 'application/x-tar').send(tar);
  });

  app.put('/containers/:id/archive', { schema: { params, querystring: ExtractQuery } }, async (request, reply) => {
    const q = request.query;
    const tar = request.body instanceof Readable ? request.body : undefined;
    await api.containers.extract(request.params.id, q.path ?? '', tar, {
      copyUIDGID: parseBool(q.copyUIDGID),
      noOverwriteDirNonDir: parseBool(q.noOverwriteDirNonDir),
    });
    return reply.code(200).send();
  });
};
