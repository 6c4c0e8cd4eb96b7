// docker-compose 1.x negotiates the engine's newest API version (docker-py's `auto`), yet reads image
// fields that API 1.45 removed: recreating a service reads the image's ContainerConfig.Volumes, a
// KeyError without it (dockerd 25+ breaks compose 1.x so; with dockerd 20.10, which it was made for,
// it negotiated 1.41). Its requests name it in the User-Agent ("docker-compose/1.29.2 docker-py/...").
import type { FastifyRequest } from 'fastify';
import { apiVersion } from '../app.js';
import { versionBefore } from '../versioning.js';

const COMPOSE_V1 = /^docker-compose\/1\./;

/** The API version whose image inspect shape the request gets: at most 1.41 for compose 1.x. */
export function imageInspectVersion(request: FastifyRequest): string {
  const version = apiVersion(request);
  const composeV1 = COMPOSE_V1.test(request.headers['user-agent'] ?? '');
  return composeV1 && !versionBefore(version, '1.41') ? '1.41' : version;
}
