// A container's networking: its mode (bridge or a user network, host, none, container:<id>), the
// networks it is on (endpoints), and what happens at start and exit. Order for crash safety: addresses
// and host ports are recorded first, then the namespace and netavark's setup; release undoes netavark
// from the record, then clears it. Whatever a kill -9 interrupts, the record says what to undo.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EngineError, conflict, invalid, notFound } from '../errors.js';
import { Mutex } from '../util/lock.js';
import type { ContainerSpec, EndpointSpec } from '../containers/spec.js';
import type { Container, ContainerStore } from '../containers/store.js';
import { linksOf, parseLink, type Link } from '../containers/links.js';
import { contains, nextFree, parseSubnet } from './ipam.js';
import { canonical6, contains6, isIp6, isV6, nextFree6, parseSubnet6 } from './ipam6.js';
import { dropNetwork, isAnchored, pruneNetavarkChains, type Attachment, type Netavark, type NetavarkNetwork } from './netavark.js';
import { allocatePorts, wantedPorts, type HeldPort } from './ports.js';
import { macFromIp } from './mac.js';
import { RootlessPorts } from './rootless-ports.js';
import type { UserNamespace } from '../rootless/userns-modes.js';
import type { NetworkService } from './service.js';
import { DEFAULT_NETWORK_ALIAS, type Endpoint, type EndpointSettings, type Network, type NetworkStore } from './store.js';

const ROOTLESS_LINGER_MS = Number(process.env.BERTH_ROOTLESS_NET_LINGER || 60) * 1000;

export type NetworkModeKind = 'bridge' | 'host' | 'none' | 'container' | 'user';

/**
 * The mode as dockerd reads HostConfig.NetworkMode (the spec's network.mode): '' and 'default' are the
 * bridge, and so is `podman`, the name podman gives the default network (one network for both APIs).
 */
export function networkMode(mode: string): { kind: NetworkModeKind; name: string } {
  if (mode === '' || mode === 'default' || mode === 'bridge' || mode === DEFAULT_NETWORK_ALIAS) return { kind: 'bridge', name: 'bridge' };
  if (mode === 'host' || mode === 'none') return { kind: mode, name: mode };
  if (mode.startsWith('container:')) return { kind: 'container', name: mode.slice('container:'.length) };
  return { kind: 'user', name: mode };
}

/** What a start needs from the network: the namespace to join and what goes into /etc files. */
export interface StartNetwork {
  /** The netns to join; undefined = the host's (host mode) or a new empty one (none). */
  netns?: string;
  hostNetwork: boolean;
  /** The container's own addresses (v4, and v6 on an IPv6 network), for its /etc/hosts lines. */
  ip?: string;
  ip6?: string;
  /** Name servers that resolve container names (aardvark-dns on the gateway), before the others. */
  nameservers: string[];
  /** container:<id>: that container, whose /etc files are shared. */
  joined?: Container;
  /** Rootless: the user namespace the netns was made in (a pinned new one, or the one joined), for runc to join by path. */
  userns?: string;
}

export interface PlannedEndpoint {
  networkId: string;
  aliases: string[];
  staticIp: string;
  staticIp6: string;
  linkLocalIps: string[]; // kept as asked, shown by inspect (dockerd stores them too)
  driverOpts: Record<string, string> | null;
  links: string[];
}

/** What a create records: the endpoints, or (a network missing yet) the networks by name to join at start. */
export type NetworkPlan = { endpoints: PlannedEndpoint[] } | { pending: [string, EndpointSettings | null | undefined][] };

export class Attachments {
  private readonly portLock = new Mutex();
  /** A rootless engine's port forwarders (rootless-ports.ts): netavark's DNAT would be in its own namespace. */
  private readonly rootlessPorts?: RootlessPorts;

  constructor(
    readonly store: NetworkStore,
    readonly networks: NetworkService,
    private readonly containers: ContainerStore,
    readonly netavark: Netavark | undefined,
  ) {
    const ns = netavark?.rootlessNs;
    if (ns) this.rootlessPorts = new RootlessPorts(join(dirname(netavark.netnsDir), 'rootlessport'), ns.path);
  }

  /**
   * The networks a new container joins, validated now so that create fails and not start. Except that a
   * network which does not exist yet defers them all to start, in order (the first stays the primary),
   * as dockerd looks networks up there.
   */
  plan(spec: ContainerSpec): NetworkPlan {
    const hc = { NetworkMode: spec.network.mode };
    const mode = networkMode(spec.network.mode);
    wantedPorts(spec.ports); // malformed port specs fail at create
    const endpoints = Object.entries(spec.network.endpoints ?? {}).map(([name, e]): [string, EndpointSettings | null] => [name, e && endpointSettings(e)]);
    if (mode.kind === 'host' || mode.kind === 'none' || mode.kind === 'container') {
      if (mode.kind === 'container') this.containers.resolve(mode.name);
      if (endpoints.some(([name]) => name !== mode.name && name !== hc.NetworkMode)) {
        throw invalid(`conflicting options: cannot attach both user-defined and non-user-defined network-modes`);
      }
      return { endpoints: [] };
    }
    const namesPrimary = (name: string) => name === mode.name || name === hc.NetworkMode || (mode.kind === 'bridge' && name === 'default');
    // (The default bridge always exists, whichever name the CLI gives it.)
    if (![mode.name, ...endpoints.map(([name]) => name)].every((name) => (mode.kind === 'bridge' && namesPrimary(name)) || this.exists(name))) {
      return { pending: [[mode.name, endpoints.find(([name]) => namesPrimary(name))?.[1]], ...endpoints.filter(([name]) => !namesPrimary(name))] };
    }
    const primary = this.networks.resolve(mode.name);
    if (primary.driver !== 'bridge') throw invalid(`network ${mode.name} is not a bridge network`);
    // The CLI names the mode's network as the mode says it ('default' too): that entry is the primary's.
    const isPrimary = (name: string) => name === mode.name || name === primary.id || name === hc.NetworkMode || (mode.kind === 'bridge' && name === 'default');
    const planned = [endpointPlan(primary, endpoints.find(([name]) => isPrimary(name))?.[1])];
    for (const [name, settings] of endpoints) {
      if (isPrimary(name)) continue;
      const n = this.networks.resolve(name);
      if (n.id === primary.id) continue;
      if (n.driver !== 'bridge') throw invalid(`conflicting options: cannot attach both user-defined and non-user-defined network-modes`);
      planned.push(endpointPlan(n, settings));
    }
    for (const p of planned)
      if (p.aliases.length && this.networks.store.get(p.networkId)!.name === 'bridge') {
        throw invalid('network-scoped alias is supported only for containers in user defined networks');
      }
    return { endpoints: planned };
  }

  private exists(name: string): boolean {
    try {
      this.networks.resolve(name);
      return true;
    } catch (err) {
      if (err instanceof EngineError && err.kind === 'not-found') return false;
      throw err;
    }
  }

  /** Records the planned endpoints of a container just inserted (same transaction as its row). */
  addPlanned(containerId: string, plan: NetworkPlan): void {
    if ('pending' in plan) for (const [name, settings] of plan.pending) this.store.addPending(containerId, name, settings);
    else for (const p of plan.endpoints) this.store.addEndpoint(containerId, p);
  }

  /** A start's new network mode (API < 1.24): the container leaves its networks for the new plan's. */
  replacePlanned(containerId: string, plan: NetworkPlan): void {
    for (const e of this.store.endpointsOf(containerId)) this.store.removeEndpoint(containerId, e.networkId);
    this.store.clearPending(containerId);
    this.addPlanned(containerId, plan);
  }

  /** At start: the networks a create named before they existed join now, or the start fails as dockerd's. */
  private joinPending(c: Container): void {
    const pending = this.store.pendingOf(c.id);
    if (pending.length === 0) return;
    this.store.transaction(() => {
      for (const { name, settings } of pending) {
        const n = this.networks.resolve(name);
        if (n.driver !== 'bridge') throw invalid(`network ${name} is not a bridge network`);
        if (this.store.endpointsOf(c.id).some((e) => e.networkId === n.id)) continue;
        const plan = endpointPlan(n, settings);
        if (plan.aliases.length && n.name === 'bridge') throw invalid('network-scoped alias is supported only for containers in user defined networks');
        this.store.addEndpoint(c.id, plan);
      }
      this.store.clearPending(c.id);
    });
  }

  /** A container's endpoints with their networks (those whose network still exists). */
  endpointsOf(containerId: string): { endpoint: Endpoint; network: Network }[] {
    return this.store.endpointsOf(containerId).flatMap((endpoint) => {
      const network = this.store.get(endpoint.networkId);
      return network ? [{ endpoint, network }] : [];
    });
  }

  private attachment(c: Container, e: Endpoint, n: Network): Attachment {
    const aliases = n.dns ? [...new Set([...e.aliases, ...this.linkAliases(c, n), c.id.slice(0, 12)])] : [];
    return { network: netavarkNetwork(n), interfaceName: e.interface, ips: [e.ip!, ...(e.ip6 ? [e.ip6] : [])], aliases, ...(e.mac ? { mac: e.mac } : {}) };
  }

  /** Allocates an address on one network (and a v6 one when it has IPv6), in the DB, before anything is set up. */
  private allocate(c: Container, e: Endpoint, n: Network, interfaceName: string, mac?: string): { ip: string; ip6?: string } {
    return this.store.transaction(() => {
      const cfg = v4Config(n);
      if (!cfg?.Subnet) throw invalid(`network ${n.name} has no IPv4 subnet`);
      const subnet = parseSubnet(cfg.Subnet);
      const taken = new Set([...this.store.takenOn(n.id), ...Object.values(cfg.AuxiliaryAddresses ?? {})]); // aux addresses are reserved
      let ip = e.staticIp;
      if (ip) {
        if (!contains(subnet, ip)) throw invalid(`Invalid address ${ip}: It does not belong to any of this network's subnets`);
        if (taken.has(ip) || ip === cfg.Gateway) throw new EngineError('internal', `Address already in use`);
      } else {
        ip = nextFree(subnet, cfg.Gateway ?? '', taken, cfg.IPRange ? parseSubnet(cfg.IPRange) : undefined) ?? '';
        if (!ip) throw new EngineError('internal', `no available IPv4 addresses on network ${n.name}`);
      }
      const ip6 = this.allocate6(e, n);
      this.store.setAddress(c.id, n.id, { ip, ip6, interface: interfaceName, endpointId: randomBytes(32).toString('hex'), mac: mac || macFromIp(ip) });
      return { ip, ip6 };
    });
  }

  /** The v6 address on a network with IPv6 enabled: --ip6, or the lowest free one from ::2. */
  private allocate6(e: Endpoint, n: Network): string | undefined {
    if (e.staticIp6 && !n.subnets.some((s) => isV6(s.Subnet!))) {
      throw invalid('user specified IP address is supported only when connecting to networks with user configured subnets');
    }
    // (A v6 subnet without --ipv6: dockerd ignores --ip6, and gives no v6 address.)
    const cfg = v6Config(n);
    if (!cfg) return undefined;
    const subnet = parseSubnet6(cfg.Subnet!);
    const taken = new Set([...this.store.taken6On(n.id), ...Object.values(cfg.AuxiliaryAddresses ?? {}).map(canonical6)]);
    if (e.staticIp6) {
      const ip6 = canonical6(e.staticIp6);
      if (!contains6(subnet, ip6)) throw invalid(`Invalid address ${e.staticIp6}: It does not belong to any of this network's subnets`);
      if (taken.has(ip6) || ip6 === cfg.Gateway) throw new EngineError('internal', `Address already in use`);
      return ip6;
    }
    const ip6 = nextFree6(subnet, cfg.Gateway ?? '', taken, cfg.IPRange ? parseSubnet6(cfg.IPRange) : undefined);
    if (!ip6) throw new EngineError('internal', `no available IPv6 addresses on network ${n.name}`);
    return ip6;
  }

  /**
   * Before a start: addresses, host ports and the network namespace, all recorded. The caller writes
   * the /etc files from the result, then runs `setup` beside the runtime's create.
   */
  async prepare(c: Container, owner?: { mappings: UserNamespace } | { join: string }): Promise<StartNetwork> {
    const mode = networkMode(c.spec.network.mode);
    if (mode.kind === 'host') return { hostNetwork: true, nameservers: [] };
    if (mode.kind === 'none') return { hostNetwork: false, nameservers: [] };
    if (mode.kind === 'container') {
      const other = this.containers.resolve(mode.name);
      if (other.state !== 'running' && other.state !== 'paused') throw conflict(`cannot join network of a non running container: ${other.id}`);
      if (other.id === c.id) throw invalid('cannot join own network');
      const netns = this.netavark && existsSync(this.netavark.netnsPath(other.id)) ? this.netavark.netnsPath(other.id) : `/proc/${other.pid}/ns/net`;
      return { netns, hostNetwork: false, nameservers: [], joined: other };
    }
    const netavark = this.requireNetavark();
    this.joinPending(c);
    const list = this.endpointsOf(c.id);
    if (list.length === 0) throw notFound(`network ${mode.name} not found`);
    let ip: string | undefined;
    let ip6: string | undefined;
    list.forEach(({ endpoint, network }, i) => {
      // Config.MacAddress is the primary interface's (netavark's static_mac), as dockerd applies it.
      const assigned = this.allocate(c, endpoint, network, `eth${i}`, i === 0 ? c.spec.network.mac : undefined);
      if (i === 0) ({ ip, ip6 } = assigned);
    });
    const wanted = wantedPorts(c.spec.ports);
    // Without ports to publish (and none held) there is nothing to compare with every other container's.
    if (wanted.length || this.containers.get(c.id)?.ports.length)
      await this.portLock.run(async () => {
        const others = this.containers
          .all()
          .filter((o) => o.id !== c.id)
          .flatMap((o) => o.ports);
        const ports = await allocatePorts(wanted, others);
        this.containers.update(c.id, { ports: JSON.stringify(ports) });
      });
    // What setup will ask of netavark: with one network and no ports, createNetns may do it all itself.
    const allocated = this.endpointsOf(c.id).filter(({ endpoint }) => endpoint.ip);
    // A container in a user namespace of its own: its netns made in it (rootless/netns-owner.ts).
    const inUserns = owner && ('join' in owner ? owner : { mappings: owner.mappings, pin: netavark.usernsPath(c.id) });
    const netns = await netavark.createNetns(
      c.id,
      allocated.map(({ endpoint, network }) => this.attachment(c, endpoint, network)),
      this.containers.get(c.id)?.ports ?? [],
      inUserns,
    );
    const nameservers = list.filter(({ network }) => network.dns).map(({ network }) => v4Config(network)!.Gateway!);
    const userns = inUserns && ('join' in inUserns ? inUserns.join : inUserns.pin);
    return { netns, hostNetwork: false, ip, ip6, nameservers: [...new Set(nameservers)], ...(userns && { userns }) };
  }

  /** netavark setup of every allocated endpoint (the primary one with the published ports). */
  async setup(c: Container): Promise<void> {
    const fresh = this.containers.get(c.id)!;
    const list = this.endpointsOf(c.id).filter(({ endpoint }) => endpoint.ip);
    if (list.length === 0) return;
    const netavark = this.requireNetavark();
    const netns = netavark.netnsPath(c.id);
    const [first, ...rest] = list;
    const batches = [{ items: [first!], ports: fresh.ports }, ...(rest.length ? [{ items: rest, ports: [] as HeldPort[] }] : [])];
    for (const batch of batches) {
      const result = await netavark.setup(
        netns,
        c.id,
        c.name,
        batch.items.map(({ endpoint, network }) => this.attachment(c, endpoint, network)),
        batch.ports,
      );
      for (const { network } of batch.items) this.store.setMac(c.id, network.id, result.get(network.id)?.mac ?? '');
    }
    await this.rootlessPorts?.start(c.id, first!.endpoint.ip!, fresh.ports);
    await this.announceLinks(c);
  }

  /**
   * Links on a user network resolve by DNS, as dockerd's embedded DNS answers them: the aliases by which
   * containers on `n` link to `c` are names of `c` there. (aardvark-dns answers them to every container
   * on the network; dockerd only to the one that links.)
   */
  private linkAliases(c: Container, n: Network): string[] {
    return this.store
      .endpointsOn(n.id)
      .filter((e) => e.containerId !== c.id)
      .flatMap((e) => {
        const o = this.containers.get(e.containerId);
        return o
          ? linksOn(o, e)
              .filter((l) => l.target === c.name || l.target === c.id)
              .map((l) => l.alias)
          : [];
      });
  }

  /**
   * A container's links to running containers on its user networks (all of them, or the one it was just
   * connected to): their aliases added to those containers' DNS records, as the linking one may come later.
   */
  private async announceLinks(c: Container, only?: string): Promise<void> {
    if (!this.netavark) return;
    for (const { endpoint, network } of this.endpointsOf(c.id)) {
      if (!network.dns || (only && network.id !== only)) continue;
      for (const { target, alias } of linksOn(c, endpoint)) {
        const t = this.containers.byName(target) ?? this.containers.get(target);
        if (!t || (t.state !== 'running' && t.state !== 'paused')) continue;
        const theirs = this.store.endpointsOf(t.id).find((x) => x.networkId === network.id);
        if (theirs?.ip) await this.netavark.addDnsNames(netavarkNetwork(network), t.id, [alias]);
      }
    }
  }

  /** Undoes a start's networking from the record, then clears it. Safe to repeat, and after a crash. */
  async release(c: Container): Promise<void> {
    const list = this.endpointsOf(c.id).filter(({ endpoint }) => endpoint.ip);
    const fresh = this.containers.get(c.id) ?? c;
    await this.rootlessPorts?.stop(c.id);
    if (this.netavark) {
      const primary = list.find(({ endpoint }) => endpoint.interface === 'eth0');
      const rest = list.filter((x) => x !== primary);
      try {
        // The namespace goes right after (removeNetns), and the veths with it.
        if (primary) await this.netavark.teardown(c.id, c.name, [this.attachment(c, primary.endpoint, primary.network)], fresh.ports, true);
        if (rest.length)
          await this.netavark.teardown(
            c.id,
            c.name,
            rest.map(({ endpoint, network }) => this.attachment(c, endpoint, network)),
            [],
            true,
          );
      } catch (err) {
        process.stderr.write(`berth: network teardown of ${c.id}: ${(err as Error).message}\n`);
      }
      await this.netavark.removeNetns(c.id);
    }
    this.store.transaction(() => {
      for (const { endpoint } of list) this.store.setAddress(c.id, endpoint.networkId, { ip: null, interface: '', endpointId: '' });
      if (this.containers.get(c.id)) this.containers.update(c.id, { ports: '[]' });
    });
    if (list.length) this.pruneChainsSoon();
    this.stopRootlessSoon();
  }

  /**
   * Rootless: the rootless namespace and its slirp4netns outlive the last container off the networks by
   * a linger (BERTH_ROOTLESS_NET_LINGER seconds, default 60): a `run --rm` after another then finds them
   * up (~230 ms less a run here). An engine gone before the timer leaves them to the next one.
   */
  private stopRootlessSoon(): void {
    if (!this.netavark?.rootlessNs || !this.idle()) return;
    clearTimeout(this.rootlessTimer);
    this.rootlessTimer = setTimeout(() => {
      this.netavark
        ?.stopRootlessIfIdle(() => this.idle())
        .catch((err: Error) => process.stderr.write(`berth: stopping the rootless network namespace: ${err.message}\n`));
    }, ROOTLESS_LINGER_MS).unref();
  }

  private rootlessTimer?: NodeJS.Timeout;

  /** Nothing of this engine on a bridge network now. */
  private idle(): boolean {
    return !this.store.allEndpoints().some((e) => e.ip);
  }

  /**
   * Once nothing of this engine is on a bridge, netavark's shared chains go (if nobody else has rules in
   * them). Off the exit path and a little later: the next `docker run` would only make them again. While
   * one of its networks is anchored (netavark.ts) that network's rules keep them in use: nothing to ask
   * iptables then.
   */
  pruneChainsSoon(): void {
    if (!this.netavark || this.netavark.rootlessNs || !this.idle()) return;
    clearTimeout(this.pruneTimer);
    this.pruneTimer = setTimeout(async () => {
      if (!this.idle()) return;
      for (const n of this.store.all()) if (n.driver === 'bridge' && n.bridge && (await isAnchored(netavarkNetwork(n)))) return;
      await pruneNetavarkChains().catch((err: Error) => process.stderr.write(`berth: pruning netavark's chains: ${err.message}\n`));
    }, 2000).unref();
  }

  private pruneTimer?: NodeJS.Timeout;

  /**
   * After a network's removal from the store: its bridge and firewall rules, kept while it existed
   * (netavark.ts, anchorName), go. A failure is logged: the network is gone either way.
   */
  async dropNetwork(n: Network): Promise<void> {
    if (!this.netavark || n.driver !== 'bridge' || !n.bridge) return;
    await dropNetwork(this.netavark, netavarkNetwork(n)).catch((err: Error) => {
      process.stderr.write(`berth: removing network ${n.name}'s bridge ${n.bridge}: ${err.message}\n`);
    });
  }

  /** Whether anything of a start's networking may be left (allocations, a namespace file). */
  holdsResources(c: Container): boolean {
    return c.ports.length > 0 || this.store.endpointsOf(c.id).some((e) => e.ip) || (!!this.netavark && existsSync(this.netavark.netnsPath(c.id)));
  }

  /** docker network connect: recorded, and set up at once on a running container. */
  async connect(networkRef: string, containerRef: string, settings: EndpointSettings | null | undefined): Promise<void> {
    const n = this.networks.resolve(networkRef);
    const c = this.containers.resolve(containerRef);
    const mode = networkMode(c.spec.network.mode);
    if (n.driver !== 'bridge' || mode.kind === 'host' || mode.kind === 'none' || mode.kind === 'container') {
      throw invalid(`container cannot be disconnected from host network or connected to host network`);
    }
    if (this.store.endpointsOf(c.id).some((e) => e.networkId === n.id)) {
      throw new EngineError('forbidden', `endpoint with name ${c.name} already exists in network ${n.name}`);
    }
    const plan = endpointPlan(n, settings);
    if (plan.aliases.length && n.name === 'bridge') throw invalid('network-scoped alias is supported only for containers in user defined networks');
    this.store.addEndpoint(c.id, plan);
    if (c.state === 'running' || c.state === 'paused') {
      const netavark = this.requireNetavark();
      const e = this.store.endpointsOf(c.id).find((x) => x.networkId === n.id)!;
      const used = new Set(
        this.store
          .endpointsOf(c.id)
          .map((x) => x.interface)
          .filter(Boolean),
      );
      let i = 0;
      while (used.has(`eth${i}`)) i++;
      try {
        const { ip, ip6 } = this.allocate(c, e, n, `eth${i}`);
        const result = await netavark.setup(
          netavark.netnsPath(c.id),
          c.id,
          c.name,
          [this.attachment(c, { ...e, ip, ip6: ip6 ?? null, interface: `eth${i}` }, n)],
          [],
        );
        this.store.setMac(c.id, n.id, result.get(n.id)?.mac ?? '');
      } catch (err) {
        await this.disconnect(n.id, c.id, true).catch(() => undefined);
        throw err;
      }
      await this.announceLinks(c, n.id);
    }
    this.networks.record(n, 'connect', c.id);
  }

  /** docker network disconnect: torn down at once on a running container, then forgotten. */
  async disconnect(networkRef: string, containerRef: string, force: boolean): Promise<void> {
    const n = this.networks.resolve(networkRef);
    const c = this.containers.get(containerRef) ?? (force ? undefined : this.containers.resolve(containerRef));
    if (!c) return;
    const e = this.store.endpointsOf(c.id).find((x) => x.networkId === n.id);
    if (!e) throw new EngineError('forbidden', `container ${c.id} is not connected to network ${n.name}`);
    if (e.ip && this.netavark) {
      const ports = e.interface === 'eth0' ? c.ports : [];
      if (ports.length) await this.rootlessPorts?.stop(c.id);
      await this.netavark.teardown(c.id, c.name, [this.attachment(c, e, n)], ports).catch((err: Error) => {
        if (!force) throw err;
      });
      if (ports.length) this.containers.update(c.id, { ports: '[]' });
    }
    this.store.removeEndpoint(c.id, n.id);
    this.networks.record(n, 'disconnect', c.id);
  }

  private requireNetavark(): Netavark {
    if (!this.netavark)
      throw new EngineError(
        'internal',
        'netavark is not installed: bridge networks are not available (install netavark and aardvark-dns, or use --network host/none)',
      );
    return this.netavark;
  }
}

/** An endpoint of the spec as the network API's settings (what pending endpoints record). */
function endpointSettings(e: EndpointSpec): EndpointSettings {
  const ipam = e.ipv4 || e.ipv6 || e.linkLocalIps !== undefined ? { IPv4Address: e.ipv4, IPv6Address: e.ipv6, LinkLocalIPs: e.linkLocalIps } : undefined;
  return { Aliases: e.aliases, IPAMConfig: ipam, MacAddress: e.mac, DriverOpts: e.driverOpts, Links: e.links };
}

function endpointPlan(n: Network, settings: EndpointSettings | null | undefined): PlannedEndpoint {
  const staticIp = settings?.IPAMConfig?.IPv4Address ?? '';
  const staticIp6 = settings?.IPAMConfig?.IPv6Address ?? '';
  if (staticIp || staticIp6) {
    if (n.name === 'bridge') throw invalid('user specified IP address is supported on user defined networks only');
  }
  if (staticIp) {
    const cfg = v4Config(n);
    if (!cfg?.Subnet || !contains(parseSubnet(cfg.Subnet), staticIp))
      throw invalid(`Invalid address ${staticIp}: It does not belong to any of this network's subnets`);
  }
  // The v6 address's subnet is checked at start, as dockerd 20.10 does (allocate6); here only its form.
  if (staticIp6 && !isIp6(staticIp6)) throw invalid(`invalid IPv6 address: ${staticIp6}`);
  return {
    networkId: n.id,
    aliases: [...new Set(settings?.Aliases ?? [])],
    staticIp,
    staticIp6,
    linkLocalIps: settings?.IPAMConfig?.LinkLocalIPs ?? [],
    driverOpts: settings?.DriverOpts ?? null,
    links: (settings?.Links ?? []).map((l) => {
      const { target, alias } = parseLink(l);
      if (!target || !alias) throw invalid(`invalid link format: ${l}`);
      return l;
    }),
  };
}

/**
 * The links a container has on a network it is on: its legacy ones (HostConfig.Links) on a user network,
 * and its endpoint's own (EndpointSettings.Links, docker network connect --link).
 */
function linksOn(c: Container, e: Endpoint): Link[] {
  const legacy = networkMode(c.spec.network.mode).kind === 'user' ? linksOf(c.spec) : [];
  return [...legacy, ...e.links.map(parseLink)];
}

/** A network's IPv4 subnet (the first, which addresses come from). */
export const v4Config = (n: Network) => n.subnets.find((s) => s.Subnet && !isV6(s.Subnet));
/** Its IPv6 subnet, when IPv6 is enabled on it (one given without --ipv6 is kept but unused, as dockerd). */
export const v6Config = (n: Network) => (n.ipv6 ? n.subnets.find((s) => s.Subnet && isV6(s.Subnet)) : undefined);

export function netavarkNetwork(n: Network): NetavarkNetwork {
  return {
    // netavark names its firewall chains after the network's name, which must then be unique on the host
    // (engines side by side each have a `bridge`): it gets the ID.
    name: n.id,
    id: n.id,
    driver: 'bridge',
    network_interface: n.bridge,
    subnets: [v4Config(n), v6Config(n)].filter((s) => s !== undefined).map((s) => ({ subnet: s.Subnet!, gateway: s.Gateway! })),
    ipv6_enabled: !!v6Config(n),
    internal: n.internal,
    dns_enabled: n.dns,
    ipam_options: { driver: 'host-local' },
  };
}
