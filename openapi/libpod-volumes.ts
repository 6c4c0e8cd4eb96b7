// Schemas of the libpod API's volume routes (/libpod/volumes/...): podman's shapes, not Docker's.
import { Type, type Static } from '@sinclair/typebox';
import { Filters, Nullable, QueryBool, StringMap } from './common.js';

/** POST /libpod/volumes/create: podman --remote sends its labels in `Label` (`Labels` is null). */
export const LibpodVolumeCreateBody = Type.Object(
  {
    Name: Type.Optional(Type.String()),
    Driver: Type.Optional(Type.String()),
    Label: Type.Optional(Nullable(StringMap)),
    Labels: Type.Optional(Nullable(StringMap)),
    Options: Type.Optional(Nullable(StringMap)),
    IgnoreIfExists: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: true },
);

/** podman's volume (define.InspectVolumeData as the client reads it). */
export const LibpodVolume = Type.Object({
  Name: Type.String(),
  Driver: Type.String(),
  Mountpoint: Type.String(),
  CreatedAt: Type.String(),
  Labels: StringMap,
  Scope: Type.String(),
  Options: StringMap,
  MountCount: Type.Integer(),
  NeedsCopyUp: Type.Optional(Type.Boolean()),
  NeedsChown: Type.Optional(Type.Boolean()),
});
export type LibpodVolume = Static<typeof LibpodVolume>;

export const LibpodVolumeFiltersQuery = Type.Object({ filters: Type.Optional(Filters) });
export const LibpodVolumeDeleteQuery = Type.Object({ force: Type.Optional(QueryBool) });
export const LibpodVolumePruneResponse = Type.Array(Type.Object({ Id: Type.String(), Size: Type.Integer() }));
