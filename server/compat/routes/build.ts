// POST /build (the classic builder, which the docker CLI uses without buildx) and POST /build/prune.
// The build runs in runtime/build; this maps the query to its options and its output to Docker's JSON
// messages: `stream` text (RUN's stderr in red, as dockerd marks it), pull progress, `aux` image IDs.
// Nothing is sent before the first message, so a bad request, context or Dockerfile is an HTTP error;
// later failures end the stream with an errorDetail. With q=1 the output is held back and sent only if
// the build fails; a success answers the image ID. A client that goes away cancels the build.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Readable } from 'node:stream';
import { BUILD_PRUNE_FILTERS, BuildError, EngineError, type Api, type BuildEvent, type BuildRequest, type Credentials } from '../../../runtime/api.js';
import type { HostConfig } from '../../../openapi/containers.js';
import { BuildPruneQuery, BuildPruneResponse, BuildQuery } from '../../../openapi/build.js';
import { apiVersion, commonHeaders, ERROR_STATUS, sendError } from '../../app.js';
import { headerValue, parseBool, parseFilters, repeated, jsonParam } from '../../query.js';
import { errorMessage, type JsonMessage } from '../../streams.js';
import { progressMessage } from '../../pull.js';
import { toSpec } from '../create/to-spec.js';

const int = (name: string, value: string | undefined): number | undefined => {
  if (value === undefined || value === '') return undefined;
  if (!/^-?\d+$/.test(value)) throw new EngineError('invalid', `invalid ${name}: ${value}`);
  return Number(value);
};

/** Go's encoding/json escapes <, > and & (dockerd's messages carry them as \u003c...). */
const goJson = (m: JsonMessage) => JSON.stringify(m).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** X-Registry-Config: base64 JSON of registry → credentials; looked up by the registry of a base image. */
function registryConfig(header: string | undefined): (domain: string) => Credentials {
  let map: Record<string, Record<string, string>> = {};
  if (header) {
    try {
      map = JSON.parse(Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as typeof map;
    } catch {
      map = {};
    }
  }
  const byHost = new Map<string, Credentials>();
  for (const [key, entry] of Object.entries(map ?? {})) {
    if (!entry || typeof entry !== 'object') continue;
    let host = key.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    if (host === 'index.docker.io' || host === 'registry-1.docker.io') host = 'docker.io';
    let { username, password } = entry;
    if (!username && entry.auth) [username, password] = Buffer.from(entry.auth, 'base64').toString('utf8').split(/:(.*)/s) as [string, string];
    byHost.set(host, { username, password, identitytoken: entry.identitytoken || undefined, registrytoken: entry.registrytoken || undefined });
  }
  return (domain) => byHost.get(domain) ?? {};
}

/** The query as the builder's options (moby's newImageBuildOptions). */
function buildRequest(q: BuildQuery): BuildRequest {
  const hostConfig: HostConfig = {};
  const set = (key: keyof HostConfig, value: unknown) => {
    if (value !== undefined) (hostConfig as Record<string, unknown>)[key] = value;
  };
  set('Memory', int('memory', q.memory));
  set('MemorySwap', int('memswap', q.memswap));
  set('CpuShares', int('cpushares', q.cpushares));
  set('CpuPeriod', int('cpuperiod', q.cpuperiod));
  set('CpuQuota', int('cpuquota', q.cpuquota));
  set('CpusetCpus', q.cpusetcpus || undefined);
  set('CpusetMems', q.cpusetmems || undefined);
  set('ShmSize', int('shmsize', q.shmsize));
  set('Ulimits', jsonParam('ulimits', q.ulimits));
  const hosts = repeated(q.extrahosts)
    .flatMap((h) => h.split(','))
    .filter(Boolean);
  if (hosts.length) hostConfig.ExtraHosts = hosts;
  const memory = hostConfig.Memory ?? 0;
  const swap = hostConfig.MemorySwap ?? 0;
  if (memory > 0 && swap > 0 && swap < memory) throw new EngineError('invalid', 'The length of the swap must be at least the length of memory');
  // dockerd squashes only in experimental mode (berth squashes for podman's builds alone).
  if (parseBool(q.squash)) throw new EngineError('invalid', 'squash is only supported with experimental mode');
  return {
    dockerfile: q.dockerfile || undefined,
    remote: q.remote || undefined,
    tags: repeated(q.t).filter(Boolean),
    buildArgs: jsonParam<Record<string, string | null>>('buildargs', q.buildargs) ?? {},
    labels: jsonParam<Record<string, string>>('labels', q.labels) ?? {},
    target: q.target || undefined,
    noCache: parseBool(q.nocache),
    pull: parseBool(q.pull),
    remove: q.rm === undefined || q.rm === '' ? true : parseBool(q.rm),
    forceRemove: parseBool(q.forcerm),
    networkMode: q.networkmode && q.networkmode !== 'default' ? q.networkmode : undefined,
    platform: q.platform || undefined,
    cacheFrom: jsonParam<string[]>('cachefrom', q.cachefrom) ?? [],
    run: runOf(hostConfig),
    squash: parseBool(q.squash),
  };
}

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

/** A build event as dockerd's messages (a step is two: its text, then a newline). */
export function buildMessages(e: BuildEvent, withAux: boolean): JsonMessage[] {
  switch (e.kind) {
    case 'stdout':
      return [{ stream: e.text }];
    case 'stderr':
      return [{ stream: `\x1b[91m${e.text}\x1b[0m` }];
    case 'progress':
      return [progressMessage(e.progress)];
    case 'image':
      return withAux ? [{ aux: { ID: e.id } }] : [];
    case 'step':
      return [{ stream: `Step ${e.index}/${e.total} : ${e.text}` }, { stream: '\n' }];
    case 'stepped':
      return [{ stream: ` ---> ${short(e.id)}\n` }];
    case 'cached':
      return [{ stream: ' ---> Using cache\n' }];
    case 'container':
      return [{ stream: ` ---> Running in ${short(e.id)}\n` }];
    case 'removed':
      return [{ stream: `Removing intermediate container ${short(e.id)}\n` }];
    case 'built':
      return [{ stream: `Successfully built ${short(e.id)}\n` }];
    case 'tagged':
      return [{ stream: `Successfully tagged ${e.familiar}\n` }];
    case 'pull':
    case 'pulled':
      return []; // dockerd shows the pull's progress alone
  }
}

export const buildRoutes: FastifyPluginAsync<{ api: Api }> = async (plain, { api }) => {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();
  // The body of /build is the context whatever the Content-Type says, as dockerd reads it: a client
  // that labels its tar application/json must not get a JSON parse error.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', (_req, payload, done) => done(null, payload));
  app.post('/build', { schema: { summary: 'Build an image (the classic builder)', querystring: BuildQuery } }, async (request, reply) => {
    const q = request.query;
    const quiet = parseBool(q.q);
    const withAux = Number(apiVersion(request)) >= 1.3;
    const options = buildRequest(q);
    const body = request.body instanceof Readable ? request.body : undefined;
    const abort = new AbortController();
    const res = reply.raw;
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    let started = false;
    const held: string[] = [];
    const write = (line: string) => {
      if (!started) {
        started = true;
        reply.hijack();
        res.writeHead(200, { ...commonHeaders, 'Content-Type': 'application/json' });
      }
      res.write(line);
    };
    const send = (m: JsonMessage) => {
      const line = goJson(m) + '\r\n';
      if (quiet) held.push(line);
      else write(line);
    };
    try {
      const { id } = await api.build.build(
        { ...options, body, credentials: registryConfig(headerValue(request.headers['x-registry-config'])), signal: abort.signal },
        (e) => {
          for (const m of buildMessages(e, withAux)) send(m);
        },
      );
      if (quiet) write(goJson({ stream: `${id}\n` }) + '\r\n');
    } catch (err) {
      const message = (err as Error).message;
      if (!started && held.length === 0) {
        return sendError(reply, err instanceof EngineError && !(err instanceof BuildError) ? ERROR_STATUS[err.kind] : 500, message);
      }
      for (const line of held) write(line);
      write(goJson(errorMessage(message, err instanceof BuildError ? err.code : undefined)) + '\r\n');
    }
    if (started) res.end();
    return reply;
  });

  app.post(
    '/build/prune',
    { schema: { summary: 'Remove the build cache', querystring: BuildPruneQuery, response: { 200: BuildPruneResponse } } },
    async (request) => {
      const { deleted, reclaimed } = await api.build.prune(parseFilters(request.query.filters, BUILD_PRUNE_FILTERS));
      return { CachesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
    },
  );
};

/** What RUN containers take of the build's host config: limits, ulimits, extra hosts. */
function runOf(hostConfig: HostConfig): NonNullable<BuildRequest['run']> {
  const { spec } = toSpec({ HostConfig: hostConfig }, '');
  return { resources: spec.resources, rlimits: spec.process.rlimits, hosts: spec.network.hosts };
}
