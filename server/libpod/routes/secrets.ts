// libpod: secrets (create from the raw bytes, ls, inspect, exists, rm). The Docker API's /secrets stay
// swarm's 503 (server/compat/routes/swarm.ts): dockerd outside a swarm has no secrets, and docker's
// `secret` commands are swarm commands; podman's compat layer answering them is podman's own extension.
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import { EngineError, invalid, type Api } from '../../../runtime/api.js';
import { sendErrorBody } from '../../app.js';
import { parseBool, parseFilters } from '../../query.js';
import { readBounded } from '../body.js';
import { libpodSecretView } from '../views/secrets.js';
import {
  LibpodSecret,
  LibpodSecretCreateQuery,
  LibpodSecretCreateResponse,
  LibpodSecretDeleteQuery,
  LibpodSecretFiltersQuery,
} from '../../../openapi/libpod-secrets.js';

const NameParams = Type.Object({ name: Type.String() });
/** podman's rule for secret names. */
const SECRET_NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9_.-]{0,62}[a-zA-Z0-9])?$/;
/** podman's bound on a secret's data (512000 bytes, exclusive); the body is read a little past it to tell. */
const MAX_BODY = 512000;

/** An error in podman's words: `message` ends with its `cause`, as Go's wrapped errors read. */
const fail = (reply: FastifyReply, status: number, cause: string, message: string) =>
  sendErrorBody(reply, status, { cause, message: message ? `${message}: ${cause}` : cause, response: status });
const noSuchSecret = (reply: FastifyReply, ref: string) => fail(reply, 404, 'no such secret', `no secret with name or id "${ref}"`);
const isNotFound = (err: unknown) => err instanceof EngineError && err.kind === 'not-found';

/** A JSON map from the query (labels, driveropts): `{}` when absent. */
function jsonMap(raw: string | undefined, what: string): Record<string, string> {
  if (!raw) return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
  } catch {
    // answered below
  }
  throw invalid(`invalid ${what}: ${raw}`);
}

export const secretRoutes: FastifyPluginAsyncTypebox<{ api: Api }> = async (app, { api }) => {
  app.post(
    '/secrets/create',
    {
      schema: {
        summary: 'Create a secret (libpod): the body is its data',
        querystring: LibpodSecretCreateQuery,
        response: { 200: LibpodSecretCreateResponse },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const body: unknown = request.body;
      const data = body instanceof Readable ? await readBounded(body, MAX_BODY + 1) : Buffer.isBuffer(body) ? body : Buffer.alloc(0);
      const labels = jsonMap(q.labels, 'labels');
      jsonMap(q.driveropts, 'driver options');
      if (q.driver && q.driver !== 'file') return fail(reply, 500, 'invalid driver', '');
      if (!SECRET_NAME.test(q.name))
        return fail(
          reply,
          500,
          'invalid secret name',
          `only 64 [a-zA-Z0-9-_.] characters allowed, and the start and end character must be [a-zA-Z0-9]: ${q.name}`,
        );
      if (api.secrets.list().some((s) => s.name === q.name)) return fail(reply, 500, 'secret name in use', q.name);
      const s = await api.secrets.create({ name: q.name, data, driver: q.driver, labels });
      return { ID: s.id };
    },
  );

  app.get(
    '/secrets/json',
    { schema: { summary: 'List secrets (libpod)', querystring: LibpodSecretFiltersQuery, response: { 200: Type.Array(LibpodSecret) } } },
    async (request) => api.secrets.list(parseFilters(request.query.filters, ['name', 'id'])).map(libpodSecretView),
  );

  app.get(
    '/secrets/:name/json',
    { schema: { summary: 'Inspect a secret (libpod)', params: NameParams, response: { 200: LibpodSecret } } },
    async (request, reply) => {
      try {
        return libpodSecretView(api.secrets.inspect(request.params.name));
      } catch (err) {
        if (isNotFound(err)) return noSuchSecret(reply, request.params.name);
        throw err;
      }
    },
  );

  app.get('/secrets/:name/exists', { schema: { summary: 'Whether a secret exists (libpod)', params: NameParams } }, async (request, reply) => {
    if (!api.secrets.exists(request.params.name)) return fail(reply, 404, 'no such secret', '');
    return reply.code(204).send();
  });

  app.delete(
    '/secrets/:name',
    { schema: { summary: 'Remove a secret (libpod); all=true removes every one', params: NameParams, querystring: LibpodSecretDeleteQuery } },
    async (request, reply) => {
      try {
        if (parseBool(request.query.all)) for (const s of api.secrets.list()) await api.secrets.remove(s.id);
        else await api.secrets.remove(request.params.name);
      } catch (err) {
        if (isNotFound(err)) return noSuchSecret(reply, request.params.name);
        throw err;
      }
      return reply.code(204).send();
    },
  );
};
