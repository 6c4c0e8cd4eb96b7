// start, stop, restart, kill, pause, unpause. Both families answer 204, and 304 for a start of a running
// container or a stop of a stopped one (podman's libpod handlers answer as Docker's).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EngineError, invalid, type StartChanges } from '../../runtime/api.js';
import { startChangesOf } from '../compat/create/to-spec.js';
import { ContainerIdParams as params, HostConfig, KillQuery, LibpodStopQuery, StopQuery } from '../../openapi/containers.js';
import { apiVersion } from '../app.js';
import { parseGoInt } from '../query.js';
import { validated } from '../validate.js';
import { versionBefore } from '../versioning.js';
import type { VerbOptions } from './family.js';
import { attachFailure, takeAttach } from './attach-waiting.js';

/** A JSON object (not null, not an array). */
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** libpod's `timeout`: a uint, as Go's schema decoder reads it. */
function parseUint(value: string): number {
  if (!/^\d+$/.test(value)) throw invalid(`failed to parse parameters: timeout: ${JSON.stringify(value)} is not an unsigned integer`);
  return Number(value);
}

/** libpod's wording of a verb refused for the container's state (a conflict), with podman's cause. */
function stateRefusal(api: VerbOptions['api'], ref: string, err: unknown, words: (id: string, state: string) => string): unknown {
  if (!(err instanceof EngineError) || err.kind !== 'conflict') return err;
  const c = api.containers.inspect(ref);
  const state = c.state === 'dead' ? 'exited' : c.state === 'restarting' ? 'running' : c.state;
  return new EngineError('conflict', `${words(c.id, state)}: container state improper`);
}

export const lifecycleRoutes: FastifyPluginAsyncTypebox<VerbOptions> = async (app, { api, family }) => {
  app.post('/containers/:id/start', { schema: { params } }, async (request, reply) => {
    let given: StartChanges | undefined;
    if (family === 'compat') {
      // A host config on start: dockerd 20.10 refuses any body of JSON-object size (or of unknown length)
      // from 1.24 on. Before, it takes the body as a host config (bare, or wrapped as create's HostConfig);
      // the engine applies what start reads of it.
      const length = request.headers['content-length'];
      const sized = length === undefined ? request.headers['transfer-encoding'] !== undefined : Number(length) > 7;
      if (sized && !versionBefore(apiVersion(request), '1.24')) {
        throw invalid('starting container with non-empty request body was deprecated since API v1.22 and removed in v1.24');
      }
      const body = request.body;
      const hostConfig = sized && isRecord(body) ? (body.HostConfig ?? body) : undefined;
      given = hostConfig ? startChangesOf(validated(HostConfig, hostConfig)) : undefined;
    }
    // podman's attach prepares the container: a start its open attach waits on fails as that attach.
    const attached = family === 'libpod' ? takeAttach(request.params.id) : undefined;
    let started: boolean;
    try {
      started = await api.containers.start(request.params.id, given);
    } catch (err) {
      throw attached ? attachFailure(attached, err) : err;
    }
    return reply.code(started ? 204 : 304).send();
  });

  if (family === 'compat') {
    app.post('/containers/:id/stop', { schema: { params, querystring: StopQuery } }, async (request, reply) => {
      const { t, signal } = request.query;
      const stopped = await api.containers.stop(request.params.id, { timeout: t ? parseGoInt(t) : undefined, signal });
      return reply.code(stopped ? 204 : 304).send();
    });
  } else {
    app.post('/containers/:id/stop', { schema: { params, querystring: LibpodStopQuery } }, async (request, reply) => {
      const { timeout } = request.query;
      const stopped = await api.containers.stop(request.params.id, { timeout: timeout ? parseUint(timeout) : undefined });
      return reply.code(stopped ? 204 : 304).send();
    });
  }

  if (family === 'compat') {
    app.post('/containers/:id/restart', { schema: { params, querystring: StopQuery } }, async (request, reply) => {
      const { t, signal } = request.query;
      await api.containers.restart(request.params.id, { timeout: t ? parseGoInt(t) : undefined, signal });
      return reply.code(204).send();
    });
  } else {
    // libpod's restart: `timeout`, as its stop.
    app.post('/containers/:id/restart', { schema: { params, querystring: LibpodStopQuery } }, async (request, reply) => {
      const { timeout } = request.query;
      await api.containers.restart(request.params.id, { timeout: timeout ? parseUint(timeout) : undefined });
      return reply.code(204).send();
    });
  }

  app.post('/containers/:id/kill', { schema: { params, querystring: KillQuery } }, async (request, reply) => {
    try {
      await api.containers.kill(request.params.id, request.query.signal);
    } catch (err) {
      throw family === 'libpod'
        ? stateRefusal(api, request.params.id, err, (id, state) => `can only kill running containers. ${id} is in state ${state}`)
        : err;
    }
    return reply.code(204).send();
  });

  app.post('/containers/:id/pause', { schema: { params } }, async (request, reply) => {
    try {
      await api.containers.pause(request.params.id);
    } catch (err) {
      throw family === 'libpod' ? stateRefusal(api, request.params.id, err, (_id, state) => `"${state}" is not running, can't pause`) : err;
    }
    return reply.code(204).send();
  });

  app.post('/containers/:id/unpause', { schema: { params } }, async (request, reply) => {
    try {
      await api.containers.unpause(request.params.id);
    } catch (err) {
      throw family === 'libpod' ? stateRefusal(api, request.params.id, err, (id) => `"${id}" is not paused, can't unpause`) : err;
    }
    return reply.code(204).send();
  });
};
