// /volumes: create, list (filters name, label, dangling, driver), inspect, remove (409 while in use),
// prune (anonymous volumes only unless all=true, as dockerd ≥ 23; every unused one before API 1.42).
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { VOLUME_LIST_FILTERS, type Api } from '../../../runtime/api.js';
import { apiVersion } from '../../app.js';
import { versionBefore } from '../../versioning.js';
import { parseBool, parseFilters } from '../../query.js';
import { volumeView } from '../views/volumes.js';
import { Volume, VolumeCreateBody, VolumeDeleteQuery, VolumeFiltersQuery as FiltersQuery, VolumeList, VolumePruneResponse } from '../../../openapi/volumes.js';

const NameParams = Type.Object({ name: Type.String() });

export const volumeRoutes: FastifyPluginAsync<{ api: Api }> = async (plain, { api }) => {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();

  app.post('/volumes/create', { schema: { summary: 'Create a volume', body: VolumeCreateBody, response: { 201: Volume } } }, async (request, reply) => {
    const b = request.body ?? {};
    // As moby (23+): a volume created without a name is anonymous, so a plain prune takes it (docker-py's suite).
    const v = await api.volumes.create({
      name: b.Name,
      driver: b.Driver,
      options: b.DriverOpts ?? undefined,
      labels: b.Labels ?? undefined,
      anonymous: !b.Name,
    });
    return reply.code(201).send(volumeView(v));
  });

  app.get('/volumes', { schema: { summary: 'List volumes', querystring: FiltersQuery, response: { 200: VolumeList } } }, async (request) => {
    const list = api.volumes.list(parseFilters(request.query.filters, VOLUME_LIST_FILTERS));
    return { Volumes: list.map(volumeView), Warnings: [] };
  });

  app.get('/volumes/:name', { schema: { summary: 'Inspect a volume', params: NameParams, response: { 200: Volume } } }, async (request) =>
    volumeView(api.volumes.inspect(request.params.name)),
  );

  app.delete('/volumes/:name', { schema: { summary: 'Remove a volume', params: NameParams, querystring: VolumeDeleteQuery } }, async (request, reply) => {
    await api.volumes.remove(request.params.name, parseBool(request.query.force));
    return reply.code(204).send();
  });

  app.post(
    '/volumes/prune',
    { schema: { summary: 'Remove unused volumes', querystring: FiltersQuery, response: { 200: VolumePruneResponse } } },
    async (request) => {
      // Before API 1.42 prune took named volumes too and knew no `all` filter (dockerd 20.10).
      const legacy = versionBefore(apiVersion(request), '1.42');
      const f = parseFilters(request.query.filters, legacy ? ['label'] : ['label', 'all']);
      const { deleted, reclaimed } = await api.volumes.prune(f, legacy || (f.all ?? []).some((v) => parseBool(v)));
      return { VolumesDeleted: deleted, SpaceReclaimed: reclaimed };
    },
  );
};
