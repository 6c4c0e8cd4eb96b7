// libpod: images (list, inspect, exists, history, tree, changes, tag, untag, remove, prune, load, save, import).
// Names follow podman's rules (runtime: images.libpod): a name without registry is `localhost/<name>`
// when stored, and a short name finds a local image in any registry.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { EngineError, referenceGlob, type Api, type ImageFilters, type LibpodImage } from '../../../runtime/api.js';
import {
  LibpodExportQuery,
  LibpodHistoryItem,
  LibpodChange,
  LibpodImageData,
  LibpodImageListQuery,
  LibpodImagePruneQuery,
  LibpodImagePruneReport,
  LibpodImageRemoveQuery,
  LibpodImageRemoveReport,
  LibpodImageSummary,
  LibpodImageTree,
  LibpodImportQuery,
  LibpodImportReport,
  LibpodLoadReport,
  LibpodTagQuery,
} from '../../../openapi/libpod-images.js';
import { boolFilter, parseBool, parseFilters, type FilterMap, repeated } from '../../query.js';
import { clientGoneSignal } from '../../streams.js';
import { historyItem, imageData, imageSummary } from '../views/images.js';

const LIST_FILTERS = ['before', 'dangling', 'label', 'reference', 'since', 'until', 'id', 'containers', 'readonly', 'intermediate', 'manifest'] as const;
const PRUNE_FILTERS = ['dangling', 'label', 'until'] as const;
const NameParams = Type.Object({ name: Type.String() });
const RestParams = Type.Object({ '*': Type.String() });
const ByNameQuery = Type.Object({ whatrequires: Type.Optional(Type.String()) }, { additionalProperties: true });

export const imageRoutes: FastifyPluginAsyncTypebox<{ api: Api }> = async (app, { api }) => {
  const images = api.images.libpod;

  app.get(
    '/images/json',
    { schema: { summary: 'List images (libpod)', querystring: LibpodImageListQuery, response: { 200: Type.Array(LibpodImageSummary) } } },
    async (request) => {
      const filters = parseFilters(request.query.filters, LIST_FILTERS);
      const listed = images.list(parseBool(request.query.all), imageFilters(filters));
      return listed.filter((d) => matchesLibpodFilters(d, filters)).map(imageSummary);
    },
  );

  // Inspect, exists, history, tree and changes: the name may hold slashes (sent escaped, or raw by some calls).
  const ByName = Type.Union([LibpodImageData, Type.Array(LibpodHistoryItem), LibpodImageTree, Type.Array(LibpodChange)]);
  app.get(
    '/images/*',
    {
      schema: {
        summary: 'Inspect an image, its history or tree; whether it exists (libpod)',
        params: RestParams,
        querystring: ByNameQuery,
        response: { 200: ByName, 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const rest = request.params['*'];
      const slash = rest.lastIndexOf('/');
      const [name, operation] = slash === -1 ? [rest, ''] : [rest.slice(0, slash), rest.slice(slash + 1)];
      switch (operation) {
        case 'json':
          return imageData(images.inspect(name));
        case 'exists':
          images.exists(name);
          return reply.code(204).send(null);
        case 'history':
          return images.history(name).map(historyItem);
        case 'tree':
          return { Tree: images.tree(name, parseBool(request.query.whatrequires)) };
        case 'changes':
          return images.changes(name);
        default:
          return reply.callNotFound();
      }
    },
  );

  // tag and untag answer 201 with a one-byte body, as podman.
  const created = '\n';
  app.post('/images/:name/tag', { schema: { summary: 'Tag an image (libpod)', params: NameParams, querystring: LibpodTagQuery } }, async (request, reply) => {
    images.tag(request.params.name, request.query.repo ?? '', request.query.tag || undefined);
    return reply.code(201).header('content-type', 'text/plain; charset=us-ascii').send(created);
  });
  app.post(
    '/images/:name/untag',
    { schema: { summary: 'Untag an image (libpod)', params: NameParams, querystring: LibpodTagQuery } },
    async (request, reply) => {
      images.untag(request.params.name, request.query.repo ?? '', request.query.tag || undefined);
      return reply.code(201).header('content-type', 'text/plain; charset=us-ascii').send(created);
    },
  );

  // podman rmi: failures are inside the 200, the client exits with ExitCode.
  app.delete(
    '/images/remove',
    { schema: { summary: 'Remove images (libpod)', querystring: LibpodImageRemoveQuery, response: { 200: LibpodImageRemoveReport } } },
    async (request) => {
      const q = request.query;
      const r = await images.remove(repeated(q.images), { all: parseBool(q.all), force: parseBool(q.force), ignore: parseBool(q.ignore) });
      return {
        ...(r.deleted.length > 0 ? { Deleted: r.deleted } : {}),
        ...(r.untagged.length > 0 ? { Untagged: r.untagged } : {}),
        ExitCode: r.exitCode,
        Errors: r.errors.length > 0 ? r.errors : null,
      };
    },
  );

  app.post(
    '/images/prune',
    { schema: { summary: 'Remove unused images (libpod)', querystring: LibpodImagePruneQuery, response: { 200: LibpodImagePruneReport } } },
    async (request) => {
      const filters = parseFilters(request.query.filters, PRUNE_FILTERS);
      const removed = await images.prune(parseBool(request.query.all), { label: filters.label, until: filters.until?.[0] });
      return removed.map((r) => ({ Id: r.id.slice('sha256:'.length), Size: r.size }));
    },
  );

  app.post('/images/load', { schema: { summary: 'Load images from an archive (libpod)', response: { 200: LibpodLoadReport } } }, async (request, reply) => {
    const body = request.body;
    if (!(body instanceof Readable)) throw new EngineError('invalid', 'expected an image archive as the request body');
    return { Names: await images.load(body, clientGoneSignal(reply)) };
  });

  // podman save: every format comes as a tar (the client unpacks the dir formats); docker-dir is a
  // docker-archive, as podman 4.3.1 sends it.
  app.get('/images/export', { schema: { summary: 'Save images (libpod)', querystring: LibpodExportQuery } }, async (request, reply) => {
    const references = repeated(request.query.references);
    if (references.length === 0) throw new EngineError('invalid', 'no image references given');
    const format = request.query.format ?? 'docker-archive';
    const layout = format === 'oci-archive' || format === 'oci-dir' ? 'oci' : 'docker';
    return reply.header('content-type', 'application/x-tar').send(images.save(references, layout));
  });

  app.post(
    '/images/import',
    { schema: { summary: 'Import a tarball as an image (libpod)', querystring: LibpodImportQuery, response: { 200: LibpodImportReport } } },
    async (request, reply) => {
      const q = request.query;
      const body = request.body;
      const platform = q.os || q.architecture ? [q.os || 'linux', q.architecture, q.variant].filter(Boolean).join('/') : undefined;
      const id = await images.import({
        source: q.url || '-',
        body: body instanceof Readable ? body : undefined,
        repo: q.reference || undefined,
        message: q.message || 'imported from tarball', // podman's comment for an import without a message
        changes: repeated(q.changes),
        platform,
        signal: clientGoneSignal(reply),
      });
      return { Id: id };
    },
  );
};

function imageFilters(filters: FilterMap): ImageFilters {
  return {
    dangling: boolFilter(filters, 'dangling'),
    before: filters.before?.[0],
    since: filters.since?.[0],
    until: filters.until?.[0],
  };
}

/**
 * The filters podman matches its own way: values of one filter are alternatives (the 4.3.1 client
 * even splits `label=k=v` into `k` and `v`); reference against any of the full names; id; containers.
 */
function matchesLibpodFilters(d: LibpodImage, filters: FilterMap): boolean {
  const labels = d.config.config?.Labels ?? {};
  if (filters.label?.length && !filters.label.some((l) => labelMatches(labels, l))) return false;
  if (filters.reference?.length && !filters.reference.some((p) => d.names.some((n) => referenceMatches(p, n)))) return false;
  if (filters.id?.length && !filters.id.some((id) => d.image.id.slice(7).startsWith(id.replace(/^sha256:/, '')))) return false;
  const containers = filters.containers?.at(-1);
  if (containers !== undefined && d.containers > 0 !== parseBool(containers)) return false;
  return true;
}

function labelMatches(labels: Record<string, string>, wanted: string): boolean {
  const eq = wanted.indexOf('=');
  return eq < 0 ? wanted in labels : labels[wanted.slice(0, eq)] === wanted.slice(eq + 1);
}

/** A glob against a full name (`localhost/busybox:latest`), its repository, or either without the registry. */
function referenceMatches(pattern: string, name: string): boolean {
  const re = referenceGlob(pattern);
  const repo = name.slice(0, name.lastIndexOf(':'));
  const forms = [name, repo];
  const slash = name.indexOf('/');
  if (slash !== -1) forms.push(name.slice(slash + 1), repo.slice(slash + 1));
  for (const f of [...forms]) if (f.startsWith('library/')) forms.push(f.slice('library/'.length));
  return forms.some((f) => re.test(f));
}
