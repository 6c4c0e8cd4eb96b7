// /volumes: create, list (filters name, label, dangling, driver), inspect, remove (409 while in use),
// prune (anonymous volumes only unless all=true, as dockerd ≥ 23; every unused one before API 1.42).
import type { FastifyPluginAsync } from 'fastify';
import type { Engine } from '../../../runtime/engine.js';
import { apiVersion } from '../../app.js';
import { versionBefore } from '../../versioning.js';
import { parseBool, parseFilters } from '../../query.js';
import { volumeView } from '../views/volumes.js';
import type { Volume } from '../../../runtime/volumes/service.js';
import { directorySize } from '../../../runtime/system/df.js';
import { Volume as VolumeSchema, VolumeCreateBody, VolumeDeleteQuery, VolumeFiltersQuery as FiltersQuery, VolumeList, VolumePruneResponse } from '../../../openapi/volumes.js';

export const volumeRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  const { volumes } = engine;
  const labelled = (v: Volume, wanted: string[]) => wanted.every((l) => {
    const eq = l.indexOf('=');
    return eq < 0 ? l in v.labels : v.labels[l.slice(0, eq)] === l.slice(eq + 1);
  });

  app.post('/volumes/create', { schema: { summary: 'Create a volume', body: VolumeCreateBody, response: { 201: VolumeSchema } } }, async (request, reply) => {
    const b = (request.body ?? {}) as { Name?: string; Driver?: string; DriverOpts?: Record<string, string> | null; Labels?: Record<string, string> | null };
    const v = await volumes.create({ name: b.Name, driver: b.Driver, options: b.DriverOpts ?? undefined, labels: b.Labels ?? undefined });
    return reply.code(201).send(volumeView(v));
  });

  app.get('/volumes', { schema: { summary: 'List volumes', querystring: FiltersQuery, response: { 200: VolumeList } } }, async (request) => {
    const f = parseFilters((request.query as { filters?: string }).filters, ['name', 'label', 'dangling', 'driver']);
    const list = volumes.all().filter((v) =>
      (!f.name?.length || f.name.some((n) => v.name.includes(n)))
      && (!f.driver?.length || f.driver.includes(v.driver))
      && labelled(v, f.label ?? [])
      && (!f.dangling?.length || f.dangling.some((d) => parseBool(d) === (volumes.users(v.name).length === 0))));
    return { Volumes: list.map(volumeView), Warnings: [] };
  });

  app.get('/volumes/:name', { schema: { summary: 'Inspect a volume', response: { 200: VolumeSchema } } }, async (request) => volumeView(volumes.get((request.params as { name: string }).name)));

  app.delete('/volumes/:name', { schema: { summary: 'Remove a volume', querystring: VolumeDeleteQuery } }, async (request, reply) => {
    const { name } = request.params as { name: string };
    await volumes.remove(name, volumes.users(name), parseBool((request.query as { force?: string }).force));
    return reply.code(204).send();
  });

  app.post('/volumes/prune', { schema: { summary: 'Remove unused volumes', querystring: FiltersQuery, response: { 200: VolumePruneResponse } } }, async (request) => {
    // Before API 1.42 prune took named volumes too and knew no `all` filter (dockerd 20.10).
    const legacy = versionBefore(apiVersion(request), '1.42');
    const f = parseFilters((request.query as { filters?: string }).filters, legacy ? ['label'] : ['label', 'all']);
    const all = legacy || (f.all ?? []).some((v) => parseBool(v));
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const v of volumes.all()) {
      if ((!all && !v.anonymous) || !labelled(v, f.label ?? []) || volumes.users(v.name).length) continue;
      // What its directory held (a volume with driver options is not mounted while unused: its own dir).
      const size = await directorySize(v.mountpoint);
      await volumes.remove(v.name, []);
      deleted.push(v.name);
      reclaimed += size;
    }
    return { VolumesDeleted: deleted, SpaceReclaimed: reclaimed };
  });
};
