// Request and response schemas of the image endpoints (Docker Engine API, /images).
import { Type, type Static } from '@sinclair/typebox';
import { Filters, Nullable, QueryBool, StringMap } from './common.js';
// An image's Config is a container config: the same schema.
import { ContainerConfig } from './containers.js';

export const ImageListQuery = Type.Object({
  all: Type.Optional(QueryBool),
  digests: Type.Optional(QueryBool),
  filters: Type.Optional(Filters),
  filter: Type.Optional(Type.String({ description: 'Before API 1.41: one more reference pattern' })),
});
export const ImageNameQuery = Type.Object({ names: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])) });
export const ImageLoadQuery = Type.Object({ quiet: Type.Optional(QueryBool) });
export const ImageTagQuery = Type.Object({ repo: Type.String({ minLength: 1 }), tag: Type.Optional(Type.String()) });
export const ImageDeleteQuery = Type.Object({ force: Type.Optional(QueryBool), noprune: Type.Optional(QueryBool) });
export const ImagePruneQuery = Type.Object({ filters: Type.Optional(Filters) });
export const ImageCreateQuery = Type.Object({
  fromImage: Type.Optional(Type.String({ description: 'pull: not available yet' })),
  fromSrc: Type.Optional(Type.String({ description: '`-` (the body is the tarball) or an http(s) URL to download it from' })),
  repo: Type.Optional(Type.String()),
  tag: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
  changes: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())], { description: 'Dockerfile instructions, repeated' })),
  platform: Type.Optional(Type.String()),
});

export const ImageSummary = Type.Object({
  Id: Type.String(),
  ParentId: Type.String(),
  RepoTags: Type.Array(Type.String()),
  RepoDigests: Type.Array(Type.String()),
  Created: Type.Integer(),
  Size: Type.Integer(),
  SharedSize: Type.Integer(),
  VirtualSize: Type.Optional(Type.Integer({ description: 'API < 1.44' })),
  Labels: Nullable(StringMap),
  Containers: Type.Integer(),
});

export const ImageInspect = Type.Object({
  Id: Type.String(),
  RepoTags: Type.Array(Type.String()),
  RepoDigests: Type.Array(Type.String()),
  Parent: Type.String(),
  Comment: Type.String(),
  Created: Type.String(),
  Container: Type.Optional(Type.String({ description: 'API < 1.45' })),
  ContainerConfig: Type.Optional(Nullable(ContainerConfig)),
  DockerVersion: Type.String(),
  Author: Type.String(),
  Config: Nullable(ContainerConfig),
  Architecture: Type.String(),
  Variant: Type.Optional(Type.String()),
  Os: Type.String(),
  OsVersion: Type.Optional(Type.String()),
  Size: Type.Integer(),
  VirtualSize: Type.Optional(Type.Integer({ description: 'API < 1.44' })),
  GraphDriver: Type.Object({ Name: Type.String(), Data: Nullable(StringMap) }),
  RootFS: Type.Object({ Type: Type.String(), Layers: Type.Array(Type.String()) }),
  Metadata: Type.Object({ LastTagTime: Type.String() }),
});

export const HistoryItem = Type.Object({
  Id: Type.String(),
  Created: Type.Integer(),
  CreatedBy: Type.String(),
  Tags: Nullable(Type.Array(Type.String())),
  Size: Type.Integer(),
  Comment: Type.String(),
});

export const DeleteItem = Type.Object({ Untagged: Type.Optional(Type.String()), Deleted: Type.Optional(Type.String()) });
export const ImagePruneResponse = Type.Object({ ImagesDeleted: Nullable(Type.Array(DeleteItem)), SpaceReclaimed: Type.Integer() });

export type ImageSummary = Static<typeof ImageSummary>;
export type ImageInspect = Static<typeof ImageInspect>;
export type HistoryItem = Static<typeof HistoryItem>;
export type DeleteItem = Static<typeof DeleteItem>;
export type ImagePruneResponse = Static<typeof ImagePruneResponse>;
export type ImageListQuery = Static<typeof ImageListQuery>;
export type ImageTagQuery = Static<typeof ImageTagQuery>;
export type ImageDeleteQuery = Static<typeof ImageDeleteQuery>;
export type ImageNameQuery = Static<typeof ImageNameQuery>;
export type ImageLoadQuery = Static<typeof ImageLoadQuery>;
export type ImagePruneQuery = Static<typeof ImagePruneQuery>;
export type ImageCreateQuery = Static<typeof ImageCreateQuery>;
