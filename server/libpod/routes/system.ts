// libpod: version, info, events, system df, system prune.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { commandOf, parseEventTime, type Api, type EngineError } from '../../../runtime/api.js';
import {
  LibpodDiskUsage,
  LibpodEventsQuery,
  LibpodInfo,
  LibpodSystemPruneQuery,
  LibpodSystemPruneReport,
  LibpodVersion,
} from '../../../openapi/libpod-system.js';
import { BERTH_VERSION, BUILDAH_VERSION, LIBPOD_API_VERSION, MIN_LIBPOD_API_VERSION } from '../../versioning.js';
import { parseBool, parseFilters } from '../../query.js';
import { libpodEventMessage } from '../views/events.js';
import { libpodInfo } from '../views/info.js';
import { libpodDiskUsage } from '../views/df.js';

/** What podman's Go binary reports as its build time when it has none: the Unix epoch. */
const EPOCH_RFC3339 = '1970-01-01T00:00:00Z';

export const systemRoutes: FastifyPluginAsyncTypebox<{ api: Api }> = async (app, { api }) => {
  app.get('/version', { schema: { summary: 'Version (libpod)', response: { 200: LibpodVersion } } }, async (): Promise<LibpodVersion> => {
    const { host } = api.system;
    const details = await api.system.details();
    const goVersion = `node${process.versions.node}`;
    const components: LibpodVersion['Components'] = [
      {
        // The client reads the server's API version from the component named so.
        Name: 'Podman Engine',
        Version: LIBPOD_API_VERSION,
        Details: {
          APIVersion: LIBPOD_API_VERSION,
          Arch: host.goArch,
          BuildTime: EPOCH_RFC3339,
          Experimental: 'false',
          GitCommit: '',
          GoVersion: goVersion,
          KernelVersion: host.kernelVersion,
          MinAPIVersion: MIN_LIBPOD_API_VERSION,
          Os: 'linux',
          BerthVersion: BERTH_VERSION,
        },
      },
    ];
    // podman gives each binary's --version text on one line (conmon's) or as it is (the runtime's).
    if (details.conmon.path)
      components.push({ Name: 'Conmon', Version: details.conmon.version.replace(/\n/g, ', '), Details: { Package: details.conmon.package } });
    if (details.runtime.path) {
      const name = host.runtimes.find((r) => r.path === details.runtime.path)?.name ?? host.defaultRuntime;
      components.push({ Name: `OCI Runtime (${name})`, Version: details.runtime.version, Details: { Package: details.runtime.package } });
    }
    return {
      Platform: { Name: `linux/${host.goArch}/berth` },
      Components: components,
      Version: LIBPOD_API_VERSION,
      ApiVersion: '1.41',
      MinAPIVersion: '1.24',
      GitCommit: '',
      GoVersion: goVersion,
      Os: 'linux',
      Arch: host.goArch,
      KernelVersion: host.kernelVersion,
      BuildTime: EPOCH_RFC3339,
    };
  });

  app.get('/info', { schema: { summary: 'System information (libpod)', response: { 200: LibpodInfo } } }, async (): Promise<LibpodInfo> => {
    const address = app.server.address();
    const socket = typeof address === 'string' && address ? `unix://${address}` : '';
    const [details, live] = await Promise.all([api.system.details(), api.system.liveDetails()]);
    return libpodInfo(api, { details, live, socket, buildahVersion: BUILDAH_VERSION });
  });

  // Docker-shaped JSON lines with libpod's names. `stream=false`: the stored events (all of them
  // unless `since`), then the end. Options podman cannot use are answered 200 then libpod's error
  // body, as podman's service does (it has sent its headers before it parses them).
  app.get('/events', { schema: { summary: 'Monitor events (libpod)', querystring: LibpodEventsQuery } }, async (request, reply) => {
    const q = request.query;
    const stream = parseBool(q.stream, true);
    const res = reply.raw;
    const begin = () => {
      reply.hijack();
      res.writeHead(200, { ...reply.getHeaders(), 'Content-Type': 'application/json' } as Record<string, string>);
      res.flushHeaders();
    };
    let stop = () => {};
    try {
      const filters = parseFilters(q.filters, Object.keys(safeJson(q.filters)));
      const since = q.since ? timeOf(q.since, 'since') : stream ? undefined : 0n;
      // Without streaming, what is recorded now is all there is: an until after now (a duration is) ends there.
      const asked = q.until ? timeOf(q.until, 'until') : undefined;
      const now = BigInt(Date.now()) * 1_000_000n;
      const until = stream ? asked : asked !== undefined && asked < now ? asked : now;
      stop = api.events.watchLibpod(
        { filters, since, until },
        { start: begin, event: (e) => res.write(JSON.stringify(libpodEventMessage(e)) + '\n'), end: () => res.end() },
      );
    } catch (err) {
      const message = (err as EngineError).message;
      begin();
      // podman's cause is the innermost error, its message the whole chain.
      res.end(JSON.stringify({ cause: message.split(': ').pop(), message: `failed to parse event filters: ${message}`, response: 500 }) + '\n');
      return;
    }
    reply.raw.on('close', () => {
      stop();
      res.end();
    });
  });

  app.get('/system/df', { schema: { summary: 'Disk usage (libpod)', response: { 200: LibpodDiskUsage } } }, async () =>
    libpodDiskUsage(await api.system.libpodDiskUsage(), commandOf),
  );

  app.post(
    '/system/prune',
    { schema: { summary: 'Remove unused data (libpod)', querystring: LibpodSystemPruneQuery, response: { 200: LibpodSystemPruneReport } } },
    async (request): Promise<LibpodSystemPruneReport> => {
      const q = request.query;
      const r = await api.system.prune({
        all: parseBool(q.all),
        volumes: parseBool(q.volumes),
        filters: parseFilters(q.filters, ['until', 'label', 'label!']),
      });
      // Go's nil slices: null when nothing of that kind went.
      const items = (list: { id: string; size: number }[]) => (list.length ? list.map((i) => ({ Id: i.id.replace(/^sha256:/, ''), Size: i.size })) : null);
      return {
        PodPruneReport: null,
        ContainerPruneReports: items(r.containers),
        ImagePruneReports: items(r.images),
        NetworkPruneReports: r.networks.length ? r.networks.map((Name) => ({ Name, Error: null })) : null,
        VolumePruneReports: items(r.volumes),
        ReclaimedSpace: r.reclaimed,
      };
    },
  );
};

const safeJson = (raw: string | undefined): object => {
  try {
    const v: unknown = JSON.parse(raw || '{}');
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
};

/** podman's time parse (durations, RFC 3339, Unix seconds), with its wording when none fits. */
function timeOf(value: string, name: 'since' | 'until'): bigint {
  try {
    return parseEventTime(value, name, { durationAhead: name === 'until' });
  } catch {
    throw new Error(`unable to convert ${name} time of ${value}: unable to interpret time value`);
  }
}
