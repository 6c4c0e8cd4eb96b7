// libpod: volumes (create, ls, inspect, exists, rm, prune) in podman's shapes and words. `volume
// export/import` the 4.3.1 client refuses remotely: nothing reaches the service.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import { EngineError, parseEventTime, VOLUME_LIST_FILTERS, type Api, type Volume } from '../../../runtime/api.js';
import { sendErrorBody } from '../../app.js';
import { parseBool, parseFilters } from '../../query.js';
import { libpodVolumeView } from '../views/volumes.js';
import {
  LibpodVolume,
  LibpodVolumeCreateBody,
  LibpodVolumeDeleteQuery,
  LibpodVolumeFiltersQuery,
  LibpodVolumePruneResponse,
} from '../../../openapi/libpod-volumes.js';

const NameParams = Type.Object({ name: Type.String() });
/** podman's rule for volume names (berth's store also wants two characters at least). */
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** An error in podman's words: `message` ends with its `cause`, as Go's wrapped errors read. */
const fail = (reply: FastifyReply, status: number, cause: string, message: string) =>
  sendErrorBody(reply, status, { cause, message: message ? `${message}: ${cause}` : cause, response: status });

const isNotFound = (err: unknown) => err instanceof EngineError && err.kind === 'not-found';

export const volumeRoutes: FastifyPluginAsyncTypebox<{ api: Api }> = async (app, { api }) => {
  const find = (name: string) => api.volumes.list().find((v) => v.name === name);

  app.post(
    '/volumes/create',
    { schema: { summary: 'Create a volume (libpod)', body: LibpodVolumeCreateBody, response: { 201: LibpodVolume } } },
    async (request, reply) => {
      const b = request.body;
      if (b.Name && !NAME.test(b.Name))
        return fail(reply, 500, 'invalid argument', 'running volume create option: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*');
      // podman refuses a name taken (dockerd hands the volume back); IgnoreIfExists (play kube) takes it.
      const existing = b.Name ? find(b.Name) : undefined;
      if (existing && !b.IgnoreIfExists) return fail(reply, 409, 'volume already exists', `volume with name ${b.Name} already exists`);
      if (b.Driver && b.Driver !== 'local')
        return fail(
          reply,
          500,
          'required plugin missing',
          `volume ${b.Name ?? ''} uses volume plugin ${b.Driver} but it could not be retrieved: no volume plugin with name ${b.Driver} available`,
        );
      const v =
        existing ?? (await api.volumes.create({ name: b.Name, driver: b.Driver, options: b.Options ?? undefined, labels: b.Label ?? b.Labels ?? undefined }));
      return reply.code(201).send(libpodVolumeView(v));
    },
  );

  app.get(
    '/volumes/json',
    { schema: { summary: 'List volumes (libpod)', querystring: LibpodVolumeFiltersQuery, response: { 200: Type.Array(LibpodVolume) } } },
    async (request) => {
      const filters = parseFilters(request.query.filters, [...VOLUME_LIST_FILTERS, 'until', 'opt']);
      const keys = Object.keys(filters);
      // podman 4.3 keeps a volume that any one filter key matches (values of one key: any too).
      const matching = (key: string, values: string[]): Volume[] => {
        if (key === 'until') {
          const limit = Math.min(...values.map(untilMs));
          return api.volumes.list().filter((v) => Date.parse(v.createdAt) < limit);
        }
        if (key === 'opt')
          return api.volumes.list().filter((v) => values.some((o) => Object.entries(v.options).some(([k, x]) => `${k}=${x}` === o || k === o)));
        return api.volumes.list({ [key]: values });
      };
      const kept = keys.length === 0 ? api.volumes.list() : union(keys.map((k) => matching(k, filters[k]!)));
      return kept.map((v) => libpodVolumeView(v));
    },
  );

  app.get(
    '/volumes/:name/json',
    { schema: { summary: 'Inspect a volume (libpod)', params: NameParams, response: { 200: LibpodVolume } } },
    async (request, reply) => {
      const v = find(request.params.name);
      if (!v) return fail(reply, 404, 'no such volume', `volume with name ${request.params.name} not found`);
      return libpodVolumeView(v);
    },
  );

  app.get('/volumes/:name/exists', { schema: { summary: 'Whether a volume exists (libpod)', params: NameParams } }, async (request, reply) => {
    if (!find(request.params.name)) return fail(reply, 404, 'no such volume', '');
    return reply.code(204).send();
  });

  app.delete(
    '/volumes/:name',
    { schema: { summary: 'Remove a volume (libpod)', params: NameParams, querystring: LibpodVolumeDeleteQuery } },
    async (request, reply) => {
      const { name } = request.params;
      try {
        // -f: podman removes the containers that use it first.
        if (parseBool(request.query.force)) await api.volumes.removeWithUsers(name);
        else {
          const users = api.volumes.users(name);
          if (users.length) return fail(reply, 409, 'volume is being used', `volume ${name} is being used by the following container(s): ${users.join(', ')}`);
          await api.volumes.remove(name);
        }
      } catch (err) {
        if (isNotFound(err)) return fail(reply, 404, 'no such volume', `no volume with name "${name}" found`);
        throw err;
      }
      return reply.code(204).send();
    },
  );

  app.post(
    '/volumes/prune',
    { schema: { summary: 'Remove unused volumes (libpod)', querystring: LibpodVolumeFiltersQuery, response: { 200: LibpodVolumePruneResponse } } },
    async (request) => {
      // podman prunes every unused volume, named ones too.
      const { removed } = await api.volumes.prune(parseFilters(request.query.filters, ['label']), true);
      return removed.map((v) => ({ Id: v.name, Size: v.size }));
    },
  );
};

/** The volumes any list holds, in name order, once each. */
function union<T extends { name: string }>(lists: T[][]): T[] {
  const byName = new Map<string, T>();
  for (const list of lists) for (const v of list) byName.set(v.name, v);
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** An `until` value (a unix time, a duration before now, a date) in milliseconds. */
const untilMs = (value: string) => Number(parseEventTime(value, 'until') / 1_000_000n);
