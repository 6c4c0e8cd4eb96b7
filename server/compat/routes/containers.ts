// /containers: create, list, inspect, remove, rename, update, prune, changes, export, and /commit. The
// verbs both API families serve (start, stop, wait, logs, top, cp, attach, resize, exec...) are in
// server/container-verbs/.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { invalid, notFound, type Api, type Container, type Engine } from '../../../runtime/api.js';
import { parseUntil } from '../../../runtime/util/time.js';
import {
  ChangesResponse, CommitQuery, CommitResponse, ContainerCreateBody, ContainerCreateQuery, ContainerCreateResponse, ContainerIdParams, ContainerInspectResponse, ContainerListQuery,
  ContainerListResponse, ContainerPruneQuery, ContainerPruneResponse, ContainerUpdateResponse, HostConfig, InspectQuery, LinkParams, RemoveQuery, RenameQuery,
} from '../../../openapi/containers.js';
import { parseBool, parseFilters } from '../../query.js';
import { apiVersion } from '../../app.js';
import { versionBefore } from '../../versioning.js';
import { containerInspect, containerSummary, sizeFields } from '../views/containers.js';
import { containerNetworks } from '../views/networks.js';
import { startChangesOf, toSpec, updateOf } from '../create/to-spec.js';
import { dockerConfig, dockerEcho } from '../create/to-docker.js';
import { HEALTH_FILTER_VALUES } from '../../../runtime/containers/health-state.js';

const LIST_FILTERS = ['id', 'name', 'label', 'status', 'ancestor', 'exited', 'before', 'since', 'health', 'volume', 'network', 'is-task', 'publish', 'expose'] as const;
const params = ContainerIdParams;

/**
 * `engine` is for the views (inspect, list) and the list and prune filters only, until those move behind
 * the facade; every other route calls `api`.
 */
export const containerRoutes: FastifyPluginAsyncTypebox<{ api: Api; engine: Engine }> = async (app, { api, engine }) => {
  const containers = engine.containers;
  /** `size=1` (ps -s, inspect -s): the writable layer, and that with the image. */
  const sizesOf = async (c: Container) => sizeFields(await engine.diskUsage.containerSize(c));

  app.post('/containers/create', { schema: { summary: 'Create a container', querystring: ContainerCreateQuery, body: ContainerCreateBody, response: { 201: ContainerCreateResponse } } }, async (request, reply) => {
    const { name } = request.query;
    const { spec, echo } = toSpec(request.body ?? {}, apiVersion(request));
    const { id, warnings } = await api.containers.create(spec, echo, name || undefined);
    return reply.code(201).send({ Id: id, Warnings: warnings });
  });

  app.get('/containers/json', { schema: { summary: 'List containers', querystring: ContainerListQuery, response: { 200: ContainerListResponse } } }, async (request) => {
    const { query } = request;
    const filters = parseFilters(query.filters, LIST_FILTERS);
    for (const v of filters.health ?? []) if (!HEALTH_FILTER_VALUES.includes(v)) throw invalid(`Unrecognised filter value for health: ${v}`);
    let list = containers.store.all();
    const limit = Number(query.limit ?? -1);
    // As dockerd: a positive limit lists stopped and created containers too (the newest N of all).
    const all = parseBool(query.all) || limit > 0 || (filters.status?.length ?? 0) > 0 || (filters.exited?.length ?? 0) > 0;
    if (!all) list = list.filter((c) => c.state === 'running' || c.state === 'paused' || c.state === 'restarting');
    list = list.filter((c) => matches(engine, c, filters));
    if (limit > 0) list = list.slice(0, limit);
    if (!parseBool(query.size)) return list.map((c) => containerSummary(engine, c));
    return Promise.all(list.map(async (c) => ({ ...containerSummary(engine, c), ...(await sizesOf(c)) })));
  });

  app.get('/containers/:id/json', { schema: { params, querystring: InspectQuery, response: { 200: ContainerInspectResponse } } }, async (request) => {
    const c = api.containers.inspect(request.params.id);
    const inspect = containerInspect(engine, c, apiVersion(request));
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
    await api.containers.update(request.params.id, updateOf(request.body ?? {}));
    return { Warnings: [] };
  });

  app.post('/containers/prune', { schema: { summary: 'Remove stopped containers', querystring: ContainerPruneQuery, response: { 200: ContainerPruneResponse } } }, async (request) => {
    const filters = parseFilters(request.query.filters, ['until', 'label', 'label!']);
    const until = filters.until?.[0] ? parseUntil(filters.until[0]) : undefined;
    const { removed, reclaimed } = await containers.prune((c) => {
      if (until !== undefined && Date.parse(c.created) >= until) return false;
      const labels = c.spec.labels;
      const has = (l: string) => (l.includes('=') ? labels[l.slice(0, l.indexOf('='))] === l.slice(l.indexOf('=') + 1) : l in labels);
      if (filters.label?.length && !filters.label.every(has)) return false;
      if (filters['label!']?.length && filters['label!'].some(has)) return false;
      return true;
    }, async (c) => (await engine.diskUsage.containerSize(c)).sizeRw);
    return { ContainersDeleted: removed.length ? removed : null, SpaceReclaimed: reclaimed };
  });

  app.get('/containers/:id/changes', { schema: { params, response: { 200: ChangesResponse } } }, async (request) => {
    const list = await api.containers.changes(request.params.id);
    return list.length ? list : null;
  });

  app.get('/containers/:id/export', { schema: { params } }, async (request, reply) => {
    const tar = await api.containers.export(request.params.id);
    return reply.header('content-type', 'application/x-tar').send(tar);
  });

  app.post('/commit', { schema: { summary: 'Create an image from a container', querystring: CommitQuery, response: { 201: CommitResponse } } }, async (request, reply) => {
    const q = request.query;
    if (!q.container) throw invalid('container is required');
    const given = q.changes ?? [];
    const c = api.containers.inspect(q.container);
    const id = await api.containers.commit(c.id, {
      config: dockerConfig(c.spec, dockerEcho(c.echo)),
      repo: q.repo || undefined, tag: q.tag || undefined, author: q.author, comment: q.comment,
      changes: Array.isArray(given) ? given : [given], pause: parseBool(q.pause, true),
    });
    return reply.code(201).send({ Id: id });
  });
};

function matches(engine: Engine, c: Container, f: Record<string, string[]>): boolean {
  const any = (key: string, test: (v: string) => boolean) => !f[key]?.length || f[key]!.some(test);
  if (!any('id', (v) => c.id.startsWith(v))) return false;
  if (!any('name', (v) => new RegExp(v).test(c.name) || new RegExp(v).test(`/${c.name}`))) return false;
  if (!any('status', (v) => v === c.state)) return false;
  if (!any('exited', (v) => c.state === 'exited' && Number(v) === c.exit_code)) return false;
  if (f.label?.length) {
    const labels = c.spec.labels;
    for (const l of f.label) {
      const eq = l.indexOf('=');
      if (eq < 0 ? !(l in labels) : labels[l.slice(0, eq)] !== l.slice(eq + 1)) return false;
    }
  }
  if (f.ancestor?.length) {
    const ok = f.ancestor.some((a) => {
      try {
        return engine.images.store.resolve(a).id === c.image_id;
      } catch {
        return false;
      }
    });
    if (!ok) return false;
  }
  if (!any('health', (v) => v === (c.health?.Status ?? 'none'))) return false;
  // No container is a swarm task.
  if (!any('is-task', (v) => !parseBool(v))) return false;
  const networks = Object.entries(containerNetworks(engine, c)).flatMap(([name, n]) => [name, n.NetworkID]);
  if (!any('network', (v) => networks.includes(v))) return false;
  // publish/expose: a port ("80", "80/tcp") or a range, on the host side (publish) or the container's.
  const ports = (v: string, list: { port: number; protocol: string }[]) => {
    const [range = '', protocol] = v.split('/');
    const [from, to = from] = range.split('-').map(Number);
    return list.some((p) => p.port >= from! && p.port <= to! && (!protocol || p.protocol === protocol));
  };
  if (!any('publish', (v) => ports(v, c.ports.map((p) => ({ port: p.HostPort, protocol: p.Protocol }))))) return false;
  if (!any('expose', (v) => ports(v, c.spec.ports.expose.map((k) => ({ port: Number(k.split('/')[0]), protocol: k.split('/')[1] ?? 'tcp' }))))) return false;
  // Volumes are host directories for now: match a bind's source or its destination.
  if (!any('volume', (v) => (c.spec.mounts.volumes ?? []).some((b) => b.split(':')[0] === v || b.split(':')[1] === v))) return false;
  if (f.before?.length && !(c.created < engine.containers.store.resolve(f.before[0]!).created)) return false;
  if (f.since?.length && !(c.created > engine.containers.store.resolve(f.since[0]!).created)) return false;
  return true;
}
