// docker cp and podman cp. HEAD and GET: a path's stat (and contents); PUT: a tar extracted into a directory.
// The stat header differs: Docker's `linkTarget` is a symlink's raw target (else empty); libpod's is the
// path resolved in the container (a link followed to its end, named after it), plus `isDir` — podman's
// client copies from that path and decides directory semantics with isDir.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import type { Api } from '../../runtime/api.js';
import { ArchiveQuery, ContainerIdParams as params, ExtractQuery } from '../../openapi/containers.js';
import { parseBool } from '../query.js';
import type { Family, VerbOptions } from './family.js';

type PathStat = Awaited<ReturnType<Api['containers']['statPath']>>;

const pathStatHeader = (stat: object) => Buffer.from(JSON.stringify(stat)).toString('base64');

// Go's os.FileMode type bits.
const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;
const hasBit = (mode: number, bit: number) => Math.floor(mode / bit) % 2 === 1;
/** Symlinks followed at most (Linux's MAXSYMLINKS). */
const MAX_LINKS = 40;

/** Go's filepath.Base: the last element, trailing slashes dropped (`/` for a root, `.` for nothing). */
function goBase(path: string): string {
  if (path === '') return '.';
  const trimmed = path.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/**
 * libpod's stat of `path` in a running container: the path as given, or for a symlink its end
 * (followed, named after it; a dangling one is a 404), with the client's trailing slash.
 */
async function libpodStat(api: Api, id: string, path: string, given: PathStat) {
  let resolved = posix.normalize(posix.join('/', path)).replace(/(.)\/+$/, '$1');
  // `link/` is the link itself to podman (then followed), where Docker's stat already followed it.
  const stat = path.endsWith('/') && resolved !== '/' ? await api.containers.statPath(id, resolved) : given;
  let end = stat;
  for (let hops = 0; hasBit(end.mode, MODE_SYMLINK); hops++) {
    if (hops >= MAX_LINKS) break;
    resolved = posix.resolve(posix.dirname(resolved), end.linkTarget);
    end = await api.containers.statPath(id, resolved); // a dangling link: its 404
  }
  const followed = end !== stat;
  const linkTarget = !followed ? path : path.endsWith('/') && resolved !== '/' ? `${resolved}/` : resolved;
  return {
    name: goBase(followed ? resolved : path),
    size: stat.size,
    mode: stat.mode,
    mtime: stat.mtime,
    isDir: hasBit(end.mode, MODE_DIR),
    linkTarget,
  };
}

const statHeader = async (api: Api, family: Family, id: string, path: string, stat: PathStat) =>
  pathStatHeader(family === 'libpod' ? await libpodStat(api, id, path, stat) : stat);

export const archiveRoutes: FastifyPluginAsyncTypebox<VerbOptions> = async (app, { api, family }) => {
  app.head('/containers/:id/archive', { schema: { params, querystring: ArchiveQuery } }, async (request, reply) => {
    const { id } = request.params;
    const path = request.query.path ?? '';
    const stat = await api.containers.statPath(id, path);
    return reply
      .header('X-Docker-Container-Path-Stat', await statHeader(api, family, id, path, stat))
      .header('content-type', 'application/x-tar')
      .send();
  });

  app.get('/containers/:id/archive', { schema: { params, querystring: ArchiveQuery } }, async (request, reply) => {
    const { id } = request.params;
    const path = request.query.path ?? '';
    const { stat, tar } = await api.containers.archive(id, path);
    let header: string;
    try {
      header = await statHeader(api, family, id, path, stat);
    } catch (err) {
      tar.destroy();
      throw err;
    }
    return reply.header('X-Docker-Container-Path-Stat', header).header('content-type', 'application/x-tar').send(tar);
  });

  app.put('/containers/:id/archive', { schema: { params, querystring: ExtractQuery } }, async (request, reply) => {
    const q = request.query;
    const tar = request.body instanceof Readable ? request.body : undefined;
    await api.containers.extract(request.params.id, q.path ?? '', tar, {
      // podman chowns by default (its cp -a), to the container's user or root: dockerd keeps the archive's owners.
      copyUIDGID: parseBool(q.copyUIDGID, family === 'libpod'),
      rootWithoutUser: family === 'libpod',
      // podman sends the name in lower case.
      noOverwriteDirNonDir: parseBool(family === 'libpod' ? (q.noOverwriteDirNonDir ?? q.nooverwritedirnondir) : q.noOverwriteDirNonDir),
    });
    return reply.code(200).send();
  });
};
