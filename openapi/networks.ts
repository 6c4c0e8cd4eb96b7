// Request and response schemas of the network endpoints (Docker Engine API, /networks), and the
// container create's NetworkingConfig.
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, StringMap } from './common.js';

const Loose = { additionalProperties: true } as const;

export const IPAMConfig = Type.Object(
  // Clients send unset fields as null (docker-py's IPAMPool): dockerd reads them as empty.
  {
    Subnet: Type.Optional(Nullable(Type.String())),
    Gateway: Type.Optional(Nullable(Type.String())),
    IPRange: Type.Optional(Nullable(Type.String())),
    AuxiliaryAddresses: Type.Optional(Nullable(StringMap)),
  },
  Loose,
);

export const NetworkCreateBody = Type.Object(
  {
    Name: Type.String(),
    CheckDuplicate: Type.Optional(Type.Boolean()),
    Driver: Type.Optional(Type.String()),
    Scope: Type.Optional(Type.String()),
    Internal: Type.Optional(Type.Boolean()),
    Attachable: Type.Optional(Type.Boolean()),
    Ingress: Type.Optional(Type.Boolean()),
    EnableIPv6: Type.Optional(Nullable(Type.Boolean())),
    EnableIPv4: Type.Optional(Nullable(Type.Boolean())),
    IPAM: Type.Optional(
      Nullable(
        Type.Object(
          {
            Driver: Type.Optional(Nullable(Type.String())),
            Config: Type.Optional(Nullable(Type.Array(IPAMConfig))),
            Options: Type.Optional(Nullable(StringMap)),
          },
          Loose,
        ),
      ),
    ),
    Options: Type.Optional(Nullable(StringMap)),
    Labels: Type.Optional(Nullable(StringMap)),
  },
  Loose,
);

/** One network of a container: as create's NetworkingConfig and as the connect body give it. */
export const EndpointSettings = Type.Object(
  {
    IPAMConfig: Type.Optional(
      Nullable(
        Type.Object(
          {
            IPv4Address: Type.Optional(Nullable(Type.String())),
            IPv6Address: Type.Optional(Nullable(Type.String())),
            LinkLocalIPs: Type.Optional(Nullable(Type.Array(Type.String()))),
          },
          Loose,
        ),
      ),
    ),
    Aliases: Type.Optional(Nullable(Type.Array(Type.String()))),
    Links: Type.Optional(Nullable(Type.Array(Type.String()))),
    MacAddress: Type.Optional(Type.String()),
    DriverOpts: Type.Optional(Nullable(StringMap)),
  },
  Loose,
);

export const NetworkingConfig = Type.Object({ EndpointsConfig: Type.Optional(Nullable(Type.Record(Type.String(), Nullable(EndpointSettings)))) }, Loose);

export const NetworkConnectBody = Type.Object({ Container: Type.String(), EndpointConfig: Type.Optional(Nullable(EndpointSettings)) }, Loose);
export const NetworkDisconnectBody = Type.Object({ Container: Type.String(), Force: Type.Optional(Type.Boolean()) }, Loose);

export type NetworkCreateBody = Static<typeof NetworkCreateBody>;
export type EndpointSettings = Static<typeof EndpointSettings>;
export type NetworkingConfig = Static<typeof NetworkingConfig>;
export type IPAMConfig = Static<typeof IPAMConfig>;

/** A network as GET /networks and /networks/{id} send it (Containers empty in the list). */
export const Network = Type.Object({
  Name: Type.String(),
  Id: Type.String(),
  Created: Type.String(),
  Scope: Type.String(),
  Driver: Type.String(),
  EnableIPv6: Type.Boolean(),
  IPAM: Type.Object({ Driver: Type.String(), Options: Nullable(StringMap), Config: Type.Array(Type.Object({}, Loose)) }),
  Internal: Type.Boolean(),
  Attachable: Type.Boolean(),
  Ingress: Type.Boolean(),
  ConfigFrom: Type.Object({ Network: Type.String() }),
  ConfigOnly: Type.Boolean(),
  Containers: Type.Record(
    Type.String(),
    Type.Object({
      Name: Type.String(),
      EndpointID: Type.String(),
      MacAddress: Type.String(),
      IPv4Address: Type.String(),
      IPv6Address: Type.String(),
    }),
  ),
  Options: StringMap,
  Labels: StringMap,
});
export const NetworkCreateResponse = Type.Object({ Id: Type.String(), Warning: Type.Optional(Type.String()) });
export const NetworkPruneResponse = Type.Object({ NetworksDeleted: Nullable(Type.Array(Type.String())) });
