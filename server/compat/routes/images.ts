// /images: list, inspect, history, tag, delete, prune, load, save, import.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { PassThrough, Readable } from 'node:stream';
import { EngineError, type Api, type ImportMessage, type LoadMessage } from '../../../runtime/api.js';
import {
  DeleteItem,
  HistoryItem,
  ImageCreateQuery,
  ImageDeleteQuery,
  ImageInspect,
  ImageListQuery,
  ImageLoadQuery,
  ImageNameQuery,
  ImagePruneQuery,
  ImagePruneResponse,
  ImageSummary,
  ImageTagQuery,
} from '../../../openapi/images.js';
import { Type } from '@sinclair/typebox';
import { apiVersion, sendError } from '../../app.js';
import { versionBefore } from '../../versioning.js';
import { boolFilter, headerValue, parseBool, parseFilters } from '../../query.js';
import { clientGoneSignal, errorMessage, humanSize, jsonLines, progressBar, type JsonMessage } from '../../streams.js';
import { validated } from '../../validate.js';
import { pull, push } from '../../pull.js';
import { deleteItem, historyItem, imageInspect, imageSummary } from '../views/images.js';
import { imageInspectVersion } from '../compose-v1.js';
import type { RouteDoc } from '../../../openapi/document.js';

const LIST_FILTERS = ['before', 'dangling', 'label', 'reference', 'since', 'until'] as const;
const PRUNE_FILTERS = ['dangling', 'label', 'until'] as const;

/** Operations reached through the `/images/{name}/...` wildcard, documented here since Fastify sees one route. */
export const imageNameRouteDocs: RouteDoc[] = [
  { method: 'GET', url: '/images/{name}/json', summary: 'Inspect an image', response: { 200: ImageInspect } },
  { method: 'GET', url: '/images/{name}/history', summary: 'Image history', response: { 200: Type.Array(HistoryItem) } },
  { method: 'GET', url: '/images/{name}/get', summary: 'Export an image (docker save)' },
  { method: 'POST', url: '/images/{name}/tag', summary: 'Tag an image', querystring: ImageTagQuery },
  { method: 'POST', url: '/images/{name}/push', summary: 'Push an image to a registry' },
  { method: 'DELETE', url: '/images/{name}', summary: 'Remove an image', querystring: ImageDeleteQuery, response: { 200: Type.Array(DeleteItem) } },
];

const invalid = (message: string) => new EngineError('invalid', message);
const RestParams = Type.Object({ '*': Type.String() });
const PushQuery = Type.Object({ tag: Type.Optional(Type.String()) });

export const imageRoutes: FastifyPluginAsync<{ api: Api }> = async (plain, { api }) => {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();

  app.get('/images/json', { schema: { summary: 'List images', querystring: ImageListQuery, response: { 200: Type.Array(ImageSummary) } } }, async (request) => {
    const query = request.query;
    const filters = parseFilters(query.filters, LIST_FILTERS);
    const version = apiVersion(request);
    // Before 1.41 a `filter` parameter was one more reference pattern (dockerd 20.10).
    if (versionBefore(version, '1.41') && query.filter) (filters.reference ??= []).push(query.filter);
    const list = api.images.list(parseBool(query.all), {
      reference: filters.reference,
      dangling: boolFilter(filters, 'dangling'),
      label: filters.label,
      before: filters.before?.[0],
      since: filters.since?.[0],
      until: filters.until?.[0],
    });
    return list.map((image) => imageSummary(image, api.images.names(image.id, filters.reference), version));
  });

  app.get('/images/get', { schema: { summary: 'Export images (docker save)', querystring: ImageNameQuery } }, async (request, reply) => {
    const given = request.query.names ?? [];
    const names = Array.isArray(given) ? given : [given];
    if (names.length === 0) throw invalid('no image names given');
    return sendArchive(reply, names);
  });

  app.post('/images/load', { schema: { summary: 'Import images (docker load)', querystring: ImageLoadQuery } }, async (request, reply) => {
    // dockerd's default is quiet (docker-py sends no `quiet`): progress only when asked for.
    const { quiet: quietParam } = request.query;
    const quiet = quietParam === undefined || parseBool(quietParam);
    const body = request.body;
    if (!(body instanceof Readable)) throw invalid('expected a tar archive as the request body');
    // Messages go as they come (a layer's progress as it is loaded). A failure before the first one is
    // an HTTP error; after it, the stream has started and the error ends it as a message, as dockerd's.
    let stream: PassThrough | undefined;
    const send = (m: JsonMessage) => {
      if (!stream) reply.header('content-type', 'application/json').send((stream = new PassThrough()));
      stream.write(JSON.stringify(m) + '\r\n');
    };
    try {
      await api.images.load(
        body,
        (m) => {
          const message = loadMessage(m, quiet);
          if (message) send(message);
        },
        clientGoneSignal(reply),
      );
    } catch (err) {
      if (!stream) throw err;
      send(errorMessage((err as Error).message));
    }
    if (!stream) return reply.header('content-type', 'application/json').send('');
    stream.end();
    return reply;
  });

  // docker pull (fromImage) and docker import (fromSrc).
  app.post(
    '/images/create',
    { schema: { summary: 'Pull (fromImage) or import (fromSrc) an image', querystring: ImageCreateQuery } },
    async (request, reply) => {
      const q = request.query;
      if (q.fromImage) return pull(api, { fromImage: q.fromImage, tag: q.tag, platform: q.platform }, headerValue(request.headers['x-registry-auth']), reply);
      if (!q.fromSrc) throw invalid('fromImage or fromSrc is required');
      const body = request.body;
      if (q.fromSrc === '-' && body !== undefined && !(body instanceof Readable)) throw invalid('expected a tarball as the request body');
      const changes = q.changes === undefined ? [] : Array.isArray(q.changes) ? q.changes : [q.changes];
      // As dockerd: nothing is written until the first message (a download's), so earlier failures are
      // HTTP errors; later ones end the stream as an error message.
      let stream: PassThrough | undefined;
      const send = (m: JsonMessage) => {
        if (!stream) reply.header('content-type', 'application/json').send((stream = new PassThrough()));
        stream.write(JSON.stringify(m) + '\r\n');
      };
      try {
        const id = await api.images.import(
          {
            source: q.fromSrc,
            body: body as Readable | undefined,
            repo: q.repo,
            tag: q.tag,
            message: q.message,
            changes,
            platform: q.platform,
            signal: clientGoneSignal(reply),
          },
          (m) => send(importMessage(m)),
        );
        if (!stream) return reply.header('content-type', 'application/json').send(jsonLines([{ status: id }]));
        send({ status: id });
      } catch (err) {
        if (!stream) throw err;
        send(errorMessage((err as Error).message));
      }
      stream.end();
      return reply;
    },
  );

  app.post(
    '/images/prune',
    { schema: { summary: 'Remove unused images', querystring: ImagePruneQuery, response: { 200: ImagePruneResponse } } },
    async (request) => {
      const filters = parseFilters(request.query.filters, PRUNE_FILTERS);
      const { records, reclaimed } = await api.images.prune({ dangling: boolFilter(filters, 'dangling'), label: filters.label, until: filters.until?.[0] });
      return { ImagesDeleted: records.length > 0 ? records.map(deleteItem) : null, SpaceReclaimed: reclaimed };
    },
  );

  // Inspect and history share the wildcard (names hold slashes): either shape; `get` streams a tar.
  const ByName = Type.Union([ImageInspect, Type.Array(HistoryItem)]);
  app.get('/images/*', { schema: { params: RestParams, response: { 200: ByName } } }, async (request, reply) => {
    const { name, operation } = splitName(request.params['*']);
    switch (operation) {
      case 'json':
        return imageInspect(api.images.inspect(name), imageInspectVersion(request));
      case 'history':
        return api.images.history(name).map(historyItem);
      case 'get':
        return sendArchive(reply, [name]);
      default:
        return notFound(reply);
    }
  });

  app.post('/images/*', { schema: { params: RestParams, querystring: PushQuery } }, async (request, reply) => {
    const { name, operation } = splitName(request.params['*']);
    if (operation === 'push') return push(api, name, request.query.tag || undefined, await pushAuth(request), reply);
    if (operation !== 'tag') return notFound(reply);
    const query = validated(ImageTagQuery, request.query);
    api.images.tag(name, query.repo, query.tag);
    return reply.code(201).send();
  });

  app.delete('/images/*', { schema: { params: RestParams, querystring: ImageDeleteQuery, response: { 200: Type.Array(DeleteItem) } } }, async (request) => {
    const records = await api.images.remove(request.params['*'], parseBool(request.query.force), !parseBool(request.query.noprune));
    return records.map(deleteItem);
  });

  function sendArchive(reply: FastifyReply, names: string[]) {
    return reply.header('content-type', 'application/x-tar').send(api.images.save(names));
  }
};

const MISSING_AUTH = 'bad parameters and missing X-Registry-Auth: invalid X-Registry-Auth header';

/**
 * The credentials of a push, as dockerd takes them: the X-Registry-Auth header, or else (its old form)
 * an auth config as the JSON body. With neither, the push is refused: it never goes out without the
 * client's credentials having been considered.
 */
async function pushAuth(request: FastifyRequest): Promise<string> {
  const header = request.headers['x-registry-auth'];
  if (typeof header === 'string' && header !== '') return header;
  let body: unknown = request.body;
  if (body instanceof Readable) {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(Buffer.from(chunk));
    const text = Buffer.concat(chunks).toString().trim();
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw invalid(`${MISSING_AUTH}: invalid character '${text[0]}' looking for beginning of value`);
    }
  }
  if (body === undefined) throw invalid(`${MISSING_AUTH}: EOF`);
  if (typeof body !== 'object' || Array.isArray(body))
    throw invalid(`${MISSING_AUTH}: json: cannot unmarshal ${Array.isArray(body) ? 'array' : typeof body} into Go value of type registry.AuthConfig`);
  if (body === null) return ''; // Go decodes null as an empty auth config
  return Buffer.from(JSON.stringify(body)).toString('base64');
}

/** `/images/localhost:5000/app:1/json` → name `localhost:5000/app:1`, operation `json`. */
function splitName(rest: string): { name: string; operation: string } {
  const slash = rest.lastIndexOf('/');
  return slash === -1 ? { name: rest, operation: '' } : { name: rest.slice(0, slash), operation: rest.slice(slash + 1) };
}

const notFound = (reply: FastifyReply) => sendError(reply, 404, 'page not found');

function importMessage(m: ImportMessage): JsonMessage {
  if (m.kind === 'downloading') return { status: `Downloading from ${m.url}` };
  // Without a Content-Length, dockerd shows just the bytes so far.
  if (m.total < 0) return { status: 'Importing', progressDetail: { current: m.current }, progress: humanSize(m.current).padStart(8) };
  return { status: 'Importing', progressDetail: { current: m.current, total: m.total }, progress: progressBar(m.current, m.total) };
}

function loadMessage(m: LoadMessage, quiet: boolean): JsonMessage | undefined {
  switch (m.kind) {
    case 'layer':
      return quiet
        ? undefined
        : { status: 'Loading layer', progressDetail: { current: m.size, total: m.size }, progress: progressBar(m.size, m.size), id: m.id };
    case 'renamed':
      return { stream: `The image ${m.tag} already exists, renaming the old one with ID ${m.previous} to empty string\n` };
    case 'loaded':
      return { stream: m.tag ? `Loaded image: ${m.tag}\n` : `Loaded image ID: ${m.id}\n` };
  }
}
