// Request and response schemas of the build endpoints (Docker Engine API, /build: the classic builder).
import { Type, type Static } from '@sinclair/typebox';
import { QueryBool } from './common.js';

const Str = Type.Optional(Type.String());
const Strings = Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())]));

export const BuildQuery = Type.Object({
  dockerfile: Type.Optional(Type.String({ description: 'path in the context; default Dockerfile, else Containerfile' })),
  t: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())], { description: 'name:tag, repeated' })),
  extrahosts: Strings,
  remote: Type.Optional(Type.String({ description: 'URL of a tarball (or of a Dockerfile) to build instead of the body' })),
  q: Type.Optional(QueryBool),
  nocache: Type.Optional(QueryBool),
  cachefrom: Type.Optional(Type.String({ description: 'JSON array of image names' })),
  pull: Str,
  rm: Type.Optional(QueryBool),
  forcerm: Type.Optional(QueryBool),
  memory: Str,
  memswap: Str,
  cpushares: Str,
  cpusetcpus: Str,
  cpusetmems: Str,
  cpuperiod: Str,
  cpuquota: Str,
  buildargs: Type.Optional(Type.String({ description: 'JSON object of build arguments' })),
  shmsize: Str,
  squash: Type.Optional(QueryBool),
  labels: Type.Optional(Type.String({ description: 'JSON object of labels' })),
  networkmode: Str,
  platform: Str,
  target: Str,
  ulimits: Str,
  version: Str,
});

export const BuildPruneQuery = Type.Object({
  'keep-storage': Str,
  all: Type.Optional(QueryBool),
  filters: Str,
});

export const BuildPruneResponse = Type.Object({
  CachesDeleted: Type.Union([Type.Array(Type.String()), Type.Null()]),
  SpaceReclaimed: Type.Integer(),
});

export type BuildQuery = Static<typeof BuildQuery>;
export type BuildPruneQuery = Static<typeof BuildPruneQuery>;
