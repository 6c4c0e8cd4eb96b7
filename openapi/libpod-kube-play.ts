// Schemas of the libpod API's play kube routes: the raw YAML body goes in; podman's PlayKubeReport comes
// out (`--down` fills StopReport and RmReport, play the others).
import { Type } from '@sinclair/typebox';

const Strs = Type.Array(Type.String());
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/** entities.PlayKubeReport. */
export const PlayKubeReport = Type.Object({
  Pods: Nullable(
    Type.Array(
      Type.Object({
        ID: Type.String(),
        Containers: Nullable(Strs),
        InitContainers: Nullable(Strs),
        Logs: Nullable(Strs),
        ContainerErrors: Nullable(Strs),
      }),
    ),
  ),
  Volumes: Nullable(Type.Array(Type.Object({ Name: Type.String() }))),
  StopReport: Nullable(Type.Array(Type.Object({ Errs: Nullable(Strs), Id: Type.String() }))),
  RmReport: Nullable(Type.Array(Type.Object({ Err: Nullable(Type.String()), Id: Type.String() }))),
  Secrets: Nullable(Type.Array(Type.Object({ CreateReport: Type.Object({ ID: Type.String() }) }))),
});
