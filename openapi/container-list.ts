// GET /containers/json and POST /containers/prune: the query and what is sent back.
import { Type } from '@sinclair/typebox';
import { Filters, Nullable, StringMap } from './common.js';

const Open = { additionalProperties: true };

/** One entry of `docker ps`: the fields dockerd sends, nested objects open (their fields vary by mode). */
export const ContainerSummary = Type.Object(
  {
    Id: Type.String(),
    Names: Type.Array(Type.String()),
    Image: Type.String(),
    ImageID: Type.String(),
    Command: Type.String(),
    Created: Type.Integer(),
    Ports: Type.Array(
      Type.Object({ IP: Type.Optional(Type.String()), PrivatePort: Type.Integer(), PublicPort: Type.Optional(Type.Integer()), Type: Type.String() }, Open),
    ),
    Labels: StringMap,
    State: Type.String(),
    Status: Type.String(),
    HostConfig: Type.Object({ NetworkMode: Type.String() }, Open),
    NetworkSettings: Type.Object({ Networks: Type.Record(Type.String(), Type.Object({}, Open)) }, Open),
    Mounts: Type.Array(Type.Object({}, Open)),
    SizeRw: Type.Optional(Type.Integer()),
    SizeRootFs: Type.Optional(Type.Integer()),
  },
  Open,
);

export const ContainerPruneQuery = Type.Object({ filters: Type.Optional(Filters) });
export const ContainerPruneResponse = Type.Object({ ContainersDeleted: Nullable(Type.Array(Type.String())), SpaceReclaimed: Type.Integer() });
