// /containers: create, list, inspect, start, stop, restart, kill, pause, unpause, wait, remove, rename,
// top, logs, resize, and attach for clients that do not ask for an Upgrade.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Readable } from 'node:stream';
import type { Engine } from '../../../runtime/engine.js';
import { conflict, invalid, notFound } from '../../../runtime/errors.js';
import { readLogBatches } from '../../../runtime/containers/logs.js';
import { assertReadableLogs } from '../../../runtime/containers/log-driver.js';
import { parseUntil } from '../../../runtime/util/time.js';
import { rotatedLogs } from '../../../runtime/containers/log-rotation.js';
import { logLimits } from '../../../runtime/containers/service.js';
import { resizeTerminal } from '../../../runtime/containers/attach.js';
import type { Container } from '../../../runtime/containers/store.js';
import {
  AttachQuery, ContainerCreateBody, ContainerCreateQuery, ContainerCreateResponse, ContainerListQuery, InspectQuery, KillQuery, LogsQuery, RemoveQuery,
  RenameQuery, ResizeQuery, StopQuery, TopQuery, WaitQuery,
} from '../../../openapi/containers.js';
import { parseBool, parseFilters, parseGoInt } from '../../query.js';
import { Type } from '@sinclair/typebox';
import { CommitQuery, HostConfig } from '../../../openapi/containers.js';
import { validated } from '../../validate.js';
import { changes, exportRootfs } from '../../../runtime/containers/filesystem.js';
import { archivePath, extractInto, statPath } from '../../../runtime/containers/archive.js';
import { attachContainer } from '../../attach.js';
import { takeRawSocket } from '../../plain-hijack.js';
import { websocketDuplex } from '../../websocket.js';
import { parseDetachKeys } from '../../session-stream.js';
import { apiVersion, commonHeaders, rawCommonHeaders } from '../../app.js';
import { versionBefore } from '../../versioning.js';
import { containerInspect, containerSummary, sizeFields } from '../views/containers.js';
import { containerNetworks } from '../views/networks.js';
import { encodeEntries } from '../../framing.js';
import { HEALTH_FILTER_VALUES } from '../../../runtime/containers/health-state.js';

const run = promisify(execFile);
const LIST_FILTERS = ['id', 'name', 'label', 'status', 'ancestor', 'exited', 'before', 'since', 'health', 'volume', 'network', 'is-task', 'publish', 'expose'] as const;
type Id = { Params: { id: string } };

export const containerRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  const containers = engine.containers;
  const resolve = (request: FastifyRequest) => containers.store.resolve((request.params as { id: string }).id);
  /** `size=1` (ps -s, inspect -s): the writable layer, and that with the image. */
  const sizesOf = async (c: Container) => sizeFields(await engine.diskUsage.containerSize(c));

  app.post('/containers/create', { schema: { summary: 'Create a container', querystring: ContainerCreateQuery, body: ContainerCreateBody, response: { 201: ContainerCreateResponse } } }, async (request, reply) => {
    const { name } = request.query as { name?: string };
    const body = (request.body ?? {}) as ContainerCreateBody;
    // Healthcheck.StartInterval came with API 1.44: dockerd ignores it (unchecked) from older clients.
    if (body.Healthcheck && versionBefore(apiVersion(request), '1.44')) body.Healthcheck.StartInterval = undefined;
    const { id, warnings } = await containers.create(body, name || undefined);
    return reply.code(201).send({ Id: id, Warnings: warnings });
  });

  app.get('/containers/json', { schema: { summary: 'List containers', querystring: ContainerListQuery } }, async (request) => {
    const query = request.query as { all?: string; limit?: string; filters?: string; size?: string };
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

  app.get<Id>('/containers/:id/json', { schema: { querystring: InspectQuery } }, async (request) => {
    const c = resolve(request);
    const inspect = containerInspect(engine, c, apiVersion(request));
    return parseBool((request.query as { size?: string }).size) ? { ...inspect, ...(await sizesOf(c)) } : inspect;
  });

  app.post<Id>('/containers/:id/start', async (request, reply) => {
    // A host config on start: dockerd 20.10 refuses any body of JSON-object size (or of unknown length)
    // from 1.24 on. Before, it takes the body as a host config (bare, or wrapped as create's HostConfig);
    // the engine applies what start reads of it.
    const length = request.headers['content-length'];
    const sized = length === undefined ? request.headers['transfer-encoding'] !== undefined : Number(length) > 7;
    if (sized && !versionBefore(apiVersion(request), '1.24')) {
      throw invalid('starting container with non-empty request body was deprecated since API v1.22 and removed in v1.24');
    }
    const body = request.body as { HostConfig?: unknown } | null | undefined;
    const given = sized && body && typeof body === 'object' && !Array.isArray(body) ? body.HostConfig ?? body : undefined;
    const started = await containers.start(request.params.id, given ? validated(HostConfig, given) : undefined);
    return reply.code(started ? 204 : 304).send();
  });

  app.post<Id>('/containers/:id/stop', { schema: { querystring: StopQuery } }, async (request, reply) => {
    const { t, signal } = request.query as { t?: string; signal?: string };
    const stopped = await containers.stop(request.params.id, t ? parseGoInt(t) : undefined, signal);
    return reply.code(stopped ? 204 : 304).send();
  });

  app.post<Id>('/containers/:id/restart', { schema: { querystring: StopQuery } }, async (request, reply) => {
    const { t, signal } = request.query as { t?: string; signal?: string };
    await containers.restart(request.params.id, t ? parseGoInt(t) : undefined, signal);
    return reply.code(204).send();
  });

  app.post<Id>('/containers/:id/kill', { schema: { querystring: KillQuery } }, async (request, reply) => {
    await containers.kill(request.params.id, (request.query as { signal?: string }).signal);
    return reply.code(204).send();
  });

  app.post<Id>('/containers/:id/pause', async (request, reply) => {
    await containers.pause(request.params.id);
    return reply.code(204).send();
  });

  app.post<Id>('/containers/:id/unpause', async (request, reply) => {
    await containers.unpause(request.params.id);
    return reply.code(204).send();
  });

  app.post<Id>('/containers/:id/rename', { schema: { querystring: RenameQuery } }, async (request, reply) => {
    containers.rename(request.params.id, (request.query as { name: string }).name);
    return reply.code(204).send();
  });

  app.delete<Id>('/containers/:id', { schema: { querystring: RemoveQuery } }, async (request, reply) => {
    const q = request.query as { force?: string; v?: string; link?: string };
    if (parseBool(q.link)) {
      containers.store.resolve(request.params.id);
      await containers.removeLink(request.params.id);
      return reply.code(204).send();
    }
    await containers.remove(request.params.id, parseBool(q.force), parseBool(q.v));
    return reply.code(204).send();
  });

  // `docker rm --link /web/db`: the CLI trims the leading slash, so the link name spans two segments.
  app.delete<{ Params: { parent: string; alias: string } }>('/containers/:parent/:alias', { schema: { querystring: RemoveQuery } }, async (request, reply) => {
    const { parent, alias } = request.params;
    if (!parseBool((request.query as { link?: string }).link)) throw notFound(`No such container: ${parent}/${alias}`);
    await containers.removeLink(`${parent}/${alias}`);
    return reply.code(204).send();
  });

  // The docker CLI sends /start only once these headers have arrived: send them at once.
  app.post<Id>('/containers/:id/wait', { schema: { querystring: WaitQuery } }, async (request, reply) => {
    const c = resolve(request);
    const condition = ((request.query as { condition?: string }).condition || 'not-running') as 'not-running' | 'next-exit' | 'removed';
    const abort = new AbortController();
    const result = containers.wait(c.id, condition, abort.signal);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { ...commonHeaders, 'Content-Type': 'application/json' });
    res.flushHeaders();
    request.raw.socket.on('close', () => abort.abort());
    try {
      const { code, error } = await result;
      res.end(JSON.stringify({ Error: error ? { Message: error } : null, StatusCode: code }) + '\n');
    } catch {
      res.end();
    }
  });

  app.get<Id>('/containers/:id/top', { schema: { querystring: TopQuery } }, async (request) => {
    const c = resolve(request);
    if (c.state !== 'running' && c.state !== 'paused') throw conflict(`Container ${c.id} is not running`);
    containers.record(c, 'top');
    const pids = new Set(await containers.runtimeOf(c).pids(c.id));
    const psArgs = ((request.query as { ps_args?: string }).ps_args || '-ef').split(/\s+/).filter(Boolean);
    const { stdout } = await run('ps', psArgs);
    const [header = '', ...lines] = stdout.trimEnd().split('\n');
    const titles = header.trim().split(/\s+/);
    const pidColumn = titles.indexOf('PID');
    if (pidColumn < 0) throw invalid(`Couldn't find PID field in ps output`);
    const processes = lines
      .map((l) => {
        const fields = l.trim().split(/\s+/);
        return [...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')];
      })
      .filter((f) => pids.has(Number(f[pidColumn])));
    return { Titles: titles, Processes: processes };
  });

  app.get<Id>('/containers/:id/logs', { schema: { querystring: LogsQuery } }, async (request, reply) => {
    const c = resolve(request);
    assertReadableLogs(c.hostConfig);
    const q = request.query as LogsQuery;
    const stdout = parseBool(q.stdout);
    const stderr = parseBool(q.stderr);
    if (!stdout && !stderr) throw invalid('You must choose at least one stream');
    const timestamps = parseBool(q.timestamps);
    const tail = q.tail === undefined || q.tail === 'all' || Number(q.tail) < 0 ? undefined : Number(q.tail);
    const abort = new AbortController();
    request.raw.socket.on('close', () => abort.abort());
    const tty = !!c.config.Tty;
    const batches = readLogBatches(containers.paths.log(c.id), {
      history: rotatedLogs(containers.paths.log(c.id), logLimits(c).maxFile),
      stdout, stderr, tail, since: parseTime(q.since), until: parseTime(q.until), follow: parseBool(q.follow), signal: abort.signal, coalesce: !timestamps,
      running: () => ['running', 'paused', 'restarting'].includes(containers.store.get(c.id)?.state ?? ''),
    });
    const body = Readable.from(
      (async function* () {
        for await (const batch of batches) yield encodeEntries(batch, { tty, timestamps, perLine: true });
      })(),
      { highWaterMark: 1 }, // batches are up to a MiB each: read ahead one, not sixteen
    );
    return reply.header('content-type', tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream').send(body);
  });

  app.post<Id>('/containers/:id/resize', { schema: { querystring: ResizeQuery } }, async (request, reply) => {
    const c = resolve(request);
    const { h, w } = request.query as { h?: string; w?: string };
    if (c.state !== 'running') throw conflict(`Container ${c.id} is not running`);
    if (c.config.Tty) await resizeTerminal(containers.paths.controlFifo(c.id), Number(h ?? 0), Number(w ?? 0)).catch(() => undefined);
    containers.record(c, 'resize', { height: String(h ?? 0), width: String(w ?? 0) });
    return reply.code(200).send();
  });

  app.post<Id>('/containers/:id/update', { schema: { body: HostConfig } }, async (request) => {
    await containers.update(request.params.id, (request.body ?? {}) as HostConfig);
    return { Warnings: [] };
  });

  app.post('/containers/prune', { schema: { summary: 'Remove stopped containers', querystring: Type.Object({ filters: Type.Optional(Type.String()) }) } }, async (request) => {
    const filters = parseFilters((request.query as { filters?: string }).filters, ['until', 'label', 'label!']);
    const until = filters.until?.[0] ? parseUntil(filters.until[0]) : undefined;
    const { removed, reclaimed } = await containers.prune((c) => {
      if (until !== undefined && Date.parse(c.created) >= until) return false;
      const labels = c.config.Labels ?? {};
      const has = (l: string) => (l.includes('=') ? labels[l.slice(0, l.indexOf('='))] === l.slice(l.indexOf('=') + 1) : l in labels);
      if (filters.label?.length && !filters.label.every(has)) return false;
      if (filters['label!']?.length && filters['label!'].some(has)) return false;
      return true;
    }, async (c) => (await engine.diskUsage.containerSize(c)).sizeRw);
    return { ContainersDeleted: removed.length ? removed : null, SpaceReclaimed: reclaimed };
  });

  app.get<Id>('/containers/:id/changes', async (request) => {
    const c = resolve(request);
    const list = await changes(containers.paths.upper(c.id), await containers.lowerDirs(c));
    return list.length ? list : null;
  });

  app.get<Id>('/containers/:id/export', async (request, reply) => {
    const c = resolve(request);
    const wasMounted = await containers.holdRootfs(c);
    const tar = exportRootfs(containers.paths.merged(c.id));
    tar.on('close', () => void containers.releaseRootfs(c, wasMounted));
    containers.record(c, 'export');
    return reply.header('content-type', 'application/x-tar').send(tar);
  });

  app.post('/commit', { schema: { summary: 'Create an image from a container', querystring: CommitQuery } }, async (request, reply) => {
    const q = request.query as CommitQuery;
    if (!q.container) throw invalid('container is required');
    const given = q.changes ?? [];
    const id = await containers.commit(q.container, {
      repo: q.repo || undefined, tag: q.tag || undefined, author: q.author, comment: q.comment,
      changes: Array.isArray(given) ? given : [given], pause: parseBool(q.pause, true),
    });
    return reply.code(201).send({ Id: id });
  });

  // docker cp. HEAD and GET: a path's stat (and contents); PUT: a tar extracted into a directory.
  const pathStatHeader = (stat: object) => Buffer.from(JSON.stringify(stat)).toString('base64');
  app.head<Id>('/containers/:id/archive', async (request, reply) => {
    const c = resolve(request);
    const path = (request.query as { path?: string }).path ?? '';
    const wasMounted = await containers.holdRootfs(c);
    try {
      const stat = statPath(containers.paths.merged(c.id), path, (request.params as { id: string }).id, containers.cpMounts(c));
      return reply.header('X-Docker-Container-Path-Stat', pathStatHeader(stat)).header('content-type', 'application/x-tar').send();
    } finally {
      await containers.releaseRootfs(c, wasMounted);
    }
  });

  app.get<Id>('/containers/:id/archive', async (request, reply) => {
    const c = resolve(request);
    const path = (request.query as { path?: string }).path ?? '';
    if (!path) throw invalid('path is required');
    const wasMounted = await containers.holdRootfs(c);
    try {
      const { stat, tar } = archivePath(containers.paths.merged(c.id), path, request.params.id, containers.cpMounts(c));
      tar.on('close', () => void containers.releaseRootfs(c, wasMounted));
      containers.record(c, 'archive-path');
      return reply.header('X-Docker-Container-Path-Stat', pathStatHeader(stat)).header('content-type', 'application/x-tar').send(tar);
    } catch (err) {
      await containers.releaseRootfs(c, wasMounted);
      throw err;
    }
  });

  app.put<Id>('/containers/:id/archive', async (request, reply) => {
    const c = resolve(request);
    const q = request.query as { path?: string; copyUIDGID?: string; noOverwriteDirNonDir?: string };
    if (!q.path) throw invalid('path is required');
    if (!(request.body instanceof Readable)) throw invalid('expected a tar archive as the request body');
    const wasMounted = await containers.holdRootfs(c);
    try {
      const owner = await containers.cpOwner(c, parseBool(q.copyUIDGID));
      await extractInto(containers.paths.merged(c.id), q.path, request.params.id, request.body, owner, parseBool(q.noOverwriteDirNonDir), containers.cpMounts(c), !!c.hostConfig.ReadonlyRootfs);
    } finally {
      await containers.releaseRootfs(c, wasMounted);
    }
    containers.record(c, 'extract-to-dir');
    return reply.code(200).send();
  });

  // The websocket attach: raw output bytes (never framed) out, stdin in.
  // A missing container is a 404 with dockerd's message before any upgrade (the hook runs for both).
  app.get('/containers/:id/attach/ws', {
    websocket: true, schema: { summary: 'Attach to a container via a websocket', querystring: AttachQuery }, preHandler: async (request) => void resolve(request),
  }, async (socket, request) => {
    const q = request.query as Record<string, string | undefined>;
    const stream = websocketDuplex(socket);
    try {
      const c = resolve(request);
      await attachContainer(engine, c, stream, {
        stdin: parseBool(q.stdin), stdout: parseBool(q.stdout), stderr: parseBool(q.stderr), logs: parseBool(q.logs), stream: parseBool(q.stream),
        detachKeys: q.detachKeys, multiplex: false,
      });
    } catch (err) {
      socket.close(1011, (err as Error).message.slice(0, 120));
    }
  });

  // Clients that attach without asking for an Upgrade get 200 and the raw stream until it ends; what
  // they send after the request is the container's stdin, as with dockerd.
  app.post<Id>('/containers/:id/attach', { schema: { querystring: AttachQuery } }, async (request, reply) => {
    const c = resolve(request);
    const q = request.query as Record<string, string | undefined>;
    parseDetachKeys(q.detachKeys ?? q.detachkeys); // a bad sequence is a 400 before the stream
    reply.hijack();
    const socket = reply.raw.socket!;
    takeRawSocket(socket);
    socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n' + rawCommonHeaders() + '\r\n');
    await attachContainer(engine, c, socket, {
      stdin: parseBool(q.stdin), stdout: parseBool(q.stdout), stderr: parseBool(q.stderr), logs: parseBool(q.logs), stream: parseBool(q.stream),
      detachKeys: q.detachKeys ?? q.detachkeys,
    });
    socket.destroySoon?.();
  });
};

/** `since`/`until`: Unix seconds (fractions allowed) or RFC 3339. */
function parseTime(value: string | undefined): number | undefined {
  if (!value) return undefined;
  if (/^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw invalid(`invalid time value: ${value}`);
  return t / 1000;
}

function matches(engine: Engine, c: Container, f: Record<string, string[]>): boolean {
  const any = (key: string, test: (v: string) => boolean) => !f[key]?.length || f[key]!.some(test);
  if (!any('id', (v) => c.id.startsWith(v))) return false;
  if (!any('name', (v) => new RegExp(v).test(c.name) || new RegExp(v).test(`/${c.name}`))) return false;
  if (!any('status', (v) => v === c.state)) return false;
  if (!any('exited', (v) => c.state === 'exited' && Number(v) === c.exit_code)) return false;
  if (f.label?.length) {
    const labels = c.config.Labels ?? {};
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
  if (!any('expose', (v) => ports(v, Object.keys(c.config.ExposedPorts ?? {}).map((k) => ({ port: Number(k.split('/')[0]), protocol: k.split('/')[1] ?? 'tcp' }))))) return false;
  // Volumes are host directories for now: match a bind's source or its destination.
  if (!any('volume', (v) => (c.hostConfig.Binds ?? []).some((b) => b.split(':')[0] === v || b.split(':')[1] === v))) return false;
  if (f.before?.length && !(c.created < engine.containers.store.resolve(f.before[0]!).created)) return false;
  if (f.since?.length && !(c.created > engine.containers.store.resolve(f.since[0]!).created)) return false;
  return true;
}
