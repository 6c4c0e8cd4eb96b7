// Schemas of the libpod API's network routes (/libpod/networks/...): netavark's network JSON, as podman
// answers it, and the bodies podman --remote sends.
import { Type, type Static } from '@sinclair/typebox';
import { Filters, Nullable, QueryBool, StringMap } from './common.js';

const LeaseRange = Type.Object({ start_ip: Type.Optional(Type.String()), end_ip: Type.Optional(Type.String()) });
const Subnet = Type.Object({
  subnet: Type.String(),
  gateway: Type.Optional(Type.String()),
  lease_range: Type.Optional(LeaseRange),
});

/** A network (netavark's types.Network): labels and options only when it has some. */
export const LibpodNetwork = Type.Object({
  name: Type.String(),
  id: Type.String(),
  driver: Type.String(),
  network_interface: Type.String(),
  created: Type.String(),
  subnets: Type.Array(Subnet),
  ipv6_enabled: Type.Boolean(),
  internal: Type.Boolean(),
  dns_enabled: Type.Boolean(),
  labels: Type.Optional(StringMap),
  options: Type.Optional(StringMap),
  ipam_options: StringMap,
});
export type LibpodNetwork = Static<typeof LibpodNetwork>;

/** POST /libpod/networks/create: the client fills the subnets (and their lease ranges) itself. */
export const LibpodNetworkCreateBody = Type.Object(
  {
    name: Type.Optional(Type.String()),
    driver: Type.Optional(Type.String()),
    network_interface: Type.Optional(Type.String()),
    subnets: Type.Optional(
      Nullable(Type.Array(Type.Object({ subnet: Type.String(), gateway: Type.Optional(Type.String()), lease_range: Type.Optional(LeaseRange) }))),
    ),
    ipv6_enabled: Type.Optional(Type.Boolean()),
    internal: Type.Optional(Type.Boolean()),
    dns_enabled: Type.Optional(Type.Boolean()),
    labels: Type.Optional(Nullable(StringMap)),
    options: Type.Optional(Nullable(StringMap)),
    ipam_options: Type.Optional(Nullable(StringMap)),
  },
  { additionalProperties: true },
);

/** connect's body is lower-case (types.PerNetworkOptions + container) ... */
export const LibpodNetworkConnectBody = Type.Object(
  {
    container: Type.String(),
    aliases: Type.Optional(Nullable(Type.Array(Type.String()))),
    static_ips: Type.Optional(Nullable(Type.Array(Type.String()))),
    static_mac: Type.Optional(Type.String()),
    interface_name: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);
/** ... disconnect's Docker-cased. */
export const LibpodNetworkDisconnectBody = Type.Object({ Container: Type.String(), Force: Type.Optional(Type.Boolean()) }, { additionalProperties: true });

export const LibpodNetworkFiltersQuery = Type.Object({ filters: Type.Optional(Filters) });
export const LibpodNetworkDeleteQuery = Type.Object({ force: Type.Optional(QueryBool) });
export const LibpodNetworkRmReport = Type.Array(Type.Object({ Name: Type.String(), Err: Nullable(Type.String()) }));
export const LibpodNetworkPruneReport = Type.Array(Type.Object({ Name: Type.String(), Error: Nullable(Type.String()) }));
