// The libpod API (podman --remote): a Fastify plugin under `/libpod`, reached as `/v{version}/libpod/...`
// (rewriteUrl in server/app.ts keeps the prefix and records the version: libpodVersion(request)). Its
// own error handler answers libpod's body; everything else (the one facade, body parsing, the upgrade
// router) it shares with the Docker API. Container verbs both families share are registered here with
// `family: 'libpod'` (see `sharedVerbs`).
//
// podman --remote sends no Content-Type, not even on JSON bodies (create, exec, volume and network
// create), so its bodies reach routes as the raw stream (app.ts's `*` parser). A libpod route that
// declares a body schema takes JSON: the stream is read (bounded) and parsed before validation. Routes
// that take tar, YAML or secret bytes declare none and read the stream themselves.
import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Api } from '../../runtime/api.js';
import { classifyError, sendErrorBody } from '../app.js';
import { BUILDAH_VERSION, LIBPOD_API_VERSION } from '../versioning.js';
import { MAX_JSON_BODY, parseJsonBody } from '../json-body.js';
import { libpodError } from './errors.js';
import { readBounded } from './body.js';
import { containerRoutes } from './routes/containers.js';
import { containerToolRoutes } from './routes/container-tools.js';
import { imageRoutes } from './routes/images.js';
import { imageTransferRoutes } from './routes/image-transfer.js';
import { networkRoutes } from './routes/networks.js';
import { secretRoutes } from './routes/secrets.js';
import { systemRoutes } from './routes/system.js';
import { volumeRoutes } from './routes/volumes.js';
import { podRoutes } from './routes/pods.js';
import { podVerbRoutes } from './routes/pod-verbs.js';
import { generateKubeRoutes } from './routes/generate-kube.js';
import { playKubeRoutes } from './routes/play-kube.js';
import { generateSystemdRoutes } from './routes/generate-systemd.js';

export interface LibpodOptions {
  api: Api;
  /**
   * The container verbs both API families share (start, stop, kill, pause, unpause, wait, logs, top,
   * archive, attach, exec), each a plugin taking `{ api, family }`: registered here with `family:
   * 'libpod'`, so their paths are `/libpod/containers/...` and their errors libpod's.
   */
  sharedVerbs?: FastifyPluginAsync<{ api: Api; family: 'libpod' }>[];
}

export const libpodRoutes: FastifyPluginAsync<LibpodOptions> = async (plain, { api, sharedVerbs = [] }) => {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();

  // podman's service sends these on every answer; the client needs only Libpod-Api-Version (≥ 4.0.0)
  // and ignores X-Reference-Id (a Go pointer there, a counter here).
  let reference = 0;
  app.addHook('onRequest', async (_request, reply) => {
    reply.headers({
      'Api-Version': '1.41',
      'Libpod-Api-Version': LIBPOD_API_VERSION,
      Server: `Libpod/${LIBPOD_API_VERSION} (linux)`,
      'X-Reference-Id': `0x${(0xc000000000 + ++reference).toString(16)}`,
    });
  });

  // A JSON body without Content-Type (see the header comment): parsed here, validated by the route's schema.
  app.addHook('preValidation', async (request) => {
    const body: unknown = request.body;
    if (request.routeOptions.schema?.body && body instanceof Readable) request.body = parseJsonBody((await readBounded(body, MAX_JSON_BODY)).toString('utf8'));
  });

  app.setErrorHandler((error, request, reply) => {
    const { status, message, log } = classifyError(error);
    if (log) request.log.error(error);
    return sendErrorBody(reply, status, libpodError({ message }, status));
  });
  // podman's router answers an unknown path with Go's plain 404 (the client ignores it for shouldrestart).
  app.setNotFoundHandler((_request, reply) => reply.code(404).header('content-type', 'text/plain; charset=utf-8').send('Not Found\n'));

  // podman --remote pings twice before each command and needs 200 (a Libpod-Api-Version ≥ 4.0.0 when present).
  app.route({
    method: ['GET', 'HEAD'],
    url: '/_ping',
    schema: { summary: 'Ping (libpod)' },
    handler: async (_request, reply) => {
      reply.headers({
        'Cache-Control': 'no-cache',
        Pragma: 'no-cache',
        'Content-Type': 'text/plain; charset=utf-8',
        'Libpod-Buildah-Version': BUILDAH_VERSION,
        'Docker-Experimental': 'true',
        'Builder-Version': '',
        'Buildkit-Version': '',
      });
      return reply.send('OK');
    },
  });

  // One module per resource (server/libpod/routes/), each over the one facade.
  for (const routes of [
    systemRoutes,
    containerRoutes,
    containerToolRoutes,
    imageRoutes,
    imageTransferRoutes,
    volumeRoutes,
    networkRoutes,
    secretRoutes,
    podRoutes,
    podVerbRoutes,
    generateKubeRoutes,
    playKubeRoutes,
    generateSystemdRoutes,
  ])
    await app.register(routes, { api });

  // The shared container verbs (built with the family option) register here.
  for (const verbs of sharedVerbs) await app.register(verbs, { api, family: 'libpod' });
};
