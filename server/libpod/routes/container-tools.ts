// libpod: the container tools of podman --remote beside cp and top (shared verbs): diff (changes),
// commit, export, stats, healthcheck run, and checkpoint/restore (refused: no CRIU here).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { EngineError, type Api } from '../../../runtime/api.js';
import { dockerConfig, dockerEcho } from '../../compat/create/to-docker.js';
import {
  ContainerNameParams as params,
  LibpodChangesQuery,
  LibpodChangesResponse,
  LibpodCommitQuery,
  LibpodCommitResponse,
  LibpodHealthcheckResponse,
  LibpodStatsQuery,
  type LibpodContainerStats,
} from '../../../openapi/libpod-container-tools.js';
import { sendErrorBody } from '../../app.js';
import { parseBool, repeated } from '../../query.js';
import { libpodError } from '../errors.js';
import { rawHead } from '../../raw-reply.js';
import { libpodSample, type PreviousSample } from '../stats-report.js';

/** What podman's service says while CRIU cannot run (none installed, or older than 3.11). */
const NO_CRIU = 'checkpoint/restore requires at least CRIU 31100';

/** A name without a registry domain is podman's local one: `x` → `localhost/x` (Docker's would be docker.io's). */
export function libpodRepository(repo: string): string {
  const first = repo.split('/')[0]!;
  return repo.includes('/') && (/[.:]/.test(first) || first === 'localhost') ? repo : `localhost/${repo}`;
}

/** An error with its own cause and message (podman wraps some: `CommitFailure: <cause>`). */
const sendLibpodError = (reply: FastifyReply, status: number, cause: string, message: string) =>
  sendErrorBody(reply, status, { cause, message, response: status });

/** dockerd's wording of an unknown instruction in `-c`, as podman words it. */
function libpodChangeError(message: string, changes: string[]): string {
  const instruction = /^(\S+) is not a valid change command$/.exec(message)?.[1];
  const change = instruction && changes.find((c) => c.trim().split(/\s+/)[0]?.toUpperCase() === instruction.toUpperCase());
  return change ? `invalid change "${change}" - invalid instruction ${instruction}` : message;
}

/** An engine error other than not-found, as libpod wraps it; the rest go to the plugin's handler. */
const wrapped = (err: unknown): err is EngineError => err instanceof EngineError && err.kind !== 'not-found';

export const containerToolRoutes: FastifyPluginAsyncTypebox<{ api: Api }> = async (app, { api }) => {
  // podman diff: a container's changes, or an image's (its top layer over the ones below). An unknown
  // name is libpod's 500 "layer not known" (it looked for a container, an image and a layer of that
  // name), or "container not known" for container diff.
  app.get(
    '/containers/:name/changes',
    { schema: { summary: 'Filesystem changes of a container (libpod)', params, querystring: LibpodChangesQuery, response: { 200: LibpodChangesResponse } } },
    async (request, reply) => {
      const { name } = request.params;
      const difftype = request.query.difftype ?? 'all';
      const notFound = (err: unknown) => err instanceof EngineError && err.kind === 'not-found';
      try {
        if (difftype !== 'image') return await api.containers.changes(api.containers.idOf(name), { view: 'podman' });
      } catch (err) {
        if (!notFound(err)) throw err;
      }
      try {
        if (difftype !== 'container') return await api.images.libpod.changes(name);
      } catch (err) {
        if (!notFound(err)) throw err;
      }
      if (difftype === 'image') return sendLibpodError(reply, 500, 'image not known', `${name} not found: ${name}: image not known`);
      const cause = difftype === 'container' ? 'container not known' : 'layer not known';
      return sendLibpodError(reply, 500, cause, `${name} not found: ${cause}`);
    },
  );

  // podman export: the container's filesystem as a tar, with the Content-Type podman's service sends.
  app.get('/containers/:name/export', { schema: { summary: 'Export a container (libpod)', params } }, async (request, reply) => {
    const tar = await api.containers.export(request.params.name);
    return reply.header('content-type', 'application/octet; charset=us-ascii').send(tar);
  });

  // podman commit: 200 {Id}; an unqualified repository is localhost's; failures are `CommitFailure: …`.
  app.post(
    '/commit',
    { schema: { summary: 'Commit a container to an image (libpod)', querystring: LibpodCommitQuery, response: { 200: LibpodCommitResponse } } },
    async (request, reply) => {
      const q = request.query;
      const format = q.format || 'oci';
      if (format !== 'oci' && format !== 'docker') {
        const message = `unrecognized image format "${format}"`;
        return sendLibpodError(reply, 500, message, message);
      }
      const c = api.containers.inspect(q.container);
      const changes = repeated(q.changes);
      try {
        const id = await api.containers.commit(c.id, {
          config: dockerConfig(c.spec, dockerEcho(c.echo)),
          repo: q.repo ? libpodRepository(q.repo) : undefined,
          tag: q.tag || undefined,
          author: q.author,
          comment: q.comment,
          changes,
          pause: parseBool(q.pause, false),
          format,
        });
        return { Id: id.replace(/^sha256:/, '') };
      } catch (err) {
        if (!wrapped(err)) throw err;
        const cause = libpodChangeError(err.message, changes);
        return sendLibpodError(reply, 500, cause, `CommitFailure: ${cause}`);
      }
    },
  );

  // podman healthcheck run: one probe now. 200 {Status} (the client prints a status other than healthy
  // and exits 1); not running or no healthcheck: 409.
  app.get(
    '/containers/:name/healthcheck',
    { schema: { summary: 'Run a container healthcheck (libpod)', params, response: { 200: LibpodHealthcheckResponse } } },
    async (request, reply) => {
      const { name } = request.params;
      try {
        const { status } = await api.containers.healthcheck(name);
        return { Status: status, FailingStreak: 0, Log: null };
      } catch (err) {
        if (!(err instanceof EngineError) || err.kind !== 'not-found') throw err;
        const body = libpodError(err, 404);
        return sendLibpodError(reply, 404, body.cause, `unable to look up ${name} to perform a health check: ${body.message}`);
      }
    },
  );

  // podman container checkpoint / restore: the container is looked up (404), then refused as podman's
  // service refuses it without CRIU.
  for (const verb of ['checkpoint', 'restore'])
    app.post(`/containers/:name/${verb}`, { schema: { summary: `${verb} a container (libpod; refused: no CRIU)`, params } }, async (request, reply) => {
      api.containers.idOf(request.params.name);
      return sendLibpodError(reply, 500, NO_CRIU, NO_CRIU);
    });

  // podman stats: a line `{"Error":null,"Stats":[…]}` per sample, every `interval` seconds while
  // streaming; no Content-Type (podman's). Without `containers`: every container. An unknown container
  // is podman's `{"Error":{},"Stats":null}` on the 200 (the client fails to decode it and exits 125).
  app.get('/containers/stats', { schema: { summary: 'Resource usage of containers (libpod)', querystring: LibpodStatsQuery } }, async (request, reply) => {
    const q = request.query;
    const stream = parseBool(q.stream, true);
    const interval = Math.max(1, Number(q.interval ?? 5) || 5) * 1000;
    const named = repeated(q.containers);
    api.containers.refuseStats(); // an error answer, before the 200's head
    const res = rawHead(reply, 200);
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const previous = new Map<string, PreviousSample>();
    const sample = async (): Promise<LibpodContainerStats[] | undefined> => {
      let ids: string[];
      try {
        ids = named.length ? named.map((n) => api.containers.idOf(n)) : (await api.containers.list({ all: true })).map(({ container }) => container.id);
      } catch (err) {
        if (err instanceof EngineError && err.kind === 'not-found') return undefined;
        throw err;
      }
      const samples: LibpodContainerStats[] = [];
      for (const id of ids) {
        let s: LibpodContainerStats;
        try {
          s = libpodSample(await api.containers.statsReading(id), previous.get(id));
        } catch (err) {
          if (err instanceof EngineError && err.kind === 'not-found' && !named.length) continue; // removed meanwhile
          if (err instanceof EngineError && err.kind === 'not-found') return undefined;
          throw err;
        }
        if (s.SystemNano) previous.set(id, { cpuNano: s.CPUNano, systemNano: s.SystemNano });
        samples.push(s);
      }
      return samples;
    };
    try {
      for (;;) {
        const stats = await sample();
        res.write(JSON.stringify(stats ? { Error: null, Stats: stats } : { Error: {}, Stats: null }) + '\n');
        if (!stats || !stream) break;
        const waited = await sleep(interval, true, { signal: abort.signal }).catch(() => false);
        if (!waited) break;
      }
    } catch (err) {
      request.log.error(err);
    } finally {
      res.end();
    }
  });
};
