// libpod: images to and from registries and builds (pull, push, search, build). Pull, push and build
// answer 200 at once and stream newline-delimited JSON: `{"stream": …}` lines, then the result (pull:
// `{"images":[id],"id":id}`; build: the id as the last stream line); a failure after the 200 is an
// `{"error": …}` line (build: with errorDetail), which the client prints as `Error: …` and exits 125 (a
// build: the RUN's exit code, which it reads from the message). Credentials come only in
// X-Registry-Auth, podman's map of registry → credentials; `authfile=` is the client's path, never opened.
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { BuildError, familiar, invalid, notFound, SEARCH_FILTERS, type Api } from '../../../runtime/api.js';
import { LibpodBuildQuery, LibpodPullQuery, LibpodPushQuery, LibpodSearchQuery, LibpodSearchResult } from '../../../openapi/libpod-image-transfer.js';
import { headerValue, parseBool, parseFilters, repeated } from '../../query.js';
import { clientGoneSignal } from '../../streams.js';
import { buildOutput, buildRequestOf, copyLines } from '../build-output.js';

/** Go's encoding/json escapes <, > and & (podman's lines carry `--\u003e`). */
export const goJson = (m: object) => JSON.stringify(m).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** A 200 written at the first line, with the libpod headers already on the reply; `contentType` as podman sends it (none for pull/push). */
export function jsonLineStream(reply: FastifyReply, contentType?: string) {
  let started = false;
  const res = reply.raw;
  const start = () => {
    if (started) return;
    started = true;
    reply.hijack();
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(reply.getHeaders())) if (typeof v === 'string' || typeof v === 'number') headers[k] = String(v);
    if (contentType) headers['content-type'] = contentType;
    res.writeHead(200, headers);
  };
  return {
    start,
    line: (m: object) => {
      start();
      res.write(goJson(m) + '\n');
    },
    end: () => {
      start();
      res.end();
    },
  };
}

/** The credentials of a pull or push: `username`/`password` in the query when given, else X-Registry-Auth. */
function authOf(q: { username?: string; password?: string }, header: string | string[] | undefined): string | undefined {
  if (q.username) return Buffer.from(JSON.stringify({ username: q.username, password: q.password ?? '' })).toString('base64');
  return headerValue(header);
}

/** `os`/`arch`/`variant` as one platform; none: the host's. */
function platformOf(q: { os?: string; arch?: string; variant?: string }): string | undefined {
  if (!q.os && !q.arch) return undefined;
  return [q.os || 'linux', q.arch, q.variant].filter(Boolean).join('/');
}

const tlsVerifyOf = (value: string | undefined) => (value === undefined || value === '' ? undefined : parseBool(value, true));

/** `initializing source docker://<familiar>: <why>`, as containers/image words a pull that failed. */
function pullFailure(name: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const at = name.indexOf('@');
  const colon = name.lastIndexOf(':');
  const [repo, ref] = at !== -1 ? [name.slice(0, at), name.slice(at + 1)] : [name.slice(0, colon), name.slice(colon + 1)];
  const manifest = /not found: (manifest unknown.*)$/.exec(message);
  const ping = /^Get "https?:\/\/([^/]+)\/v2\/"/.exec(message);
  const why = manifest
    ? `reading manifest ${ref} in ${repo}: ${manifest[1]}`
    : /^pull access denied/.test(message)
      ? `reading manifest ${ref} in ${repo}: unauthorized: authentication required`
      : ping
        ? `pinging container registry ${ping[1]}: ${message}`
        : message;
  return `initializing source docker://${familiar(name)}: ${why}`;
}

export const imageTransferRoutes: FastifyPluginAsyncTypebox<{ api: Api }> = async (app, { api }) => {
  // podman pull (policy=always), and the pull before run/create (policy=missing).
  app.post('/images/pull', { schema: { summary: 'Pull an image (libpod)', querystring: LibpodPullQuery } }, async (request, reply) => {
    const q = request.query;
    if (!q.reference) throw invalid('reference parameter cannot be empty');
    const reference = q.reference;
    const policy = q.policy || 'always';
    const quiet = parseBool(q.quiet);
    const tlsVerify = tlsVerifyOf(q.tlsVerify);
    const authHeader = authOf(q, request.headers['x-registry-auth']);
    const platform = platformOf(q);
    const signal = clientGoneSignal(reply);
    const out = jsonLineStream(reply);
    const say = (text: string) => quiet || out.line({ stream: `${text}\n` });
    const done = (id: string) => out.line({ images: [id], id });
    try {
      const local = api.images.lookupLibpod(reference);
      if (local && policy !== 'always') return done(local.id.replace(/^sha256:/, ''));
      if (!local && policy === 'never') throw notFound(`${reference}: image not known`);
      // A short name that names a local image pulls that image's name (`busybox` → localhost/busybox).
      let names: string[];
      if (local?.name) names = [local.name];
      else {
        const candidates = api.images.pullCandidates(reference);
        if (candidates.alias) say(`Resolved "${reference.replace(/[:@].*$/, '')}" as an alias (${candidates.alias})`);
        names = candidates.names;
      }
      const errors: string[] = [];
      for (const name of names) {
        say(`Trying to pull ${name}...`);
        let signatures = false;
        try {
          const pulled = await api.images.pull({ reference: name, platform, authHeader, signal, tlsVerify }, (p) => {
            if (!signatures && p.status.startsWith('Pulling from')) {
              signatures = true;
              say('Getting image source signatures');
            }
          });
          const lines = copyLines(pulled.id, pulled.layers);
          for (const line of signatures ? lines.slice(1) : lines) say(line.slice(0, -1));
          return done(pulled.id.replace(/^sha256:/, ''));
        } catch (err) {
          if (signal.aborted) throw err;
          errors.push(pullFailure(name, err));
        }
      }
      throw new Error(errors.length === 1 ? errors[0] : `${errors.length} errors occurred while pulling:\n${errors.map((e) => ` * ${e}`).join('\n')}`);
    } catch (err) {
      if (!signal.aborted) out.line({ error: err instanceof Error ? err.message : String(err) });
    } finally {
      out.end();
    }
  });

  // `/images/{name}/push`: names hold slashes, so a wildcard. The images module (local images) has its
  // own POST `/images/*` (tag, untag): at merge one wildcard dispatches `push` to libpodPush.
  app.post(
    '/images/*',
    { schema: { summary: 'Push an image (libpod)', params: Type.Object({ '*': Type.String() }), querystring: LibpodPushQuery } },
    async (request, reply) => {
      const rest = request.params['*'];
      const slash = rest.lastIndexOf('/');
      if (slash === -1 || rest.slice(slash + 1) !== 'push') return reply.callNotFound();
      return libpodPush(api, rest.slice(0, slash), request.query, request.headers['x-registry-auth'], reply);
    },
  );

  app.get(
    '/images/search',
    { schema: { summary: 'Search registries (libpod)', querystring: LibpodSearchQuery, response: { 200: Type.Array(LibpodSearchResult) } } },
    async (request) => {
      const q = request.query;
      if (!q.term) throw invalid('term parameter cannot be empty');
      const limit = q.limit ? Number(q.limit) : 0;
      if (!Number.isInteger(limit) || limit < 0) throw invalid(`invalid limit: ${q.limit}`);
      const found = await api.registry.searchLibpod(q.term, {
        limit,
        filters: parseFilters(q.filters, SEARCH_FILTERS),
        listTags: parseBool(q.listtags),
        authHeader: headerValue(request.headers['x-registry-auth']),
        tlsVerify: tlsVerifyOf(q.tlsVerify),
      });
      return found.map((r) => ({
        Index: r.index,
        Name: r.name,
        Description: r.description,
        Stars: r.star_count,
        Official: r.is_official ? '[OK]' : '',
        Automated: r.is_automated ? '[OK]' : '',
        Tag: r.tag ?? '',
      }));
    },
  );

  // podman build: the context is a gzip tar without Content-Encoding (the builder unpacks any
  // compression); podman's wording of the steps (build-output.ts).
  app.post('/build', { schema: { summary: 'Build an image (libpod)', querystring: LibpodBuildQuery } }, async (request, reply) => {
    const options = buildRequestOf(request.query);
    const body = request.body instanceof Readable ? request.body : undefined;
    const signal = clientGoneSignal(reply);
    const out = jsonLineStream(reply, 'application/json');
    const output = buildOutput(repeated(request.query.t), { quiet: parseBool(request.query.q), layers: options.layers });
    try {
      const registryConfig = headerValue(request.headers['x-registry-config']);
      const credentials = (domain: string) => api.registry.credentialsFor(registryConfig, domain);
      const { id } = await api.build.build({ ...options, body, signal, credentials }, (e) => {
        for (const text of output.event(e)) out.line({ stream: text });
      });
      for (const text of output.finished(id)) out.line({ stream: text });
    } catch (err) {
      if (!signal.aborted) {
        const message = output.failure(err instanceof Error ? err.message : String(err), err instanceof BuildError ? err.code : undefined);
        out.line({ errorDetail: { message }, error: message });
      }
    } finally {
      out.end();
    }
  });
};

/**
 * podman push [source] [destination]: the source is a local image (podman's lookup; missing: libpod's
 * 404 before the stream), the destination its name when none is given. podman's lines come once the
 * registry has it all.
 */
export async function libpodPush(api: Api, source: string, q: LibpodPushQuery, authHeader: string | string[] | undefined, reply: FastifyReply) {
  const local = api.images.lookupLibpod(source);
  if (!local) throw notFound(`No such image: ${source}`);
  const out = jsonLineStream(reply);
  try {
    const results = await api.images.push(
      { name: q.destination || source, image: local.id, authHeader: authOf(q, authHeader), tlsVerify: tlsVerifyOf(q.tlsVerify) },
      () => undefined,
    );
    if (!parseBool(q.quiet)) for (const r of results) for (const line of copyLines(r.config, r.layers)) out.line({ stream: line });
  } catch (err) {
    out.line({ error: err instanceof Error ? err.message : String(err) });
  } finally {
    out.end();
  }
  return reply;
}
