// Network and endpoint records in the state DB. An endpoint is a container on a network; its address is
// allocated (ip not null) exactly while netavark may have it set up, so the DB always knows what to undo.
import type { DB } from '../state/db.js';
import { invalid, notFound } from '../errors.js';

/** One subnet of a network (Docker's IPAM pool fields, as the subnets column stores them; null = unset). */
export interface IPAMConfig {
  Subnet?: string | null;
  Gateway?: string | null;
  IPRange?: string | null;
  AuxiliaryAddresses?: Record<string, string> | null;
}

/** One network a container asks to be on (create's NetworkingConfig, a connect), kept as given while deferred. */
export interface EndpointSettings {
  IPAMConfig?: { IPv4Address?: string | null; IPv6Address?: string | null; LinkLocalIPs?: string[] | null } | null;
  Aliases?: string[] | null;
  Links?: string[] | null;
  MacAddress?: string;
  DriverOpts?: Record<string, string> | null;
}

/**
 * podman's name of the default network: berth has one default network, `bridge` to the Docker API and
 * `podman` to libpod, and a lookup by either name finds it from both (a network really named `podman`,
 * which only the Docker API can make, comes first; as a network mode, attachments.ts, `podman` is always
 * the default).
 */
export const DEFAULT_NETWORK_ALIAS = 'podman';

export interface Network {
  id: string;
  name: string;
  driver: string; // bridge, host, null
  bridge: string;
  subnets: IPAMConfig[];
  internal: boolean;
  attachable: boolean;
  ipv6: boolean;
  dns: boolean;
  options: Record<string, string>;
  /** IPAM Options as the create gave them; null when it gave none (dockerd shows them as given). */
  ipamOptions?: Record<string, string> | null;
  labels: Record<string, string>;
  createdAt: string;
}

export interface Endpoint {
  containerId: string;
  networkId: string;
  position: number;
  aliases: string[];
  staticIp: string;
  staticIp6: string;
  linkLocalIps: string[];
  driverOpts: Record<string, string> | null;
  links: string[]; // EndpointSettings.Links as given ("name:alias")
  endpointId: string;
  ip: string | null;
  ip6: string | null; // set with ip, on a network with IPv6 enabled
  mac: string;
  interface: string;
}

interface NetworkRow {
  id: string;
  name: string;
  driver: string;
  bridge: string;
  subnets: string;
  internal: number;
  attachable: number;
  ipv6: number;
  dns: number;
  options: string;
  labels: string;
  created_at: string;
  ipam_options: string | null;
}

interface EndpointRow {
  container_id: string;
  network_id: string;
  position: number;
  aliases: string;
  static_ip: string;
  static_ip6: string;
  link_local_ips: string;
  driver_opts: string;
  links: string;
  endpoint_id: string;
  ip: string | null;
  ip6: string | null;
  mac: string;
  interface: string;
}

const parseNetwork = (r: NetworkRow): Network => ({
  id: r.id,
  name: r.name,
  driver: r.driver,
  bridge: r.bridge,
  subnets: JSON.parse(r.subnets) as IPAMConfig[],
  internal: !!r.internal,
  attachable: !!r.attachable,
  ipv6: !!r.ipv6,
  dns: !!r.dns,
  options: JSON.parse(r.options) as Record<string, string>,
  labels: JSON.parse(r.labels) as Record<string, string>,
  createdAt: r.created_at,
  ipamOptions: r.ipam_options === null ? null : (JSON.parse(r.ipam_options) as Record<string, string>),
});

const parseEndpoint = (r: EndpointRow): Endpoint => ({
  containerId: r.container_id,
  networkId: r.network_id,
  position: r.position,
  aliases: JSON.parse(r.aliases) as string[],
  staticIp: r.static_ip,
  staticIp6: r.static_ip6,
  linkLocalIps: JSON.parse(r.link_local_ips) as string[],
  driverOpts: JSON.parse(r.driver_opts) as Record<string, string> | null,
  links: JSON.parse(r.links) as string[],
  endpointId: r.endpoint_id,
  ip: r.ip,
  ip6: r.ip6,
  mac: r.mac,
  interface: r.interface,
});

export class NetworkStore {
  constructor(readonly db: DB) {}

  all(): Network[] {
    return (this.db.prepare('SELECT * FROM networks ORDER BY created_at, rowid').all() as NetworkRow[]).map(parseNetwork);
  }

  get(id: string): Network | undefined {
    const row = this.db.prepare('SELECT * FROM networks WHERE id = ?').get(id) as NetworkRow | undefined;
    return row && parseNetwork(row);
  }

  /** The first network of that name (names may repeat: see NetworkService.create). */
  byName(name: string): Network | undefined {
    return this.allNamed(name)[0];
  }

  allNamed(name: string): Network[] {
    return (this.db.prepare('SELECT * FROM networks WHERE name = ? ORDER BY created_at, rowid').all(name) as NetworkRow[]).map(parseNetwork);
  }

  /**
   * Full ID, then name, then a unique ID prefix, as dockerd's FindNetwork resolves them. Several matches
   * are refused; `inspect` words that as dockerd's GET /networks/{id} does, otherwise as FindNetwork.
   */
  resolve(nameOrId: string, wording: 'find' | 'inspect' = 'find'): Network {
    const exact = this.get(nameOrId);
    if (exact) return exact;
    const ambiguous = (n: number, basis: string) =>
      invalid(
        wording === 'inspect'
          ? `${n} matches found based on ${basis}: network ${nameOrId} is ambiguous`
          : `network ${nameOrId} is ambiguous (${n} matches found based on ${basis})`,
      );
    const named = this.allNamed(nameOrId);
    if (named.length === 0 && nameOrId === DEFAULT_NETWORK_ALIAS) named.push(...this.allNamed('bridge'));
    if (named.length === 1) return named[0]!;
    if (named.length > 1) throw ambiguous(named.length, 'name');
    if (/^[a-f0-9]+$/.test(nameOrId)) {
      const rows = this.db.prepare("SELECT * FROM networks WHERE id LIKE ? || '%'").all(nameOrId) as NetworkRow[];
      if (rows.length === 1) return parseNetwork(rows[0]!);
      if (rows.length > 1) throw ambiguous(rows.length, 'ID prefix');
    }
    throw notFound(`network ${nameOrId} not found`);
  }

  insert(n: Network): void {
    this.db
      .prepare(
        `INSERT INTO networks (id, name, driver, bridge, subnets, internal, attachable, ipv6, dns, options, labels, created_at, ipam_options)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        n.id,
        n.name,
        n.driver,
        n.bridge,
        JSON.stringify(n.subnets),
        +n.internal,
        +n.attachable,
        +n.ipv6,
        +n.dns,
        JSON.stringify(n.options),
        JSON.stringify(n.labels),
        n.createdAt,
        n.ipamOptions ? JSON.stringify(n.ipamOptions) : null,
      );
  }

  remove(id: string): void {
    this.db.prepare('DELETE FROM networks WHERE id = ?').run(id);
  }

  endpointsOf(containerId: string): Endpoint[] {
    return (this.db.prepare('SELECT * FROM endpoints WHERE container_id = ? ORDER BY position').all(containerId) as EndpointRow[]).map(parseEndpoint);
  }

  endpointsOn(networkId: string): Endpoint[] {
    return (this.db.prepare('SELECT * FROM endpoints WHERE network_id = ? ORDER BY position').all(networkId) as EndpointRow[]).map(parseEndpoint);
  }

  allEndpoints(): Endpoint[] {
    return (this.db.prepare('SELECT * FROM endpoints').all() as EndpointRow[]).map(parseEndpoint);
  }

  addEndpoint(
    containerId: string,
    e: {
      networkId: string;
      aliases: string[];
      staticIp: string;
      staticIp6: string;
      linkLocalIps: string[];
      driverOpts: Record<string, string> | null;
      links?: string[];
    },
  ): void {
    const next = (this.db.prepare('SELECT COALESCE(MAX(position), -1) + 1 AS n FROM endpoints WHERE container_id = ?').get(containerId) as { n: number }).n;
    this.db
      .prepare(
        'INSERT INTO endpoints (container_id, network_id, position, aliases, static_ip, static_ip6, link_local_ips, driver_opts, links) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        containerId,
        e.networkId,
        next,
        JSON.stringify(e.aliases),
        e.staticIp,
        e.staticIp6,
        JSON.stringify(e.linkLocalIps),
        JSON.stringify(e.driverOpts),
        JSON.stringify(e.links ?? []),
      );
  }

  /** Networks a container was created on that did not exist then, in joining order. */
  pendingOf(containerId: string): { name: string; settings: EndpointSettings | null }[] {
    const rows = this.db.prepare('SELECT name, settings FROM pending_endpoints WHERE container_id = ? ORDER BY position').all(containerId) as {
      name: string;
      settings: string;
    }[];
    return rows.map((r) => ({ name: r.name, settings: JSON.parse(r.settings) as EndpointSettings | null }));
  }

  addPending(containerId: string, name: string, settings: EndpointSettings | null | undefined): void {
    const next = (
      this.db.prepare('SELECT COALESCE(MAX(position), -1) + 1 AS n FROM pending_endpoints WHERE container_id = ?').get(containerId) as { n: number }
    ).n;
    this.db
      .prepare('INSERT INTO pending_endpoints (container_id, name, position, settings) VALUES (?, ?, ?, ?)')
      .run(containerId, name, next, JSON.stringify(settings ?? null));
  }

  clearPending(containerId: string): void {
    this.db.prepare('DELETE FROM pending_endpoints WHERE container_id = ?').run(containerId);
  }

  removeEndpoint(containerId: string, networkId: string): void {
    this.db.prepare('DELETE FROM endpoints WHERE container_id = ? AND network_id = ?').run(containerId, networkId);
  }

  /** Records an allocation (or, with ip null, its release). */
  setAddress(containerId: string, networkId: string, fields: { ip: string | null; ip6?: string; interface: string; endpointId: string; mac?: string }): void {
    this.db
      .prepare('UPDATE endpoints SET ip = ?, ip6 = ?, interface = ?, endpoint_id = ?, mac = ? WHERE container_id = ? AND network_id = ?')
      .run(fields.ip, fields.ip6 ?? null, fields.interface, fields.endpointId, fields.mac ?? '', containerId, networkId);
  }

  setMac(containerId: string, networkId: string, mac: string): void {
    this.db.prepare('UPDATE endpoints SET mac = ? WHERE container_id = ? AND network_id = ?').run(mac, containerId, networkId);
  }

  /** Addresses in use on a network. */
  takenOn(networkId: string): Set<string> {
    return new Set((this.db.prepare('SELECT ip FROM endpoints WHERE network_id = ? AND ip IS NOT NULL').all(networkId) as { ip: string }[]).map((r) => r.ip));
  }

  /** IPv6 addresses in use on a network. */
  taken6On(networkId: string): Set<string> {
    return new Set(
      (this.db.prepare('SELECT ip6 FROM endpoints WHERE network_id = ? AND ip6 IS NOT NULL').all(networkId) as { ip6: string }[]).map((r) => r.ip6),
    );
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
}
