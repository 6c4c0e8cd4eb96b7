// Schemas of the libpod API's secret routes (/libpod/secrets/...). The create body is the secret's raw
// bytes (no schema: the route reads the stream).
import { Type, type Static } from '@sinclair/typebox';
import { Filters, Nullable, QueryBool, StringMap } from './common.js';

/** A secret as podman's SecretInfoReport: the data never leaves the engine. */
export const LibpodSecret = Type.Object({
  ID: Type.String({ description: '25 hex digits' }),
  CreatedAt: Type.String(),
  UpdatedAt: Type.String(),
  Spec: Type.Object({
    Name: Type.String(),
    Driver: Type.Object({ Name: Type.String(), Options: StringMap }),
    Labels: Nullable(StringMap),
  }),
});
export type LibpodSecret = Static<typeof LibpodSecret>;

export const LibpodSecretCreateQuery = Type.Object({
  name: Type.String(),
  driver: Type.Optional(Type.String()),
  driveropts: Type.Optional(Type.String({ description: 'JSON map (the file driver takes none)' })),
  labels: Type.Optional(Type.String({ description: 'JSON map' })),
});
export const LibpodSecretCreateResponse = Type.Object({ ID: Type.String() });
export const LibpodSecretFiltersQuery = Type.Object({ filters: Type.Optional(Filters) });
export const LibpodSecretDeleteQuery = Type.Object({ all: Type.Optional(QueryBool) });
