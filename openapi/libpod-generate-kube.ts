// Schemas of the libpod API's kube generation route (GET /generate/kube).
import { Type, type Static } from '@sinclair/typebox';

export const GenerateKubeQuery = Type.Object({
  /** Containers, pods and volumes, by name or ID (the parameter repeats). */
  names: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
  /** Go's strconv.ParseBool text; anything else is podman's 400. */
  service: Type.Optional(Type.String()),
});
export type GenerateKubeQuery = Static<typeof GenerateKubeQuery>;
