// Schemas of the libpod API's pod routes: the PodSpecGenerator podman --remote sends on `pod create`
// (its infra container's fields are a SpecGenerator's: ports, networks, DNS, hosts, volumes).
import { Type, type Static } from '@sinclair/typebox';
import { SpecGenerator } from './libpod-containers.js';

const Strs = Type.Array(Type.String());
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const PodOnly = Type.Object(
  {
    name: Type.Optional(Type.String()),
    hostname: Type.Optional(Type.String()),
    labels: Type.Optional(Nullable(Type.Record(Type.String(), Type.String()))),
    exit_policy: Type.Optional(Type.String()),
    shared_namespaces: Type.Optional(Nullable(Strs)),
    share_parent: Type.Optional(Nullable(Type.Boolean())),
    pod_create_command: Type.Optional(Nullable(Strs)),
    no_infra: Type.Optional(Type.Boolean()),
    infra_command: Type.Optional(Nullable(Strs)),
    infra_image: Type.Optional(Type.String()),
    infra_name: Type.Optional(Type.String()),
    cpu_period: Type.Optional(Type.Integer()),
    cpu_quota: Type.Optional(Type.Integer()),
  },
  { additionalProperties: true },
);

/** podman's entities.PodSpec body (specgen.PodSpecGenerator), the fields berth reads. */
export const PodSpecGenerator = Type.Composite([SpecGenerator, PodOnly], { additionalProperties: true });
export type PodSpecGenerator = Static<typeof PodSpecGenerator>;

export const PodCreateResponse = Type.Object({ Id: Type.String() });

export const PodListQuery = Type.Object({ filters: Type.Optional(Type.String()) });

export const PodRemoveQuery = Type.Object({ force: Type.Optional(Type.String()), t: Type.Optional(Type.String()), timeout: Type.Optional(Type.String()) });

/** podman's PodRmReport: `Err` is null when the pod went. */
export const PodRemoveReport = Type.Object({ Err: Nullable(Type.String()), Id: Type.String() });
