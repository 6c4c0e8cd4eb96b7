// Schemas of the libpod API's system routes: GET /libpod/version and /libpod/info, and its error body.
import { Type, type Static } from '@sinclair/typebox';
import { SystemVersion } from './system.js';

const Open = { additionalProperties: true };

/** `{"cause","message","response"}`: what every libpod error answers. */
export const LibpodError = Type.Object({ cause: Type.String(), message: Type.String(), response: Type.Integer() });

/** GET /libpod/version: Docker's version shape, the first component podman's engine (the client reads its APIVersion). */
export const LibpodVersion = SystemVersion;

const Runtime = Type.Object({ name: Type.String(), path: Type.String(), package: Type.String(), version: Type.String() });

/** GET /libpod/info (podman's define.Info): what berth knows of each part; podman has more fields. */
export const LibpodInfo = Type.Object({
  host: Type.Object(
    {
      arch: Type.String(),
      cgroupManager: Type.String(),
      cgroupVersion: Type.String(),
      conmon: Type.Object({ package: Type.String(), path: Type.String(), version: Type.String() }),
      cpus: Type.Integer(),
      distribution: Type.Object({ distribution: Type.String(), version: Type.String() }),
      eventLogger: Type.String(),
      hostname: Type.String(),
      kernel: Type.String(),
      logDriver: Type.String(),
      memTotal: Type.Integer(),
      networkBackend: Type.String(),
      ociRuntime: Runtime,
      os: Type.String(),
      security: Type.Object(
        { rootless: Type.Boolean(), seccompEnabled: Type.Boolean(), apparmorEnabled: Type.Boolean(), selinuxEnabled: Type.Boolean() },
        Open,
      ),
    },
    Open,
  ),
  store: Type.Object(
    {
      graphDriverName: Type.String(),
      graphRoot: Type.String(),
      runRoot: Type.String(),
      volumePath: Type.String(),
      containerStore: Type.Object({ number: Type.Integer(), paused: Type.Integer(), running: Type.Integer(), stopped: Type.Integer() }),
      imageStore: Type.Object({ number: Type.Integer() }),
    },
    Open,
  ),
  registries: Type.Object({}, Open),
  plugins: Type.Object({ volume: Type.Array(Type.String()), network: Type.Array(Type.String()), log: Type.Array(Type.String()), authorization: Type.Null() }),
  version: Type.Object({
    APIVersion: Type.String(),
    Version: Type.String(),
    GoVersion: Type.String(),
    GitCommit: Type.String(),
    BuiltTime: Type.String(),
    Built: Type.Integer(),
    OsArch: Type.String(),
    Os: Type.String(),
  }),
});

export type LibpodVersion = Static<typeof LibpodVersion>;
export type LibpodInfo = Static<typeof LibpodInfo>;
