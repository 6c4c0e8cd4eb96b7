// /containers: create, list, inspect, remove, rename, update, prune, changes, export, and /commit. The
// verbs both API families serve (start, stop, wait, logs, top, cp, attach, resize, exec...) are in
// server/container-verbs/.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CONTAINER_LIST_FILTERS, CONTAINER_PRUNE_FILTERS, invalid, notFound, type Api, type Container } from '../../../runtime/api.js';
import { ContainerPruneQuery, ContainerPruneResponse, ContainerSummary } from '../../../openapi/container-list.js';
import {
  ChangesResponse,
  CommitQuery,
  CommitResponse,
  ContainerCreateBody,
  ContainerCreateQuery,
  ContainerCreateResponse,
  ContainerIdParams,
  ContainerInspectResponse,
  ContainerListQuery,
  ContainerUpdateResponse,
  HostConfig,
  InspectQuery,
  LinkParams,
  RemoveQuery,
  RenameQuery,
} from '../../../openapi/containers.js';
import { parseBool, parseFilters } from '../../query.js';
import { apiVersion } from '../../app.js';
import { containerInspect, sizeFields } from '../views/containers.js';
import { toSpec, updateOf } from '../create/to-spec.js';
import { dockerConfig, dockerEcho } from '../create/to-docker.js';
import { goHostConfigKeys } from '../go-keys.js';

const params = ContainerIdParams;

export const containerRoutes: FastifyPluginAsyncTypebox<{ api: Api }> = async (app, { api }) => {
  app.post(
    '/containers/create',
    { schema: { summary: 'Create a container', querystring: ContainerCreateQuery, body: ContainerCreateBody, response: { 201: ContainerCreateResponse } } },
    async (request, reply) => {
      const { name } = request.query;
      const body = request.body ?? {};
      goHostConfigKeys(body.HostConfig);
      const { spec, echo } = toSpec(body, apiVersion(request));
      const { id, warnings } = await api.containers.create(spec, { docker: echo }, name || undefined);
      return reply.code(201).send({ Id: id, Warnings: warnings });
    },
  );

  app.get('/containers/:id/json', { schema: { params, querystring: InspectQuery, response: { 200: ContainerInspectResponse } } }, async (request) => {
    const c = api.containers.inspect(request.params.id);
    const inspect = containerInspect(api.containers.facts, c, apiVersion(request));
    return parseBool(request.query.size) ? { ...inspect, ...sizeFields(await api.containers.size(c.id)) } : inspect;
  });

  app.post('/containers/:id/rename', { schema: { params, querystring: RenameQuery } }, async (request, reply) => {
    api.containers.rename(request.params.id, request.query.name);
    return reply.code(204).send();
  });

  app.delete('/containers/:id', { schema: { params, querystring: RemoveQuery } }, async (request, reply) => {
    const q = request.query;
    if (parseBool(q.link)) {
      api.containers.inspect(request.params.id);
      await api.containers.removeLink(request.params.id);
      return reply.code(204).send();
    }
    await api.containers.remove(request.params.id, { force: parseBool(q.force), volumes: parseBool(q.v) });
    return reply.code(204).send();
  });

  // `docker rm --link /web/db`: the CLI trims the leading slash, so the link name spans two segments.
  app.delete('/containers/:parent/:alias', { schema: { params: LinkParams, querystring: RemoveQuery } }, async (request, reply) => {
    const { parent, alias } = request.params;
    if (!parseBool(request.query.link)) throw notFound(`No such container: ${parent}/${alias}`);
    await api.containers.removeLink(`${parent}/${alias}`);
    return reply.code(204).send();
  });

  app.post('/containers/:id/update', { schema: { params, body: HostConfig, response: { 200: ContainerUpdateResponse } } }, async (request) => {
    const { warnings } = await api.containers.update(request.params.id, updateOf(request.body ?? {}));
    return { Warnings: warnings };
  });

  app.get('/containers/:id/changes', { schema: { params, response: { 200: ChangesResponse } } }, async (request) => {
    const list = await api.containers.changes(request.params.id);
    return list.length ? list : null;
  });

  app.get('/containers/:id/export', { schema: { params } }, async (request, reply) => {
    const tar = await api.containers.export(request.params.id);
    return reply.header('content-type', 'application/x-tar').send(tar);
  });

  app.post(
    '/commit',
    { schema: { summary: 'Create an image from a container', querystring: CommitQuery, response: { 201: CommitResponse } } },
    async (request, reply) => {
      const q = request.query;
      if (!q.container) throw invalid('container is required');
      const given = q.changes ?? [];
      const c = api.containers.inspect(q.container);
      const id = await api.containers.commit(c.id, {
        config: dockerConfig(c.spec, dockerEcho(c.echo)),
        repo: q.repo || undefined,
        tag: q.tag || undefined,
        author: q.author,
        comment: q.comment,
        changes: Array.isArray(given) ? given : [given],
        pause: parseBool(q.pause, true),
      });
      return reply.code(201).send({ Id: id });
    },
  );
};

const SummaryView = Type.Unsafe<object>(ContainerSummary);

// docker ps and docker container prune (kept apart from the other container routes: the filters are
// the runtime's, runtime/filters.ts). `containerView` shapes a container as docker ps shows it.
export const containerListRoutes: FastifyPluginAsync<{ api: Api; containerView: (c: Container, version: string) => object }> = async (
  plain,
  { api, containerView },
) => {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/containers/json',
    { schema: { summary: 'List containers', querystring: ContainerListQuery, response: { 200: Type.Array(SummaryView) } } },
    async (request) => {
      const q = request.query;
      const list = await api.containers.list({
        all: parseBool(q.all),
        limit: Number(q.limit ?? -1),
        size: parseBool(q.size),
        filters: parseFilters(q.filters, CONTAINER_LIST_FILTERS),
      });
      return list.map(({ container, size }) => ({ ...containerView(container, apiVersion(request)), ...(size ? sizeFields(size) : {}) }));
    },
  );

  app.post(
    '/containers/prune',
    { schema: { summary: 'Remove stopped containers', querystring: ContainerPruneQuery, response: { 200: ContainerPruneResponse } } },
    async (request) => {
      const { removed, reclaimed } = await api.containers.prune(parseFilters(request.query.filters, CONTAINER_PRUNE_FILTERS));
      return { ContainersDeleted: removed.length ? removed : null, SpaceReclaimed: reclaimed };
    },
  );
};
