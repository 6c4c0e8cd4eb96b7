// Request and response schemas of the exec endpoints (Docker Engine API, /containers/{id}/exec, /exec).
import { Type, type Static } from '@sinclair/typebox';
import { Nullable } from './common.js';

const Loose = { additionalProperties: true } as const;
const StrList = Nullable(Type.Array(Type.String()));

export const ExecCreateBody = Type.Object(
  {
    Cmd: Type.Optional(StrList),
    Env: Type.Optional(StrList),
    User: Type.Optional(Type.String()),
    WorkingDir: Type.Optional(Type.String()),
    Privileged: Type.Optional(Type.Boolean()),
    Tty: Type.Optional(Type.Boolean()),
    AttachStdin: Type.Optional(Type.Boolean()),
    AttachStdout: Type.Optional(Type.Boolean()),
    AttachStderr: Type.Optional(Type.Boolean()),
    Detach: Type.Optional(Type.Boolean()),
    DetachKeys: Type.Optional(Type.String()),
    ConsoleSize: Type.Optional(Nullable(Type.Array(Type.Integer({ minimum: 0 }), { minItems: 2, maxItems: 2 }))),
  },
  Loose, // docker-py sends `Container`, dockerode `stdin`/`hijack`: ignored
);
export type ExecCreateBody = Static<typeof ExecCreateBody>;

export const ExecStartBody = Type.Object(
  {
    Detach: Type.Optional(Type.Boolean()),
    Tty: Type.Optional(Type.Boolean()),
    ConsoleSize: Type.Optional(Nullable(Type.Array(Type.Integer({ minimum: 0 }), { minItems: 2, maxItems: 2 }))),
    h: Type.Optional(Type.Integer({ minimum: 0 })), // podman
    w: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  Loose,
);
export type ExecStartBody = Static<typeof ExecStartBody>;

export const ExecCreateResponse = Type.Object({ Id: Type.String() });

export const ExecIdParams = Type.Object({ id: Type.String() });

/** GET /exec/{id}/json, as dockerd 20.10 sends it (ProcessConfig.user only when one was given). */
export const ExecInspectResponse = Type.Object({
  ID: Type.String(),
  Running: Type.Boolean(),
  ExitCode: Nullable(Type.Integer()),
  ProcessConfig: Type.Object({
    tty: Type.Boolean(),
    entrypoint: Type.String(),
    arguments: Type.Array(Type.String()),
    privileged: Type.Boolean(),
    user: Type.Optional(Type.String()),
  }),
  OpenStdin: Type.Boolean(),
  OpenStderr: Type.Boolean(),
  OpenStdout: Type.Boolean(),
  CanRemove: Type.Boolean(),
  ContainerID: Type.String(),
  DetachKeys: Type.String(),
  Pid: Type.Integer(),
});
