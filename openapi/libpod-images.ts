// Schemas of the libpod API's local image routes (list, inspect, history, tree, tag, untag, remove,
// prune, load, save, import): podman's shapes, as podman 4.3.1's service answers.
import { Type, type Static } from '@sinclair/typebox';

const Open = { additionalProperties: true };
const Names = Type.Array(Type.String());
const StringMap = Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()]);
const Flag = Type.Optional(Type.String());
const Repeated = Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())]));

export const LibpodImageListQuery = Type.Object({ all: Flag, filters: Flag }, Open);

/** One image of GET /libpod/images/json: ID without `sha256:`, full names, Created in unix seconds. */
export const LibpodImageSummary = Type.Object({
  Id: Type.String(),
  ParentId: Type.String(),
  RepoTags: Type.Union([Names, Type.Null()]),
  RepoDigests: Type.Union([Names, Type.Null()]),
  Created: Type.Integer(),
  Size: Type.Integer(),
  SharedSize: Type.Integer(),
  VirtualSize: Type.Integer(),
  Labels: StringMap,
  Containers: Type.Integer(),
  Names: Type.Union([Names, Type.Null()]),
  Digest: Type.String(),
  History: Type.Union([Names, Type.Null()]),
});
export type LibpodImageSummary = Static<typeof LibpodImageSummary>;

/** GET /libpod/images/{name}/json: podman's ImageData. */
export const LibpodImageData = Type.Object(
  {
    Id: Type.String(),
    Digest: Type.String(),
    RepoTags: Names,
    RepoDigests: Names,
    Parent: Type.String(),
    Comment: Type.String(),
    Created: Type.String(),
    Config: Type.Object({}, Open),
    Version: Type.String(),
    Author: Type.String(),
    Architecture: Type.String(),
    Os: Type.String(),
    Size: Type.Integer(),
    VirtualSize: Type.Integer(),
    GraphDriver: Type.Object({ Name: Type.String(), Data: Type.Record(Type.String(), Type.String()) }),
    RootFS: Type.Object({ Type: Type.String(), Layers: Names }),
    Labels: StringMap,
    Annotations: Type.Record(Type.String(), Type.String()),
    ManifestType: Type.String(),
    User: Type.String(),
    History: Type.Array(Type.Object({}, Open)),
    NamesHistory: Names,
  },
  Open,
);
export type LibpodImageData = Static<typeof LibpodImageData>;

export const LibpodHistoryItem = Type.Object({
  Id: Type.String(),
  Created: Type.Integer(),
  CreatedBy: Type.String(),
  Tags: Type.Union([Names, Type.Null()]),
  Size: Type.Integer(),
  Comment: Type.String(),
});
export type LibpodHistoryItem = Static<typeof LibpodHistoryItem>;

export const LibpodImageTree = Type.Object({ Tree: Type.String() });

export const LibpodTagQuery = Type.Object({ repo: Type.Optional(Type.String()), tag: Type.Optional(Type.String()) }, Open);

export const LibpodImageRemoveQuery = Type.Object({ images: Repeated, all: Flag, force: Flag, ignore: Flag }, Open);

/** DELETE /libpod/images/remove: always 200; the client exits with ExitCode. Empty lists are left out, as podman's omitempty. */
export const LibpodImageRemoveReport = Type.Object({
  Deleted: Type.Optional(Names),
  Untagged: Type.Optional(Names),
  ExitCode: Type.Integer(),
  Errors: Type.Union([Names, Type.Null()]),
});
export type LibpodImageRemoveReport = Static<typeof LibpodImageRemoveReport>;

export const LibpodImagePruneQuery = Type.Object({ all: Flag, external: Flag, filters: Flag }, Open);
export const LibpodImagePruneReport = Type.Array(Type.Object({ Id: Type.String(), Size: Type.Integer() }));

export const LibpodLoadReport = Type.Object({ Names: Names });

export const LibpodExportQuery = Type.Object(
  {
    format: Type.Optional(Type.Union([Type.Literal('docker-archive'), Type.Literal('oci-archive'), Type.Literal('oci-dir'), Type.Literal('docker-dir')])),
    references: Repeated,
    compress: Flag,
  },
  Open,
);

export const LibpodImportQuery = Type.Object(
  { reference: Flag, message: Flag, changes: Repeated, url: Flag, os: Flag, architecture: Flag, variant: Flag },
  Open,
);
export const LibpodImportReport = Type.Object({ Id: Type.String() });

/** GET /libpod/images/{name}/changes: Kind 0 modified, 1 added, 2 deleted. */
export const LibpodChange = Type.Object({ Path: Type.String(), Kind: Type.Integer() });
