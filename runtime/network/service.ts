// Networks: the predefined bridge/host/none, user-defined bridge networks (subnets from a pool that
// avoids the host's routes), removal and prune. What containers do on them is in attachments.ts.
import { createHash, randomBytes } from 'node:crypto';
import { EngineError, conflict, invalid, notFound } from '../errors.js';
import type { EventLog } from '../events/log.js';
import { contains, firstHost, hostRoutes, overlaps, parseSubnet, pickSubnet, subnetString, type Subnet } from './ipam.js';
import { canonical6, contains6, firstHost6, isV6, overlaps6, parseSubnet6, subnet6String } from './ipam6.js';
import type { IPAMConfig, Network, NetworkStore } from './store.js';

/** What a network create asks for (the fields berth reads of Docker's create body). */
export interface NetworkCreate {
  Name: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  EnableIPv6?: boolean | null;
  IPAM?: { Driver?: string | null; Config?: IPAMConfig[] | null; Options?: Record<string, string> | null } | null;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
  /** libpod's dns_enabled (aardvark-dns on the network); Docker's user networks always have it. */
  dnsEnabled?: boolean;
}

export const PREDEFINED = ['bridge', 'host', 'none'];
const NAME = /^[^\x00-\x1f\x7f]+$/;
const now = () => new Date().toISOString();

/** Where subnets come from: the default network takes a /16, user networks /24s, as Podman's pools. */
const DEFAULT_POOL = { start: '10.88.0.0', bits: 16, count: 40 };
const USER_POOL = { start: '10.128.0.0', bits: 24, count: 32768 };

export class NetworkService {
  /** Rotates the pools by the engine's root, so engines side by side (tests) start at other subnets. */
  private readonly offset: number;

  constructor(
    readonly store: NetworkStore,
    private readonly events: EventLog,
    root: string,
    defaultRoot: boolean,
  ) {
    this.offset = defaultRoot ? 0 : createHash('sha256').update(root).digest().readUInt32BE(0);
  }

  /** The predefined networks exist from the first start on (bridge's subnet chosen once, then kept). */
  async init(): Promise<void> {
    if (!this.store.byName('bridge')) {
      const subnet = pickSubnet(DEFAULT_POOL.start, DEFAULT_POOL.bits, DEFAULT_POOL.count, await this.usedSubnets(), this.offset % DEFAULT_POOL.count);
      const id = randomBytes(32).toString('hex');
      this.store.insert({
        id,
        name: 'bridge',
        driver: 'bridge',
        bridge: `berth${id.slice(0, 8)}`.slice(0, 15),
        subnets: [{ Subnet: subnetString(subnet), Gateway: firstHost(subnet) }],
        internal: false,
        attachable: false,
        ipv6: false,
        dns: false,
        createdAt: now(),
        labels: {},
        options: {
          'com.docker.network.bridge.default_bridge': 'true',
          'com.docker.network.bridge.enable_icc': 'true',
          'com.docker.network.bridge.enable_ip_masquerade': 'true',
          'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
          'com.docker.network.bridge.name': `berth${id.slice(0, 8)}`,
          'com.docker.network.driver.mtu': '1500',
        },
      });
    }
    for (const [name, driver] of [
      ['host', 'host'],
      ['none', 'null'],
    ] as const) {
      if (this.store.byName(name)) continue;
      this.store.insert({
        id: randomBytes(32).toString('hex'),
        name,
        driver,
        bridge: '',
        subnets: [],
        internal: false,
        attachable: false,
        ipv6: false,
        dns: false,
        options: {},
        labels: {},
        createdAt: now(),
      });
    }
  }

  /** Subnets a new network must not overlap: the host's routes and every network of this engine. */
  private async usedSubnets(): Promise<Subnet[]> {
    const mine = this.store.all().flatMap((n) => n.subnets.filter((s) => !isV6(s.Subnet!)).map((s) => parseSubnet(s.Subnet!)));
    return [...(await hostRoutes()), ...mine];
  }

  list(): Network[] {
    return this.store.all();
  }

  resolve(nameOrId: string, wording?: 'find' | 'inspect'): Network {
    return this.store.resolve(nameOrId, wording);
  }

  /**
   * With `checkDuplicate` (asked for, or implied from API 1.44 on, as dockerd does) a name in use is
   * refused; without it dockerd 20.10 makes a second network of that name and warns.
   */
  async create(body: NetworkCreate, checkDuplicate = true): Promise<{ id: string; warning: string }> {
    const name = body.Name;
    // dockerd takes any name that is not blank, "/" included (netavark and aardvark-dns know a network by
    // its ID, so a name never becomes a path); berth keeps control characters out.
    if (!name || !name.trim()) throw invalid(`invalid name: ${name ?? ''}`);
    if (!NAME.test(name)) throw invalid(`invalid network name "${name}": it may not contain control characters`);
    const duplicate = () => {
      const same = this.store.allNamed(name);
      if (!same.length) return '';
      if (PREDEFINED.includes(name)) throw new EngineError('forbidden', `${name} is a pre-defined network and cannot be recreated`);
      if (checkDuplicate) throw conflict(`network with name ${name} already exists`);
      return `Network with name ${name} (id : ${same[same.length - 1]!.id}) already exists`;
    };
    duplicate();
    const driver = body.Driver || 'bridge';
    if (driver !== 'bridge') throw invalid(`could not find plugin ${driver} in v1 plugin registry: plugin not found`);
    const ipamDriver = body.IPAM?.Driver || 'default';
    if (ipamDriver !== 'default') throw invalid(`IPAM driver ${ipamDriver} is not supported`);
    const used = await this.usedSubnets();
    const configs = (body.IPAM?.Config ?? [])
      .map((c) => {
        if (!c.Subnet) {
          if (c.Gateway || c.IPRange) throw invalid('a gateway or IP range needs a subnet');
          return undefined;
        }
        return isV6(c.Subnet) ? this.subnet6(c) : this.subnet4(c);
      })
      .filter((s) => s !== undefined);
    // Both families in dockerd's order: v4 (from the pool when none is given), then v6.
    const subnets = configs.filter((s) => !isV6(s.Subnet!));
    const v6 = configs.filter((s) => isV6(s.Subnet!));
    if (subnets.length === 0) {
      const subnet = pickSubnet(USER_POOL.start, USER_POOL.bits, USER_POOL.count, used, this.offset % USER_POOL.count);
      subnets.push({ Subnet: subnetString(subnet), Gateway: firstHost(subnet) });
    }
    // dockerd 20.10 has no default IPv6 pool: --ipv6 needs a v6 subnet. (One without --ipv6 is kept, unused.)
    if (body.EnableIPv6 && v6.length === 0)
      throw notFound('could not find an available, non-overlapping IPv6 address pool among the defaults to assign to the network');
    subnets.push(...v6);
    const id = randomBytes(32).toString('hex');
    const options = body.Options ?? {};
    const bridge = options['com.docker.network.bridge.name'] || `br-${id.slice(0, 12)}`;
    // Checked again with no await before the insert: a create of the same name may have run meanwhile.
    const warning = duplicate();
    this.store.insert({
      id,
      name,
      driver,
      bridge,
      subnets,
      internal: !!body.Internal,
      attachable: !!body.Attachable,
      ipv6: !!body.EnableIPv6,
      dns: body.dnsEnabled ?? true,
      options,
      labels: body.Labels ?? {},
      createdAt: now(),
      ipamOptions: body.IPAM?.Options ?? null,
    });
    this.events.record('network', 'create', id, { name, type: driver });
    return { id, warning };
  }

  /** A given IPv4 subnet, checked (host bits, overlaps, gateway and range inside), with its gateway. */
  private subnet4(c: IPAMConfig): IPAMConfig {
    const subnet = parseSubnet(c.Subnet!);
    if (subnetString(subnet) !== c.Subnet!.trim()) throw invalid(`invalid subnet ${c.Subnet}: it has host bits set`);
    const clash = this.store.all().find((n) => n.subnets.some((s) => !isV6(s.Subnet!) && overlaps(parseSubnet(s.Subnet!), subnet)));
    if (clash) throw new EngineError('forbidden', `Pool overlaps with other one on this address space`);
    if (c.Gateway && !contains(subnet, c.Gateway)) throw invalid(`gateway ${c.Gateway} is not in subnet ${c.Subnet}`);
    if (c.IPRange) {
      const range = parseSubnet(c.IPRange);
      if (range.bits < subnet.bits || !contains(subnet, c.IPRange.split('/')[0]!)) throw invalid(`ip range ${c.IPRange} is not in subnet ${c.Subnet}`);
    }
    return {
      Subnet: subnetString(subnet),
      Gateway: c.Gateway || firstHost(subnet),
      ...(c.IPRange ? { IPRange: c.IPRange } : {}),
      ...auxAddresses(c, (a) => contains(subnet, a)),
    };
  }

  /** The same for an IPv6 subnet, kept in canonical form (what netavark and the allocator compare). */
  private subnet6(c: IPAMConfig): IPAMConfig {
    const subnet = parseSubnet6(c.Subnet!);
    if (subnet6String(subnet) !== canonical6(c.Subnet!.trim().split('/')[0]!) + `/${subnet.bits}`)
      throw invalid(`invalid subnet ${c.Subnet}: it has host bits set`);
    const clash = this.store.all().find((n) => n.subnets.some((s) => isV6(s.Subnet!) && overlaps6(parseSubnet6(s.Subnet!), subnet)));
    if (clash) throw new EngineError('forbidden', `Pool overlaps with other one on this address space`);
    if (c.Gateway && (!isV6(c.Gateway) || !contains6(subnet, c.Gateway))) throw invalid(`gateway ${c.Gateway} is not in subnet ${c.Subnet}`);
    let range: string | undefined;
    if (c.IPRange) {
      const r = parseSubnet6(c.IPRange);
      if (r.bits < subnet.bits || !contains6(subnet, c.IPRange.split('/')[0]!)) throw invalid(`ip range ${c.IPRange} is not in subnet ${c.Subnet}`);
      range = subnet6String(r);
    }
    return {
      Subnet: subnet6String(subnet),
      Gateway: c.Gateway ? canonical6(c.Gateway) : firstHost6(subnet),
      ...(range ? { IPRange: range } : {}),
      ...auxAddresses(c, (a) => isV6(a) && contains6(subnet, a)),
    };
  }

  /** docker network rm: refused for the predefined networks and while a running container is on it. */
  remove(nameOrId: string, running: (containerId: string) => boolean): Network {
    const n = this.store.resolve(nameOrId);
    if (PREDEFINED.includes(n.name)) throw new EngineError('forbidden', `${n.name} is a pre-defined network and cannot be removed`);
    const active = this.store.endpointsOn(n.id).filter((e) => e.ip !== null || running(e.containerId));
    if (active.length) throw new EngineError('forbidden', `error while removing network: network ${n.name} id ${n.id} has active endpoints`);
    this.store.transaction(() => {
      for (const e of this.store.endpointsOn(n.id)) this.store.removeEndpoint(e.containerId, n.id);
      this.store.remove(n.id);
    });
    this.events.record('network', 'destroy', n.id, { name: n.name, type: n.driver });
    return n;
  }

  /** docker network prune: user networks no container is on. */
  prune(keep: (n: Network) => boolean): Network[] {
    const removed: Network[] = [];
    for (const n of this.store.all()) {
      if (PREDEFINED.includes(n.name) || keep(n) || this.store.endpointsOn(n.id).length) continue;
      this.store.remove(n.id);
      this.events.record('network', 'destroy', n.id, { name: n.name, type: n.driver });
      removed.push(n);
    }
    return removed;
  }

  record(n: Network, action: string, containerId: string): void {
    this.events.record('network', action, n.id, { container: containerId, name: n.name, type: n.driver });
  }
}

/**
 * A subnet's AuxiliaryAddresses (names to addresses the allocator must not hand out), kept as given and
 * shown as dockerd shows them; each must lie in its subnet.
 */
function auxAddresses(c: IPAMConfig, inSubnet: (address: string) => boolean): { AuxiliaryAddresses?: Record<string, string> } {
  const aux = c.AuxiliaryAddresses;
  if (!aux || Object.keys(aux).length === 0) return {};
  for (const [name, address] of Object.entries(aux)) {
    if (!inSubnet(address)) throw invalid(`auxiliary address ${name}=${address} is not in subnet ${c.Subnet}`);
  }
  return { AuxiliaryAddresses: { ...aux } };
}
