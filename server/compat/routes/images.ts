// /images: list, inspect, history, tag, delete, prune, load, save, import.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { PassThrough, Readable } from 'node:stream';
import type { Engine } from '../../../runtime/engine.js';
import { invalid } from '../../../runtime/errors.js';
import { loadImages, type LoadMessage } from '../../../runtime/images/load.js';
import { importImage, type ImportMessage } from '../../../runtime/images/import.js';
import { saveImages } from '../../../runtime/images/save.js';
import {
  DeleteItem, HistoryItem, ImageCreateQuery, ImageDeleteQuery, ImageInspect, ImageListQuery, ImageLoadQuery, ImageNameQuery, ImagePruneQuery,
  ImagePruneResponse, ImageSummary, ImageTagQuery,
} from '../../../openapi/images.js';
import { Type } from '@sinclair/typebox';
import { apiVersion, sendError } from '../../app.js';
import { versionBefore } from '../../versioning.js';
import { boolFilter, parseBool, parseFilters } from '../../query.js';
import { clientGoneSignal, errorMessage, humanSize, jsonLines, progressBar, type JsonMessage } from '../../streams.js';
import { validated } from '../../validate.js';
import { pull, push } from '../../pull.js';
import { deleteItem, historyItem, imageInspect, imageSummary } from '../views/images.js';
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

export const imageRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  const images = engine.images;

  app.get('/images/json', { schema: { summary: 'List images', querystring: ImageListQuery, response: { 200: Type.Array(ImageSummary) } } }, async (request) => {
    const query = request.query as ImageListQuery;
    const filters = parseFilters(query.filters, LIST_FILTERS);
    const version = apiVersion(request);
    // Before 1.41 a `filter` parameter was one more reference pattern (dockerd 20.10).
    if (versionBefore(version, '1.41') && query.filter) (filters.reference ??= []).push(query.filter);
    const list = images.list(parseBool(query.all), {
      reference: filters.reference,
      dangling: boolFilter(filters, 'dangling'),
      label: filters.label,
      before: filters.before?.[0],
      since: filters.since?.[0],
      until: filters.until?.[0],
    });
    return list.map((image) => imageSummary(images, image, version, images.names(image.id, filters.reference)));
  });

  app.get('/images/get', { schema: { summary: 'Export images (docker save)', querystring: ImageNameQuery } }, async (request, reply) => {
    const given = (request.query as ImageNameQuery).names ?? [];
    const names = Array.isArray(given) ? given : [given];
    if (names.length === 0) throw invalid('no image names given');
    return sendArchive(reply, names);
  });

  app.post('/images/load', { schema: { summary: 'Import images (docker load)', querystring: ImageLoadQuery } }, async (request, reply) => {
    // dockerd's default is quiet (docker-py sends no `quiet`): progress only when asked for.
    const { quiet: quietParam } = request.query as ImageLoadQuery;
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
      await loadImages(images, body, (m) => {
        const message = loadMessage(m, quiet);
        if (message) send(message);
      }, clientGoneSignal(reply));
    } catch (err) {
      if (!stream) throw err;
      send(errorMessage((err as Error).message));
    }
    if (!stream) return reply.header('content-type', 'application/json').send('');
    stream.end();
    return reply;
  });

  // docker pull (fromImage) and docker import (fromSrc).
  app.post('/images/create', { schema: { summary: 'Pull (fromImage) or import (fromSrc) an image', querystring: ImageCreateQuery } }, async (request, reply) => {
    const q = request.query as ImageCreateQuery;
    if (q.fromImage) return pull(engine, { fromImage: q.fromImage, tag: q.tag, platform: q.platform }, request.headers['x-registry-auth'] as string | undefined, reply);
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
      const id = await importImage(
        images,
        { source: q.fromSrc, body: body as Readable | undefined, repo: q.repo, tag: q.tag, message: q.message, changes, platform: q.platform, signal: clientGoneSignal(reply) },
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
  });

  app.post('/images/prune', { schema: { summary: 'Remove unused images', querystring: ImagePruneQuery, response: { 200: ImagePruneResponse } } }, async (request) => {
    const filters = parseFilters((request.query as ImagePruneQuery).filters, PRUNE_FILTERS);
    const { records, reclaimed } = await images.prune({ dangling: boolFilter(filters, 'dangling'), label: filters.label, until: filters.until?.[0] });
    return { ImagesDeleted: records.length > 0 ? records.map(deleteItem) : null, SpaceReclaimed: reclaimed };
  });

  app.get('/images/*', async (request, reply) => {
    const { name, operation } = splitName(request);
    switch (operation) {
      case 'json':
        return imageInspect(images, images.store.resolve(name), apiVersion(request));
      case 'history':
        return images.history(name).map(historyItem);
      case 'get':
        return sendArchive(reply, [name]);
      default:
        return notFound(reply);
    }
  });

  app.post('/images/*', async (request, reply) => {
    const { name, operation } = splitName(request);
    if (operation === 'push') {
      const { tag } = request.query as { tag?: string };
      return push(engine, name, tag || undefined, await pushAuth(request), reply);
    }
    if (operation !== 'tag') return notFound(reply);
    const query = validated(ImageTagQuery, request.query);
    images.tag(name, query.repo, query.tag);
    return reply.code(201).send();
  });

  app.delete('/images/*', async (request) => {
    const name = (request.params as { '*': string })['*'];
    const query = validated(ImageDeleteQuery, request.query);
    const records = await images.remove(name, parseBool(query.force), !parseBool(query.noprune));
    return records.map(deleteItem);
  });

  function sendArchive(reply: FastifyReply, names: string[]) {
    return reply.header('content-type', 'application/x-tar').send(saveImages(images, names));
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
  if (typeof body !== 'object' || Array.isArray(body)) throw invalid(`${MISSING_AUTH}: json: cannot unmarshal ${Array.isArray(body) ? 'array' : typeof body} into Go value of type registry.AuthConfig`);
  if (body === null) return ''; // Go decodes null as an empty auth config
  return Buffer.from(JSON.stringify(body)).toString('base64');
}

/** `/images/localhost:5000/app:1/json` → name `localhost:5000/app:1`, operation `json`. */
function splitName(request: FastifyRequest): { name: string; operation: string } {
  const rest = (request.params as { '*': string })['*'];
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
      return quiet ? undefined : { status: 'Loading layer', progressDetail: { current: m.size, total: m.size }, progress: progressBar(m.size, m.size), id: m.id };
    case 'renamed':
      return { stream: `The image ${m.tag} already exists, renaming the old one with ID ${m.previous} to empty string\n` };
    case 'loaded':
      return { stream: m.tag ? `Loaded image: ${m.tag}\n` : `Loaded image ID: ${m.id}\n` };
  }
}
