// Networks, and a container's networks and ports, in dockerd's shapes.
import type { EndpointSettings } from '../../../openapi/networks.js';
import {
  isLive,
  networkMode,
  parsePortKey,
  v4Config,
  v6Config,
  type Container,
  type ContainerFacts,
  type Endpoint,
  type Network,
  type NetworkMember,
} from '../../../runtime/api.js';

const prefixLength = (n: Network) => Number(v4Config(n)?.Subnet?.split('/')[1] ?? 0);
const prefixLength6 = (n: Network) => Number(v6Config(n)?.Subnet?.split('/')[1] ?? 0);

/** IPAMConfig of an endpoint as asked (null when nothing was). */
const ipamConfig = (v4: string, v6: string, linkLocal: string[]) =>
  v4 || v6 || linkLocal.length
    ? { ...(v4 ? { IPv4Address: v4 } : {}), ...(v6 ? { IPv6Address: v6 } : {}), ...(linkLocal.length ? { LinkLocalIPs: linkLocal } : {}) }
    : null;

/** One entry of NetworkSettings.Networks: the endpoint's addresses while it runs, empty otherwise. */
function endpointView(c: Container, n: Network, e: Endpoint | undefined) {
  const on = !!e?.ip && isLive(c);
  const on6 = on && !!e.ip6;
  // dockerd appends the short-ID alias (unless given) when the endpoint is first set up, at start; before
  // that the aliases are as asked. docker-compose reconnects a container whose aliases lack it, which is
  // how its one-off `run` containers lose the service alias.
  const started = isLive(c) || !!c.started_at;
  const aliases = e && n.dns ? (started ? [...new Set([...e.aliases, c.id.slice(0, 12)])] : e.aliases.length ? e.aliases : null) : null;
  return {
    IPAMConfig: e ? ipamConfig(e.staticIp, e.staticIp6, e.linkLocalIps) : null,
    Links: e?.links.length ? e.links : null,
    Aliases: aliases,
    NetworkID: n.id,
    EndpointID: on ? e!.endpointId : '',
    Gateway: on ? (v4Config(n)?.Gateway ?? '') : '',
    IPAddress: on ? e!.ip! : '',
    IPPrefixLen: on ? prefixLength(n) : 0,
    IPv6Gateway: on6 ? (v6Config(n)?.Gateway ?? '') : '',
    GlobalIPv6Address: on6 ? e!.ip6! : '',
    GlobalIPv6PrefixLen: on6 ? prefixLength6(n) : 0,
    MacAddress: on ? e!.mac : '',
    DriverOpts: e?.driverOpts ?? null,
    DNSNames: n.dns ? [c.name, ...(e?.aliases ?? []), c.id.slice(0, 12)] : null,
  };
}

/** NetworkSettings.Networks of a container: its endpoints, or the host/none/container mode's entry. */
export function containerNetworks(facts: ContainerFacts, c: Container): Record<string, ReturnType<typeof endpointView>> {
  const mode = networkMode(c.spec.network.mode);
  if (mode.kind === 'host' || mode.kind === 'none') {
    const n = facts.networkByName(mode.name);
    return n ? { [n.name]: endpointView(c, n, undefined) } : {};
  }
  if (mode.kind === 'container') return {};
  // Sorted by name: dockerd's JSON encodes this map in key order (testcontainers lists networks in it).
  const pending = facts.pendingOf(c.id).map(({ name, settings }) => [name, pendingView(settings)] as const);
  const entries = [...facts.endpointsOf(c.id).map(({ endpoint, network }) => [network.name, endpointView(c, network, endpoint)] as const), ...pending];
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** A network the container was created on before it existed: the settings as asked, no network yet. */
function pendingView(settings: EndpointSettings | null): ReturnType<typeof endpointView> {
  const ipam = settings?.IPAMConfig;
  return {
    IPAMConfig: ipam ? (ipamConfig(ipam.IPv4Address ?? '', ipam.IPv6Address ?? '', ipam.LinkLocalIPs ?? []) ?? {}) : null,
    Links: settings?.Links?.length ? settings.Links : null,
    Aliases: settings?.Aliases?.length ? settings.Aliases : null,
    NetworkID: '',
    EndpointID: '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    MacAddress: '',
    DriverOpts: settings?.DriverOpts ?? null,
    DNSNames: null,
  };
}

/** NetworkSettings.Ports: each exposed port with the host ports it is published on (null if none). */
export function portMap(c: Container): Record<string, { HostIp: string; HostPort: string }[] | null> {
  if (!isLive(c)) return {};
  const out: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  for (const key of c.spec.ports.expose) out[normalKey(key)] = null;
  for (const p of c.ports) (out[`${p.ContainerPort}/${p.Protocol}`] ??= []).push({ HostIp: p.HostIp || '0.0.0.0', HostPort: String(p.HostPort) });
  return out;
}

const normalKey = (key: string) => {
  const [port, protocol] = parsePortKey(key);
  return `${port}/${protocol}`;
};

/** `Ports` of the container list: published ones with their host side, then exposed-only ones. */
export function portList(c: Container): object[] {
  const published = isLive(c) ? c.ports : [];
  const out: object[] = published.map((p) => ({ IP: p.HostIp || '0.0.0.0', PrivatePort: p.ContainerPort, PublicPort: p.HostPort, Type: p.Protocol }));
  for (const key of c.spec.ports.expose) {
    const [port, protocol] = parsePortKey(key);
    if (!published.some((p) => p.ContainerPort === port && p.Protocol === protocol)) out.push({ PrivatePort: port, Type: protocol });
  }
  return out;
}

/** The whole NetworkSettings of inspect; the top-level address fields describe the default bridge. */
export function networkSettings(facts: ContainerFacts, c: Container) {
  const networks = containerNetworks(facts, c);
  const bridge = networks.bridge;
  const running = isLive(c);
  const netns = facts.netnsPath(c.id);
  return {
    Bridge: '',
    SandboxID: running && netns ? c.id : '',
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    Ports: portMap(c),
    SandboxKey: running && networkMode(c.spec.network.mode).kind !== 'host' ? netns : '',
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: bridge?.EndpointID ?? '',
    Gateway: bridge?.Gateway ?? '',
    GlobalIPv6Address: bridge?.GlobalIPv6Address ?? '',
    GlobalIPv6PrefixLen: bridge?.GlobalIPv6PrefixLen ?? 0,
    IPAddress: bridge?.IPAddress ?? '',
    IPPrefixLen: bridge?.IPPrefixLen ?? 0,
    IPv6Gateway: bridge?.IPv6Gateway ?? '',
    MacAddress: bridge?.MacAddress ?? '',
    Networks: networks,
  };
}

/** GET /networks/{id} with its running members; each entry of GET /networks without (Containers empty, as dockerd). */
export function networkView(n: Network, members: NetworkMember[] = []) {
  const containers: Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }> = {};
  for (const m of members) {
    containers[m.id] = {
      Name: m.name,
      EndpointID: m.endpointId,
      MacAddress: m.mac,
      IPv4Address: `${m.ip}/${prefixLength(n)}`,
      IPv6Address: m.ip6 ? `${m.ip6}/${prefixLength6(n)}` : '',
    };
  }
  return {
    Name: n.name,
    Id: n.id,
    Created: n.createdAt,
    Scope: 'local',
    Driver: n.driver,
    EnableIPv6: n.ipv6,
    IPAM: { Driver: 'default', Options: n.name === 'bridge' || n.driver !== 'bridge' ? null : (n.ipamOptions ?? null), Config: n.subnets },
    Internal: n.internal,
    Attachable: n.attachable,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: n.options,
    Labels: n.labels,
  };
}
