// netavark and aardvark-dns as libpod drives them: berth decides the addresses (IPAM) and ports, netavark
// makes the bridge, the veth in the container's network namespace, the firewall rules and port forwards,
// and keeps aardvark-dns's name records. Network namespaces are files under the run root (bind mounts of
// nsfs), so they outlive the engine with their containers.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { EngineError } from '../errors.js';
import { isMounted, unmount } from '../storage/rootfs.js';
import type { HeldPort } from './ports.js';
import { addAardvarkNames } from './dns-names.js';

const run = promisify(execFile);

// netavark's chains are shared by every engine on the host (NETAVARK_FORWARD, the port-forward chains):
// a teardown that finds a bridge empty removes chains a setup beside it is appending to, and a prune
// removes what a setup is about to use. So all of it, in any berth process, runs under one host lock.
const HOST_LOCK = '/run/lock/berth-netavark.lock';

/** Runs fn holding the host's netavark lock (held by a flock child, released if this process dies). */
export async function withNetavarkLock<T>(fn: () => Promise<T>): Promise<T> {
  await mkdir(dirname(HOST_LOCK), { recursive: true });
  const holder = spawn('flock', [HOST_LOCK, 'sh', '-c', 'echo locked; read _'], { stdio: ['pipe', 'pipe', 'ignore'] });
  await Promise.race([
    once(holder.stdout!, 'data'),
    once(holder, 'exit').then(() => {
      throw new Error('flock failed');
    }),
  ]);
  try {
    return await fn();
  } finally {
    holder.stdin!.end();
  }
}

export const NETAVARK_PATHS = ['/usr/lib/podman/netavark', '/usr/libexec/podman/netavark', '/usr/local/libexec/podman/netavark'];
export const AARDVARK_PATHS = ['/usr/lib/podman/aardvark-dns', '/usr/libexec/podman/aardvark-dns', '/usr/local/libexec/podman/aardvark-dns'];

/** A network as netavark's `network_info` describes it. */
export interface NetavarkNetwork {
  name: string;
  id: string;
  driver: 'bridge';
  network_interface: string;
  subnets: { subnet: string; gateway: string }[];
  ipv6_enabled: boolean;
  internal: boolean;
  dns_enabled: boolean;
  ipam_options: { driver: 'host-local' };
}

/** One network of a container for setup/teardown. */
export interface Attachment {
  network: NetavarkNetwork;
  interfaceName: string;
  ips: string[]; // the v4 address, then the v6 one on an IPv6 network
  mac?: string;
  aliases: string[];
}

export interface SetupResult {
  mac: string;
}

export class Netavark {
  constructor(
    readonly binary: string,
    readonly aardvark: string | undefined,
    readonly configDir: string,
    readonly netnsDir: string,
  ) {}

  static find(configDir: string, netnsDir: string): Netavark | undefined {
    const binary = NETAVARK_PATHS.find((p) => existsSync(p));
    return binary
      ? new Netavark(
          binary,
          AARDVARK_PATHS.find((p) => existsSync(p)),
          configDir,
          netnsDir,
        )
      : undefined;
  }

  netnsPath = (containerId: string) => `${this.netnsDir}/${containerId}`;

  /** A new network namespace, pinned by a bind mount at the container's netns path. */
  async createNetns(containerId: string): Promise<string> {
    const path = this.netnsPath(containerId);
    if (await isMounted(path)) return path;
    await mkdir(this.netnsDir, { recursive: true });
    await writeFile(path, '');
    await run('unshare', [`--net=${path}`, 'true']);
    return path;
  }

  async removeNetns(containerId: string): Promise<void> {
    const path = this.netnsPath(containerId);
    await unmount(path);
    await rm(path, { force: true });
  }

  private async call(
    verb: 'setup' | 'teardown',
    netns: string,
    containerId: string,
    containerName: string,
    attachments: Attachment[],
    ports: HeldPort[],
  ): Promise<string> {
    await mkdir(this.configDir, { recursive: true }); // netavark refuses to start aardvark-dns without it
    const input = {
      container_id: containerId,
      container_name: containerName,
      networks: Object.fromEntries(
        attachments.map((a) => [
          a.network.name,
          {
            interface_name: a.interfaceName,
            static_ips: a.ips,
            aliases: a.aliases,
            ...(a.mac ? { static_mac: a.mac } : {}),
          },
        ]),
      ),
      network_info: Object.fromEntries(attachments.map((a) => [a.network.name, a.network])),
      port_mappings: ports.map((p) => ({ host_ip: p.HostIp, container_port: p.ContainerPort, host_port: p.HostPort, range: 1, protocol: p.Protocol })),
    };
    const args = ['--config', this.configDir, ...(this.aardvark ? ['-a', this.aardvark] : []), verb, netns];
    return withNetavarkLock(
      () =>
        new Promise((resolve, reject) => {
          const child = execFile(this.binary, args, { timeout: 30_000 }, (err, stdout, stderr) => {
            if (!err) return resolve(stdout);
            const text = `${stdout}${stderr}`.trim();
            let message = text;
            try {
              message = (JSON.parse(text) as { error?: string }).error ?? text;
            } catch {
              // not JSON
            }
            reject(new EngineError('internal', `netavark ${verb}: ${message || err.message}`));
          });
          child.stdin!.end(JSON.stringify(input));
        }),
    );
  }

  /** Set once aardvark-dns is seen to keep its listeners across a reload (newer versions may). */
  private listenersKept = false;

  /**
   * aardvark-dns 1.4 closes and rebinds every gateway's listener when it reloads on netavark's SIGHUP,
   * after setup has returned: a container's first lookup in that window fails ("bad address"). Waits
   * (up to 2 s) until each gateway has a listener made after the setup began. One that stays the same
   * for 250 ms means this aardvark keeps its listeners, and later setups wait only for one to exist.
   */
  private async awaitDnsReload(gateways: string[], before: Map<string, string>): Promise<void> {
    let allUpSince: number | undefined;
    for (const start = Date.now(); Date.now() - start < 2000; await sleep(5)) {
      const now = await dnsListeners(gateways);
      if (!gateways.every((g) => now.has(g))) continue;
      if (this.listenersKept || gateways.every((g) => now.get(g) !== before.get(g))) return;
      allUpSince ??= Date.now();
      if (Date.now() - allUpSince > 250) {
        this.listenersKept = true;
        return;
      }
    }
  }

  /** Sets the container up on its networks; returns each interface's MAC address, by network name. */
  async setup(netns: string, containerId: string, containerName: string, attachments: Attachment[], ports: HeldPort[]): Promise<Map<string, SetupResult>> {
    const gateways = this.aardvark
      ? attachments
          .filter((a) => a.network.dns_enabled)
          .flatMap((a) => a.network.subnets.map((s) => s.gateway))
          .filter((g) => !g.includes(':'))
      : [];
    // Only a rebinding aardvark needs the listeners from before (to tell the new ones).
    const before = gateways.length && !this.listenersKept ? await dnsListeners(gateways) : new Map<string, string>();
    const out = JSON.parse(await this.call('setup', netns, containerId, containerName, attachments, ports)) as Record<
      string,
      { interfaces?: Record<string, { mac_address?: string }> }
    >;
    if (gateways.length) await this.awaitDnsReload(gateways, before);
    return new Map(attachments.map((a) => [a.network.name, { mac: out[a.network.name]?.interfaces?.[a.interfaceName]?.mac_address ?? '' }]));
  }

  /** Adds names to a running container's DNS record on a network (dns-names.ts), waiting for aardvark-dns's reload. */
  async addDnsNames(network: NetavarkNetwork, containerId: string, names: string[]): Promise<void> {
    if (!this.aardvark || !network.dns_enabled || names.length === 0) return;
    const gateways = network.subnets.map((s) => s.gateway).filter((g) => !g.includes(':'));
    const before = gateways.length && !this.listenersKept ? await dnsListeners(gateways) : new Map<string, string>();
    const told = await withNetavarkLock(() => addAardvarkNames(this.configDir, network.name, containerId, names));
    if (told && gateways.length) await this.awaitDnsReload(gateways, before);
  }

  /**
   * Undoes setup: DNS records, veth, port forwards, firewall rules, and the bridge once nothing is on
   * it. When the namespace is gone (a reboot, a run root reset) a stand-in with the same interface names
   * is made, because netavark stops at a missing veth before it reaches the rules.
   */
  async teardown(containerId: string, containerName: string, attachments: Attachment[], ports: HeldPort[]): Promise<void> {
    if (attachments.length === 0) return;
    let netns = this.netnsPath(containerId);
    let standIn = false;
    if (!(await isMounted(netns))) {
      netns = await this.createNetns(`${containerId}.teardown`);
      standIn = true;
      for (const a of attachments) {
        await run('nsenter', [`--net=${netns}`, 'ip', 'link', 'add', a.interfaceName, 'type', 'veth', 'peer', 'name', `${a.interfaceName}p`]).catch(
          () => undefined,
        );
      }
    }
    try {
      await this.call('teardown', netns, containerId, containerName, attachments, ports);
    } catch (err) {
      // What is already gone (a DNS file, a veth) fails the call but nothing is left: only log the rest.
      if (!/No such (file|device)|not found|does not exist/i.test((err as Error).message)) throw err;
    } finally {
      if (standIn) await this.removeNetns(`${containerId}.teardown`);
    }
  }
}

/** The UDP port-53 listeners on these gateways: socket inode by gateway. */
async function dnsListeners(gateways: string[]): Promise<Map<string, string>> {
  // /proc/net/udp names local addresses as little-endian hex, `0109E70A:0035` for 10.231.9.1:53.
  const hex = new Map(
    gateways.map((ip) => [
      `${ip
        .split('.')
        .reverse()
        .map((b) => Number(b).toString(16).padStart(2, '0'))
        .join('')
        .toUpperCase()}:0035`,
      ip,
    ]),
  );
  const found = new Map<string, string>();
  const table = await readFile('/proc/net/udp', 'utf8').catch(() => '');
  for (const line of table.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const ip = hex.get(fields[1] ?? '');
    if (ip && fields[9]) found.set(ip, fields[9]);
  }
  return found;
}
const GLOBAL_CHAINS = { nat: ['NETAVARK-HOSTPORT-DNAT', 'NETAVARK-HOSTPORT-MASQ', 'NETAVARK-HOSTPORT-SETMARK'], filter: ['NETAVARK_FORWARD'] } as const;

/**
 * netavark's teardown leaves its shared chains (port-forward and forward hooks) behind. When no network
 * of anyone's (berth's or Podman's) has rules left in them, they go too: nothing stale stays.
 */
export function pruneNetavarkChains(): Promise<void> {
  // netavark makes them in both families (ip6tables too, for IPv6 networks): each is pruned on its own.
  return withNetavarkLock(async () => {
    await pruneUnusedChains('iptables');
    await pruneUnusedChains('ip6tables');
  });
}

async function pruneUnusedChains(tool: 'iptables' | 'ip6tables'): Promise<void> {
  const save = await run(`${tool}-save`).then(
    (r) => r.stdout,
    () => '',
  );
  if (!save.includes('NETAVARK')) return;
  const tables = new Map<string, string[]>();
  let table = '';
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) tables.set((table = line.slice(1)), []);
    else if (line.startsWith('-A ')) tables.get(table)?.push(line);
  }
  const nat = tables.get('nat') ?? [];
  const filter = tables.get('filter') ?? [];
  // A network's own chains (NETAVARK-<hash>, NETAVARK-DN-<hash>) or forward rules: still in use.
  if (/:NETAVARK-(?!HOSTPORT-)/.test(save) || filter.some((l) => l.startsWith('-A NETAVARK_FORWARD '))) return;
  if (nat.some((l) => l.startsWith('-A NETAVARK-HOSTPORT-DNAT '))) return;
  const script: string[] = [];
  for (const [name, lines] of [
    ['nat', nat],
    ['filter', filter],
  ] as const) {
    const chains = GLOBAL_CHAINS[name];
    const present = chains.filter((c) => save.includes(`:${c} `));
    if (present.length === 0) continue;
    script.push(`*${name}`);
    // The jumps into them first, then their own rules, then the chains.
    for (const l of lines) if (present.some((c) => l.includes(`-j ${c}`)) && !present.some((c) => l.startsWith(`-A ${c} `))) script.push(`-D${l.slice(2)}`);
    for (const c of present) script.push(`-F ${c}`);
    for (const c of present) script.push(`-X ${c}`);
    script.push('COMMIT');
  }
  if (script.length === 0) return;
  await new Promise<void>((resolve) => {
    const child = execFile(`${tool}-restore`, ['--noflush'], () => resolve());
    child.stdin!.end(`${script.join('\n')}\n`);
  });
}
