// libpod: containers (create from a SpecGenerator, list, inspect, remove, rename, init, prune, exists and
// the rest of the container endpoints not in server/container-verbs). One state with the Docker API: the
// same records, each API's views rebuilt from the spec and its own echo.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CONTAINER_LIST_FILTERS, CONTAINER_PRUNE_FILTERS, EngineError, notFound, type Api, type Container } from '../../../runtime/api.js';
import {
  LibpodCreateResponse,
  LibpodIdParams as params,
  LibpodListQuery,
  LibpodPruneQuery,
  LibpodPruneReport,
  LibpodRemoveQuery,
  LibpodRemoveReport,
  SpecGenerator,
} from '../../../openapi/libpod-containers.js';
import { parseBool, parseFilters, type FilterMap } from '../../query.js';
import { toSpec } from '../create/to-spec.js';
import { secretsToSpec } from '../create/secrets.js';
import { inspectContainer, listContainer, type PodOfContainer } from '../views/containers.js';

/** The error libpod answers (500) with podman's wording, when the engine refused in dockerd's. */
export function libpodRefusal(err: unknown, c: { id: string; name?: string }): unknown {
  if (!(err instanceof EngineError) || err.kind !== 'conflict') return err;
  if (/is already in use/.test(err.message) && c.name) {
    const holder = /by container "([0-9a-f]{64})"/.exec(err.message)?.[1];
    return new EngineError(
      'internal',
      `creating container storage: the container name "${c.name}" is already in use by ${holder ?? 'another container'}. You have to remove that container to be able to reuse that name: that name is already in use`,
    );
  }
  if (/You cannot remove a (running|paused|restarting) container/.test(err.message)) {
    return new EngineError(
      'internal',
      `cannot remove container ${c.id} as it is running - running or paused containers cannot be removed without force: container state improper`,
    );
  }
  return err;
}

/** podman's filters as the runtime's: its default network is `podman`, its stopped containers `exited`. */
function listFilters(raw: string | undefined): FilterMap {
  const filters = parseFilters(raw, [...CONTAINER_LIST_FILTERS, 'pod']);
  if (filters.network) filters.network = filters.network.map((n) => (n === 'podman' ? 'bridge' : n));
  if (filters.status) filters.status = filters.status.map((s) => (s === 'stopped' ? 'exited' : s));
  return filters;
}

/** The pod of each container (looked up once per request: a list shows many). */
function podsOf(api: Api): (c: Container) => PodOfContainer | undefined {
  const cache = new Map<string, PodOfContainer | undefined>();
  return (c) => {
    const ref = c.spec.pod;
    if (!ref) return undefined;
    if (!cache.has(ref)) {
      const found = api.pods.exists(ref) ? api.pods.inspect(ref) : undefined;
      cache.set(ref, found && { id: found.pod.id, name: found.pod.name, infra: found.members.find((m) => m.id === found.pod.infraId) });
    }
    return cache.get(ref);
  };
}

export const containerRoutes: FastifyPluginAsyncTypebox<{ api: Api }> = async (app, { api }) => {
  app.post(
    '/containers/create',
    { schema: { summary: 'Create a container (libpod)', body: SpecGenerator, response: { 201: LibpodCreateResponse } } },
    async (request, reply) => {
      const body = request.body;
      // Pods and containers share podman's names.
      if (body.name && api.pods.exists(body.name) && api.pods.inspect(body.name).pod.name === body.name)
        throw new EngineError('internal', `name "${body.name}" is in use: pod already exists`);
      const image = api.images.resolveLibpod(body.image ?? '');
      const { spec, echo } = toSpec(body, image.name);
      spec.secrets = secretsToSpec(api, body.secrets, body.secret_env);
      const dependencies = (body.dependencyContainers ?? []).map((dependency) => {
        try {
          return api.containers.idOf(dependency);
        } catch (err) {
          if (err instanceof EngineError && err.kind === 'not-found')
            throw notFound(
              `"${dependency}" is not a valid container, cannot be used as a dependency: no container with name or ID "${dependency}" found: no such container`,
            );
          throw err;
        }
      });
      if (dependencies.length) spec.dependencies = dependencies;
      try {
        const { id, warnings } = await api.containers.create(spec, { libpod: echo }, body.name || undefined, { singleCharName: true });
        // podman's warning, in its create's Warnings (podman-remote prints them).
        if (/^(host|none|container:)/.test(spec.network.mode) && Object.keys(spec.ports.publish ?? {}).length)
          warnings.push('Port mappings have been discarded as one of the Host, Container, Pod, and None network modes are in use');
        return reply.code(201).send({ Id: id, Warnings: warnings });
      } catch (err) {
        throw libpodRefusal(err, { id: '', name: body.name });
      }
    },
  );

  app.get('/containers/json', { schema: { summary: 'List containers (libpod)', querystring: LibpodListQuery } }, async (request) => {
    const q = request.query;
    const last = Number(q.last ?? q.limit ?? -1);
    const filters = listFilters(q.filters);
    // Without `all`, podman lists running containers only (not paused ones, as Docker does).
    if (!parseBool(q.all) && !filters.status) filters.status = ['running'];
    // pod=: the members of the pods named (by name, ID or ID prefix; an unknown one matches nothing).
    const { pod: podRefs, ...rest } = filters;
    const inPods = podRefs && new Set(podRefs.flatMap((ref) => (api.pods.exists(ref) ? [api.pods.inspect(ref).pod.id] : [])));
    const list = await api.containers.list({ all: parseBool(q.all), limit: last > 0 ? last : -1, size: parseBool(q.size), filters: rest });
    const pods = podsOf(api);
    // Oldest first, as podman lists them (the client sorts only when asked).
    return list
      .reverse()
      .filter(({ container }) => !inPods || (!!container.spec.pod && inPods.has(container.spec.pod)))
      .map(({ container, size }) => listContainer(api.containers.facts, container, size, pods(container)));
  });

  app.get(
    '/containers/:id/json',
    { schema: { summary: 'Inspect a container (libpod)', params, querystring: Type.Object({ size: Type.Optional(Type.String()) }) } },
    async (request) => {
      const c = api.containers.inspect(request.params.id);
      const inspect = inspectContainer(api.containers.facts, c, podsOf(api)(c));
      if (!parseBool(request.query.size)) return inspect;
      const size = await api.containers.size(c.id);
      return { ...inspect, SizeRw: size.sizeRw, SizeRootFs: size.sizeRootFs };
    },
  );

  // podman container exists: 204, or libpod's 404.
  app.get('/containers/:id/exists', { schema: { summary: 'Whether a container exists (libpod)', params } }, async (request, reply) => {
    api.containers.idOf(request.params.id);
    return reply.code(204).send();
  });

  // podman rm: 200 with a report per container removed; `ignore` answers an empty report for a missing one.
  app.delete(
    '/containers/:id',
    { schema: { summary: 'Remove a container (libpod)', params, querystring: LibpodRemoveQuery, response: { 200: LibpodRemoveReport } } },
    async (request) => {
      const q = request.query;
      const raw = request.params.id;
      let id: string;
      try {
        id = api.containers.idOf(raw);
      } catch (err) {
        if (parseBool(q.ignore) && err instanceof EngineError && err.kind === 'not-found') return [];
        throw err;
      }
      // The infra container goes only with its pod (before its members count as dependents), 500 as podman.
      const pod = podsOf(api)(api.containers.inspect(id));
      if (pod?.infra?.id === id)
        throw new EngineError('internal', `container ${id} is the infra container of pod ${pod.id} and cannot be removed without removing the pod`);
      const dependents = parseBool(q.depend) ? [] : api.containers.dependents(id);
      if (dependents.length) {
        throw new EngineError(
          'internal',
          `container ${id} has dependent containers which must be removed before it: ${dependents.join(', ')}: container already exists`,
        );
      }
      try {
        const removed = await api.containers.remove(id, { force: parseBool(q.force), volumes: parseBool(q.volumes ?? q.v), depend: parseBool(q.depend) });
        // With --depend, podman reports every container by its ID (the name given too).
        const depend = parseBool(q.depend);
        return removed.map((r) => ({ Id: r, RawInput: r === id && !depend ? raw : r }));
      } catch (err) {
        throw libpodRefusal(err, { id });
      }
    },
  );

  app.post(
    '/containers/:id/rename',
    { schema: { summary: 'Rename a container (libpod)', params, querystring: Type.Object({ name: Type.String() }) } },
    async (request, reply) => {
      const { name } = request.query;
      const id = api.containers.idOf(request.params.id);
      try {
        api.containers.rename(id, name);
      } catch (err) {
        if (!(err instanceof EngineError) || err.kind !== 'conflict') throw err;
        throw new EngineError('conflict', `renaming container ${id}: name ${name} already in use, cannot rename container ${id}: container already exists`);
      }
      return reply.code(204).send();
    },
  );

  // podman init: the container made in the runtime, waiting for start (304 when it is past that).
  app.post('/containers/:id/init', { schema: { summary: 'Initialize a container (libpod)', params } }, async (request, reply) => {
    const done = await api.containers.init(request.params.id);
    return reply.code(done ? 204 : 304).send();
  });

  app.post(
    '/containers/prune',
    { schema: { summary: 'Remove stopped containers (libpod)', querystring: LibpodPruneQuery, response: { 200: LibpodPruneReport } } },
    async (request) => {
      const { removed, sizes } = await api.containers.prune(parseFilters(request.query.filters, CONTAINER_PRUNE_FILTERS));
      return removed.map((id, i) => ({ Id: id, Size: sizes[i] ?? 0 }));
    },
  );
};
