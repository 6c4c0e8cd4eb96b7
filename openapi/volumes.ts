// Request and response schemas of the volume endpoints (Docker Engine API, /volumes) and of volumes
// in `GET /system/df`.
import { Type, type Static } from '@sinclair/typebox';
import { Filters, Nullable, QueryBool, StringMap } from './common.js';

export const VolumeCreateBody = Type.Object(
  {
    Name: Type.Optional(Type.String()),
    Driver: Type.Optional(Type.String()),
    DriverOpts: Type.Optional(
      Type.Union([StringMap, Type.Null()], { description: 'local driver: type, device, o (as mount(8) takes them), size (refused: no quota support)' }),
    ),
    Labels: Type.Optional(Type.Union([StringMap, Type.Null()])),
  },
  { additionalProperties: true },
);
export const VolumeFiltersQuery = Type.Object({ filters: Type.Optional(Filters) });
export const VolumeDeleteQuery = Type.Object({ force: Type.Optional(QueryBool) });

export const VolumeUsageData = Type.Object({
  Size: Type.Integer({ description: 'bytes in the volume (-1: not computed)' }),
  RefCount: Type.Integer({ description: 'containers that reference the volume' }),
});

export const Volume = Type.Object({
  CreatedAt: Type.String(),
  Driver: Type.String(),
  Labels: Nullable(StringMap),
  Mountpoint: Type.String(),
  Name: Type.String(),
  Options: Nullable(StringMap),
  Scope: Type.String(),
  UsageData: Type.Optional(VolumeUsageData),
});

export const VolumeList = Type.Object({ Volumes: Type.Array(Volume), Warnings: Type.Array(Type.String()) });
export const VolumePruneResponse = Type.Object({ VolumesDeleted: Type.Array(Type.String()), SpaceReclaimed: Type.Integer() });

export type Volume = Static<typeof Volume>;
