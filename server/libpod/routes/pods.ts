// libpod: pods (create, list, inspect, exists, rm, prune) in podman's shapes and words. The verbs on a
// pod's members (start, stop, kill...) are in pod-verbs.ts.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import { EngineError, POD_LIST_FILTERS, type Api, type PodDetails } from '../../../runtime/api.js';
import { sendErrorBody } from '../../app.js';
import { parseBool, parseFilters } from '../../query.js';
import { PodCreateResponse, PodListQuery, PodRemoveQuery, PodRemoveReport, PodSpecGenerator } from '../../../openapi/libpod-pods.js';
import { toPodSpec } from '../create/pod-spec.js';
import { networkNames } from '../views/containers.js';
import { inspectPod, listPod } from '../views/pods.js';

const NameParams = Type.Object({ name: Type.String() });

/** podman's causes: the sentinel a Go error wraps last (`...: pod already exists`), else the whole. */
const SENTINELS =
  /: (pod already exists|container already exists|that name is already in use|invalid argument|invalid pod spec|no such pod|container state improper|dependency exists)$/;

/** The wrappers podman puts around a pod create error's cause. */
const WRAPPERS = /^(failed to make pod: )?(running pod create option: )?/;

/** An error in libpod's body: the cause as podman derives it from the message. */
function fail(reply: FastifyReply, status: number, message: string, cause = SENTINELS.exec(message)?.[1] ?? message.replace(WRAPPERS, '')) {
  return sendErrorBody(reply, status, { cause, message, response: status });
}

const statusOf = (err: EngineError) => (err.kind === 'not-found' ? 404 : err.kind === 'conflict' && /pod already exists$/.test(err.message) ? 409 : 500);

/** The engine's words for an infra container name in use (dockerd's), as podman says it. */
function podmanWords(message: string): string {
  const taken = /The container name "\/(.*)" is already in use by container "([0-9a-f]{64})"/.exec(message);
  if (taken)
    return `creating container storage: the container name "${taken[1]}" is already in use by ${taken[2]}. You have to remove that container to be able to reuse that name: that name is already in use`;
  return message;
}

/** The keys of a filters query (podman answers its own error for an unknown one, see runtime/pods/filters.ts). */
function filterKeys(raw: string | undefined): string[] {
  try {
    const parsed: unknown = raw ? JSON.parse(raw) : {};
    return parsed && typeof parsed === 'object' ? Object.keys(parsed) : [];
  } catch {
    return [];
  }
}

export const podRoutes: FastifyPluginAsyncTypebox<{ api: Api }> = async (app, { api }) => {
  const facts = api.containers.facts;
  const infraNetworks = (d: PodDetails) => {
    const infra = d.members.find((c) => c.id === d.pod.infraId);
    return infra ? networkNames(facts, infra) : [];
  };

  // podman words every failure of pod create as "failed to make pod: ..." (name in use 409, else 500).
  app.post(
    '/pods/create',
    { schema: { summary: 'Create a pod (libpod)', body: PodSpecGenerator, response: { 201: PodCreateResponse } } },
    async (request, reply) => {
      try {
        const { spec, echo } = toPodSpec(request.body);
        const id = await api.pods.create(spec, echo, request.body.name || undefined);
        return reply.code(201).send({ Id: id });
      } catch (err) {
        if (!(err instanceof EngineError) || err.kind === 'internal') throw err;
        return fail(reply, statusOf(err), `failed to make pod: ${podmanWords(err.message)}`);
      }
    },
  );

  app.get('/pods/json', { schema: { summary: 'List pods (libpod)', querystring: PodListQuery } }, async (request, reply) => {
    const raw = request.query.filters;
    const filters = parseFilters(raw, [...POD_LIST_FILTERS, ...filterKeys(raw)]);
    // The default network is `podman` to the client, as pod ps lists it.
    let pods: PodDetails[];
    try {
      pods = api.pods.list(filters, infraNetworks);
    } catch (err) {
      if (err instanceof EngineError && err.kind === 'invalid') return fail(reply, 500, err.message);
      throw err;
    }
    return pods.map((d) => listPod(facts, d));
  });

  app.get('/pods/:name/json', { schema: { summary: 'Inspect a pod (libpod)', params: NameParams } }, async (request) =>
    inspectPod(facts, api.pods.inspect(request.params.name)),
  );

  app.get('/pods/:name/exists', { schema: { summary: 'Whether a pod exists (libpod)', params: NameParams } }, async (request, reply) => {
    api.pods.inspect(request.params.name);
    return reply.code(204).send();
  });

  // pod rm: 200 {Err, Id}; a running member without force: podman's multi-error, 500.
  app.delete(
    '/pods/:name',
    { schema: { summary: 'Remove a pod (libpod)', params: NameParams, querystring: PodRemoveQuery, response: { 200: PodRemoveReport } } },
    async (request, reply) => {
      const q = request.query;
      // The 4.3 client sends -t as `timeout` (the API documents `t`).
      const t = q.timeout ?? q.t;
      const timeout = t !== undefined && t !== '' ? Number(t) : undefined;
      try {
        const { id } = await api.pods.remove(request.params.name, { force: parseBool(q.force), timeout });
        return { Err: null, Id: id };
      } catch (err) {
        if (err instanceof EngineError && err.kind === 'conflict') {
          // The cause is the last error's text, as Go's multierror unwraps.
          const last = /\t\* ([^\n]*)\n\n$/.exec(err.message)?.[1] ?? err.message;
          return fail(reply, 500, err.message, last);
        }
        throw err;
      }
    },
  );

  app.post('/pods/prune', { schema: { summary: 'Remove pods whose containers all exited (libpod)' } }, async () =>
    (await api.pods.prune()).map((r) => ({ Err: r.error ? r.error.message : null, Id: r.id })),
  );
};
