// The HTTP face of the engine: Docker's paths, headers, body parsing and error shapes. Thin by design:
// routes parse and validate, the engine does the work.
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { EngineError } from '../runtime/api.js';
import { createApi, type Container, type Engine } from '../runtime/api.js';
import { openApiDocument, type RouteDoc } from '../openapi/document.js';
import { BERTH_VERSION, LIBPOD_API_VERSION, MAX_API_VERSION, checkVersion, splitVersion } from './versioning.js';
import { systemRoutes } from './compat/routes/system.js';
import { imageNameRouteDocs, imageRoutes } from './compat/routes/images.js';
import { containerListRoutes, containerRoutes } from './compat/routes/containers.js';
import { statsRoutes } from './compat/routes/stats.js';
import { containerVerbRoutes } from './container-verbs/index.js';
import { eventRoutes } from './compat/routes/events.js';
import { registryRoutes } from './compat/routes/registry.js';
import { volumeRoutes } from './compat/routes/volumes.js';
import { networkRoutes } from './compat/routes/networks.js';
import { buildRoutes } from './compat/routes/build.js';
import { swarmRoutes } from './compat/routes/swarm.js';
import { containerSummary } from './compat/views/containers.js';
import { handleUpgrades } from './hijack.js';
import { libpodRoutes } from './libpod/plugin.js';
import { firstOfRepeated } from './query.js';
import { MAX_JSON_BODY, parseJsonBody } from './json-body.js';
import { loopStats } from './loop-stats.js';
import { lazySchemaCompilers } from './validate.js';

// Every route may carry an OpenAPI summary (openapi/document.ts lists it).
declare module 'fastify' {
  interface FastifySchema {
    summary?: string;
  }
}

const requestedVersions = new WeakMap<IncomingMessage, string>();
const libpodVersions = new WeakMap<IncomingMessage, string>();

/** The API version a request asked for (its path prefix), or the newest when it named none. */
export const apiVersion = (request: FastifyRequest) => requestedVersions.get(request.raw) ?? MAX_API_VERSION;

/** The libpod API version of a `/vN.N.N/libpod/...` request, or the one berth speaks when it named none. */
export const libpodVersion = (request: FastifyRequest) => libpodVersions.get(request.raw) ?? LIBPOD_API_VERSION;

/** Headers dockerd puts on every response; hijacked and raw streams add them by hand. */
export const commonHeaders = {
  'Api-Version': MAX_API_VERSION,
  'Docker-Experimental': 'false',
  Ostype: 'linux',
  Server: `Berth/${BERTH_VERSION} (linux)`,
};

/** HTTP status of each kind of engine error. */
export const ERROR_STATUS = { invalid: 400, forbidden: 403, 'not-found': 404, conflict: 409, internal: 500, 'not-implemented': 501 } as const;

/** The common headers as raw header lines, for responses written straight onto a hijacked socket. */
export const rawCommonHeaders = () =>
  Object.entries(commonHeaders)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');

export interface AppOptions {
  logger?: boolean;
}

export async function buildApp(engine: Engine, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    // Image names in paths carry slashes and colons; never reject a long URL or treat %2F specially.
    routerOptions: { maxParamLength: 2048 },
    forceCloseConnections: 'idle',
    // dockerd answers HEAD only on /_ping and a container's archive (404 elsewhere, as an unknown path),
    // podman on its pings and the archive: those routes declare HEAD; the ~300 automatic HEAD twins of
    // GET routes cost start time and answered where dockerd does not.
    exposeHeadRoutes: false,
    rewriteUrl(req) {
      const { version, libpodVersion, url } = splitVersion(req.url ?? '/');
      if (version) requestedVersions.set(req, version);
      if (libpodVersion) libpodVersions.set(req, libpodVersion);
      return url;
    },
    // No coercion: bodies must arrive as sent (null stays null); query values are validated as strings.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    // Each route's schemas compiled on its first use (validate.ts), not all ~300 routes' at start.
    schemaController: { compilersFactory: lazySchemaCompilers() },
  });

  // Bodies: JSON (an empty one is no body), and anything else (tar archives, empty text/plain) as a raw
  // stream for the route to consume.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: MAX_JSON_BODY }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

  app.addHook('onRequest', async (request, reply) => {
    reply.headers(commonHeaders);
    const version = requestedVersions.get(request.raw);
    if (version) checkVersion(version);
  });

  // A repeated single-valued parameter is its first value, as dockerd reads it (query.ts).
  app.addHook('preValidation', async (request) => {
    firstOfRepeated(request.query as Record<string, unknown>, request.routeOptions.schema?.querystring as { properties?: Record<string, unknown> } | undefined);
  });

  // dockerd says `application/json` exactly, and the docker CLI compares the header to that string
  // before it reads an error's message; Fastify would add `; charset=utf-8`.
  app.addHook('onSend', async (_request, reply, payload) => {
    const type = reply.getHeader('content-type');
    if (typeof type === 'string' && type.startsWith('application/json;')) reply.header('content-type', 'application/json');
    return payload;
  });

  app.setErrorHandler((error, request, reply) => {
    const { status, message, log } = classifyError(error);
    if (log) request.log.error(error);
    return sendError(reply, status, message);
  });
  app.setNotFoundHandler((_request, reply) => sendError(reply, 404, 'page not found'));

  loopStats(app); // GET /_berth/loop with BERTH_LOOP_STATS=1 (bench/speed.ts); not a route, not documented

  const routes: RouteDoc[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const schema = (route.schema ?? {}) as Omit<RouteDoc, 'method' | 'url'>;
    for (const method of methods) if (method !== 'HEAD') routes.push({ method, url: route.url, ...schema });
  });

  const api = createApi(engine);
  await app.register(websocket);
  const containerView = (c: Container, version: string) => containerSummary(api.containers.facts, c, version);
  await app.register(systemRoutes, { api, containerView });
  await app.register(imageRoutes, { api });
  await app.register(containerRoutes, { api });
  await app.register(containerListRoutes, { api, containerView });
  await app.register(statsRoutes, { api });
  await app.register(containerVerbRoutes, { api, family: 'compat' });
  await app.register(eventRoutes, { api });
  await app.register(registryRoutes, { api });
  await app.register(volumeRoutes, { api });
  await app.register(networkRoutes, { api });
  await app.register(buildRoutes, { api });
  await app.register(swarmRoutes);
  // The libpod API: its own plugin and error body. The container verbs both families share go in
  // `sharedVerbs` (built with the family option).
  await app.register(libpodRoutes, { prefix: '/libpod', api, sharedVerbs: [containerVerbRoutes] });
  handleUpgrades(app.server, api);
  app.get('/openapi.json', async () => openApiDocument([...routes.filter((r) => !r.url.endsWith('*')), ...imageNameRouteDocs], BERTH_VERSION, MAX_API_VERSION));
  return app;
}

/** The status and message of an error a route threw; `log` when it is the engine's fault. Both API families answer from this. */
export function classifyError(thrown: unknown): { status: number; message: string; log: boolean } {
  if (thrown instanceof EngineError) return { status: ERROR_STATUS[thrown.kind], message: thrown.message, log: thrown.kind === 'internal' };
  // Fastify's own errors carry these (validation, body limits, parsers).
  const error: { message?: string; statusCode?: number; validation?: unknown; code?: string } = thrown instanceof Error ? thrown : { message: String(thrown) };
  if (error.validation) return { status: 400, message: `invalid parameter: ${error.message}`, log: false };
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return { status: 413, message: `request body is larger than the limit of ${MAX_JSON_BODY / 1024 / 1024} MiB`, log: false };
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) return { status: error.statusCode, message: error.message ?? '', log: false };
  return { status: 500, message: error.message || 'internal error', log: true };
}

export function sendError(reply: FastifyReply, status: number, message: string) {
  return sendErrorBody(reply, status, { message });
}

/** An error answer in any family's shape (Docker's `{message}`, libpod's `{cause, message, response}`). */
export function sendErrorBody(reply: FastifyReply, status: number, body: object) {
  if (!reply.request.raw.complete) {
    discardRest(reply.request.raw);
    // Fastify closes the connection after a refused body, under the client still sending it.
    reply.removeHeader('connection');
  }
  return reply.code(status).header('content-type', 'application/json').send(JSON.stringify(body));
}

/** How long the rest of a refused request's body is read before the connection is dropped. */
const DISCARD_MS = 30_000;

/**
 * A request refused before its body was read whole (a bound passed, a broken archive): the rest is read
 * and dropped. Clients send the whole body before they read the answer (the docker CLI reports a broken
 * pipe, not the answer, when the connection closes under it), and the connection stays usable. A body
 * still coming after DISCARD_MS ends the connection.
 */
function discardRest(req: IncomingMessage) {
  req.unpipe();
  // A reader that stopped (an async iterator, a decompressor) must not hold the stream paused.
  req.removeAllListeners('readable');
  req.resume();
  const timer = setTimeout(() => req.socket.destroy(), DISCARD_MS).unref();
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
}
