// netavark and aardvark-dns as libpod drives them: berth decides the addresses (IPAM) and ports, netavark
// makes the bridge, the veth in the container's network namespace, the firewall rules and port forwards,
// and keeps aardvark-dns's name records. Network namespaces are files under the run root (bind mounts of
// nsfs), so they outlive the engine with their containers.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, readlink, rename, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { EngineError } from '../errors.js';
import { hasOwnMount, unmountOwn } from '../storage/rootfs.js';
import { type NetnsOwner, netnsInUserns } from '../rootless/netns-owner.js';
import { Mutex } from '../util/lock.js';
import { LineHelper } from '../util/line-helper.js';
import { execFileOff } from '../util/spawner.js';
import { rootless } from '../rootless/mode.js';
import type { HeldPort } from './ports.js';
import { addAardvarkNames } from './dns-names.js';
import { RootlessNetns } from './rootless-netns.js';

const run = promisify(execFile);

// netavark's chains are shared by every engine on the host (NETAVARK_FORWARD, the port-forward chains):
// a teardown that finds a bridge empty removes chains a setup beside it is appending to, and a prune
// removes what a setup is about to use. So all of it, in any berth process, runs under one host lock.
// A rootless engine's netavark works in its own rootless namespace (rootless-netns.ts): its lock is the
// engine's, under its run root.
export const HOST_NETAVARK_LOCK = '/run/lock/berth-netavark.lock';

/** Runs fn holding the host's netavark lock (held by a child process, released if this process dies). */
export function withNetavarkLock<T>(fn: () => Promise<T>, path = HOST_NETAVARK_LOCK): Promise<T> {
  let lock = locks.get(path);
  if (!lock) locks.set(path, (lock = new HostLock(path)));
  return lock.run(fn);
}

/**
 * One long-lived perl child per process holds the lock for it: a line `x` takes it (flock LOCK_EX), `u`
 * gives it back, each answered `ok`; when this process dies its stdin closes and the lock goes with it.
 * A `flock … sh` child per call cost two processes each time. (perl-base is essential on Debian; without
 * perl, the flock child it is.) Calls in this process take their turns before it.
 */
const LOCK_HOLDER = `use Fcntl ':flock'; $| = 1; open(my $f, '>>', $ARGV[0]) or die "$ARGV[0]: $!\n";
while (my $c = <STDIN>) { flock($f, $c =~ /^x/ ? LOCK_EX : LOCK_UN) or die "flock: $!\n"; print "ok\n"; }`;

class HostLock {
  private readonly answers: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private readonly turns = new Mutex();
  private readonly holder: LineHelper;

  constructor(readonly path: string) {
    this.holder = new LineHelper('/usr/bin/perl', ['-e', LOCK_HOLDER, path], {
      encoding: 'utf8',
      disabled: !existsSync('/usr/bin/perl'),
      line: () => this.answers.shift()?.resolve(),
      // If the holder died the kernel released the lock with it.
      gone: (err) => {
        for (const a of this.answers.splice(0)) a.reject(err);
      },
    });
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.turns.run(async () => {
      await mkdir(dirname(this.path), { recursive: true });
      if (!this.holder.available()) return withFlockChild(this.path, fn);
      await this.ask('x');
      try {
        return await fn();
      } finally {
        await this.ask('u').catch(() => undefined);
      }
    });
  }

  private async ask(request: 'x' | 'u'): Promise<void> {
    const answered = new Promise<void>((resolve, reject) => this.answers.push({ resolve, reject }));
    // Referenced only while an answer is awaited: an idle holder keeps no process (berth cleanup) alive.
    this.holder.awaiting(true);
    if (!this.holder.send(request)) this.answers.pop()?.reject(new Error('the host lock holder is not available'));
    try {
      await answered;
    } finally {
      if (this.answers.length === 0) this.holder.awaiting(false);
    }
  }
}

const locks = new Map<string, HostLock>();

/** What netavark says when another netavark on the host (podman's, which does not take berth's lock) made
 * or removed one of the chains both share between its check and its change. */
const LOST_CHAIN_RACE = /Chain already exists|No chain\/target\/match by that name|Another app is currently holding the xtables lock/;

/** A setup that lost that race is undone (teardown) and run again, up to three times. */
async function setupRetried(exec: (verb: 'setup' | 'teardown') => Promise<string>): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await exec('setup');
    } catch (err) {
      if (attempt >= 3 || !LOST_CHAIN_RACE.test((err as Error).message)) throw err;
      await exec('teardown').catch(() => undefined);
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
}

/** The lock held by a `flock` child for one call (where there is no perl). */
async function withFlockChild<T>(path: string, fn: () => Promise<T>): Promise<T> {
  await mkdir(dirname(path), { recursive: true });
  const holder = spawn('flock', [path, 'sh', '-c', 'echo locked; read _'], { stdio: ['pipe', 'pipe', 'ignore'] });
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

/**
 * A network's bridge and firewall chains stay while the network exists, as dockerd keeps docker0 and its
 * rules: after netavark's first setup on a network berth enslaves a link (the anchor) to the bridge,
 * so that netavark's teardown of the last container finds the bridge in use and leaves it and the
 * network's chains (netavark removes them only when no link has the bridge as its master). Removing the
 * network drops the anchor first, then netavark tears the empty bridge and the chains down (`drop`).
 */
export const anchorName = (networkId: string) => `bk-${networkId.slice(0, 12)}`;

/** Whether the network's anchor is on its bridge (sysfs: no process). */
export async function isAnchored(n: NetavarkNetwork): Promise<boolean> {
  const master = await readlink(`/sys/class/net/${anchorName(n.id)}/master`).catch(() => '');
  return master !== '' && basename(master) === n.network_interface;
}

/** `ip` in the engine's network namespace, or (rootless) in its rootless one, whose sysfs it cannot read. */
const ipIn = (netns: string | undefined, args: string[]) => (netns ? run('nsenter', [`--net=${netns}`, 'ip', ...args]) : run('ip', args));

/** The anchor's bridge: `ip -o link show` says `master <bridge>`. */
async function anchorMaster(n: NetavarkNetwork, netns: string | undefined): Promise<string | undefined> {
  if (!netns) return (await isAnchored(n)) ? n.network_interface : existsSync(`/sys/class/net/${anchorName(n.id)}`) ? '' : undefined;
  const out = await ipIn(netns, ['-o', 'link', 'show', anchorName(n.id)]).then(
    (r) => r.stdout,
    () => undefined,
  );
  return out === undefined ? undefined : (/ master (\S+)/.exec(out)?.[1] ?? '');
}

async function ensureAnchor(n: NetavarkNetwork, netns?: string): Promise<void> {
  if (!n.network_interface) return;
  const master = await anchorMaster(n, netns);
  if (master === n.network_interface) return;
  const name = anchorName(n.id);
  if (master !== undefined) await ipIn(netns, ['link', 'set', name, 'master', n.network_interface]);
  // A veth pair (the dummy driver may not be loaded), left down: one end on the bridge, the other loose.
  else await ipIn(netns, ['link', 'add', name, 'master', n.network_interface, 'type', 'veth', 'peer', 'name', name.replace(/^bk-/, 'bq-')]);
}

/**
 * Runs inside a container's new network namespace (`unshare --net=<path> sh -c … sh <host netns> <host
 * veth> <bridge>`) when berth sets its one network up itself, all from one process of the engine's:
 * router advertisements ignored on the interfaces to come (netavark disables autoconf), the `ip` batch on
 * stdin (directBatch), then, back in the engine's namespace, the host end of the veth onto the bridge.
 */
const DIRECT_NETNS = 'echo 0 2>/dev/null >/proc/sys/net/ipv6/conf/default/autoconf; ip -b - && exec nsenter --net="$1" ip link set "$2" master "$3" up';

/**
 * What netavark's bridge driver does in a container's namespace, for an IPv4 network: loopback up, the veth
 * (its host end made straight in the engine's namespace), the address, the default route through the
 * gateway (none on an internal network), with netavark's metric.
 */
const HOST_NETNS = `/proc/${process.pid}/ns/net`;

function directBatch(a: Attachment, hostVeth: string): string {
  const subnet = a.network.subnets[0]!;
  const dev = a.interfaceName;
  const lines = [
    'link set lo up',
    `link add ${dev} address ${a.mac} type veth peer name ${hostVeth} netns ${HOST_NETNS}`,
    `addr add ${a.ips[0]}/${subnet.subnet.split('/')[1]} broadcast + dev ${dev}`,
    `link set ${dev} up`,
    ...(a.network.internal ? [] : [`route add default via ${subnet.gateway} dev ${dev} metric 100`]),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * Rootless: netavark (and the aardvark-dns it starts) in a private mount namespace whose /etc/resolv.conf
 * is slirp4netns's resolver ($0), so that names outside are forwarded where the namespace reaches them.
 */
const ROOTLESS_MOUNTNS = ['unshare', '-m', 'sh', '-c', 'mount --bind "$0" /etc/resolv.conf && exec "$@"'];

/** Through the engine's spawn helper (util/spawner.ts): no fork of the engine on a container's start path. */
async function runWithInput(cmd: string, args: string[], input: string): Promise<void> {
  await execFileOff(cmd, args, { input, timeout: 30_000 }).catch((err: Error & { stderr?: string }) => {
    throw new Error(`${cmd}: ${String(err.stderr ?? '').trim() || err.message}`);
  });
}

async function writeAtomic(file: string, text: string): Promise<void> {
  await writeFile(`${file}.berth-tmp`, text);
  await rename(`${file}.berth-tmp`, file);
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
    /** A rootless engine's: where netavark, aardvark-dns and the bridges work (netnsDir's `rootless`). */
    readonly rootlessNs?: RootlessNetns,
  ) {}

  static find(configDir: string, netnsDir: string): Netavark | undefined {
    const binary = NETAVARK_PATHS.find((p) => existsSync(p));
    return binary
      ? new Netavark(
          binary,
          AARDVARK_PATHS.find((p) => existsSync(p)),
          configDir,
          netnsDir,
          rootless() ? new RootlessNetns(dirname(netnsDir)) : undefined,
        )
      : undefined;
  }

  /** The host's lock, or a rootless engine's own (its chains are in its own namespace). */
  private lock<T>(fn: () => Promise<T>): Promise<T> {
    return this.rootlessNs ? withNetavarkLock(fn, join(dirname(this.netnsDir), 'netavark.lock')) : withNetavarkLock(fn);
  }

  /** /proc/net/udp of the namespace aardvark-dns listens in: a rootless engine's is its aardvark-dns's own. */
  private async udpTable(): Promise<string> {
    if (!this.rootlessNs) return '/proc/net/udp';
    const pid = Number((await readFile(join(this.configDir, 'aardvark-dns', 'aardvark.pid'), 'utf8').catch(() => '')).trim());
    return pid > 0 ? `/proc/${pid}/net/udp` : '/nonexistent';
  }

  /**
   * A rootless engine with nothing on its networks any more (`idle`, asked under the lock: a start
   * allocates its addresses before it takes it): aardvark-dns, slirp4netns and the namespace go.
   */
  async stopRootlessIfIdle(idle: () => boolean): Promise<void> {
    const ns = this.rootlessNs;
    if (!ns) return;
    await this.lock(async () => {
      if (!idle() || !(await ns.exists())) return;
      await this.signalAardvark('SIGTERM');
      await rm(join(this.configDir, 'aardvark-dns'), { recursive: true, force: true });
      await ns.stop();
    });
  }

  netnsPath = (containerId: string) => `${this.netnsDir}/${containerId}`;
  /** A rootless container's own user namespace, pinned where its network namespace was made in it (netns-owner.ts). */
  usernsPath = (containerId: string) => `${this.netnsDir}/${containerId}.userns`;

  /** Networks netavark set up in this process's life: their bridge and firewall rules are known to be in place. */
  private readonly warmed = new Set<string>();
  /** Containers whose one network createNetns set up itself, until their setup: the host end of the veth. */
  private readonly direct = new Map<string, string>();
  /** aardvark-dns's files have one writer at a time: netavark, or berth (directDns, addDnsNames). */
  private readonly dnsLock = new Mutex();

  /**
   * A new network namespace, pinned by a bind mount at the container's netns path. A container with one
   * network that netavark has set up before in this process's life (its bridge anchored, so its rules
   * stay), IPv4 only and no published ports, gets its interface here, in the same process: on a warm
   * network netavark would only check its ~16 rules again (an iptables process each). Its setup then
   * enslaves the host end (setupDirect).
   */
  async createNetns(containerId: string, attachments: Attachment[] = [], ports: HeldPort[] = [], owner?: NetnsOwner): Promise<string> {
    const path = this.netnsPath(containerId);
    // nsfs has a device of its own: two stats, not a read of the host's mount table.
    if (await hasOwnMount(path)) return path;
    await mkdir(this.netnsDir, { recursive: true });
    await writeFile(path, '');
    if (owner) {
      await netnsInUserns(path, owner);
      return path;
    }
    const a = attachments.length === 1 && ports.length === 0 ? attachments[0]! : undefined;
    if (a && (await this.directOk(a))) {
      const hostVeth = `veth${randomBytes(5).toString('hex')}`;
      try {
        await runWithInput(
          'unshare',
          [`--net=${path}`, 'sh', '-c', DIRECT_NETNS, 'sh', HOST_NETNS, hostVeth, a.network.network_interface],
          directBatch(a, hostVeth),
        );
        this.direct.set(containerId, hostVeth);
        return path;
      } catch (err) {
        process.stderr.write(`berth: network namespace of ${containerId}: ${(err as Error).message}; netavark sets it up\n`);
        await unmountOwn(path);
      }
    }
    await execFileOff('unshare', [`--net=${path}`, 'true'], { timeout: 30_000 });
    return path;
  }

  /** Whether berth may set this network up itself (createNetns): warm, anchored, IPv4 only, its DNS server up. */
  private async directOk(a: Attachment): Promise<boolean> {
    // Rootless: the bridges are in the rootless namespace, not the engine's, and are not anchored.
    if (this.rootlessNs) return false;
    const n = a.network;
    if (!this.warmed.has(n.id) || n.ipv6_enabled || n.subnets.length !== 1 || a.ips.length !== 1 || !a.mac) return false;
    if (!(await isAnchored(n))) return false;
    return !n.dns_enabled || !this.aardvark || existsSync(join(this.configDir, 'aardvark-dns', n.name));
  }

  /** What createNetns's interface still lacks: the container's DNS record. */
  private async setupDirect(containerId: string, containerName: string, a: Attachment): Promise<Map<string, SetupResult>> {
    if (a.network.dns_enabled && this.aardvark) {
      const gateways = a.network.subnets.map((s) => s.gateway);
      const before = await this.directDns(a, containerId, containerName, gateways);
      await this.awaitDnsReload(gateways, before);
    }
    return new Map([[a.network.name, { mac: a.mac! }]]);
  }

  /**
   * The container's line in aardvark-dns's file of the network (as netavark writes it), and aardvark-dns
   * told; returns its listeners from just before (taken in turn: a reload for another container before
   * this one's line was written must not pass for this one's).
   */
  private async directDns(a: Attachment, containerId: string, containerName: string, gateways: string[]): Promise<Map<string, string>> {
    const dir = join(this.configDir, 'aardvark-dns');
    const file = join(dir, a.network.name);
    const names = [...new Set([containerName, ...a.aliases].filter(Boolean))];
    return this.dnsLock.run(async () => {
      const before = this.listenersKept ? new Map<string, string>() : await dnsListeners(gateways, await this.udpTable());
      const text = (await readFile(file, 'utf8').catch(() => undefined)) ?? `${a.network.subnets.map((s) => s.gateway).join(',')}\n`;
      const lines = text.split('\n').filter((l, i) => l && (i === 0 || !l.startsWith(`${containerId} `)));
      await writeAtomic(file, `${[...lines, `${containerId} ${a.ips[0]}  ${names.join(',')}`].join('\n')}\n`);
      // Not running (its last network's file went meanwhile): started as netavark starts it.
      if (!(await this.signalAardvark())) await run(this.aardvark!, ['--config', dir, '-p', '53', 'run']);
      return before;
    });
  }

  /** Removes the container's line, keeping the file (and aardvark-dns serving the network) for the next one. */
  private async directDnsRemove(n: NetavarkNetwork, containerId: string): Promise<void> {
    const file = join(this.configDir, 'aardvark-dns', n.name);
    await this.dnsLock.run(async () => {
      const text = await readFile(file, 'utf8').catch(() => undefined);
      if (text === undefined) return;
      const lines = text.split('\n').filter(Boolean);
      const kept = lines.filter((l, i) => i === 0 || !l.startsWith(`${containerId} `));
      if (kept.length === lines.length) return;
      await writeAtomic(file, `${kept.join('\n')}\n`);
      await this.signalAardvark();
    });
  }

  /** SIGHUP to this engine's aardvark-dns (it rereads its files); false when it is not running. */
  private async signalAardvark(signal: NodeJS.Signals = 'SIGHUP'): Promise<boolean> {
    const pid = Number((await readFile(join(this.configDir, 'aardvark-dns', 'aardvark.pid'), 'utf8').catch(() => '')).trim());
    if (!(pid > 0)) return false;
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  async removeNetns(containerId: string): Promise<void> {
    this.direct.delete(containerId);
    for (const path of [this.netnsPath(containerId), this.usernsPath(containerId)]) {
      await unmountOwn(path);
      await rm(path, { force: true });
    }
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
      // Rootless too: rootlessport (rootless-ports.ts) forwards the host's ports, and netavark's DNAT in the
      // rootless namespace serves containers that dial the gateway's port there, as podman sets both up.
      port_mappings: ports.map((p) => ({
        host_ip: p.HostIp,
        container_port: p.ContainerPort,
        host_port: p.HostPort,
        range: 1,
        protocol: p.Protocol,
      })),
    };
    const ns = this.rootlessNs;
    const exec = (v: 'setup' | 'teardown') =>
      new Promise<string>((resolve, reject) => {
        const args = ['--config', this.configDir, ...(ns ? ['--rootless', 'true'] : []), ...(this.aardvark ? ['-a', this.aardvark] : []), v, netns];
        const cb = (err: Error | null, stdout: string, stderr: string) => {
          if (!err) return resolve(stdout);
          const text = `${stdout}${stderr}`.trim();
          let message = text;
          try {
            message = (JSON.parse(text) as { error?: string }).error ?? text;
          } catch {
            // not JSON
          }
          reject(new EngineError('internal', `netavark ${v}: ${message || err.message}`));
        };
        const child = ns
          ? execFile('nsenter', [`--net=${ns.path}`, ...ROOTLESS_MOUNTNS, ns.resolvConf, this.binary, ...args], { timeout: 30_000 }, cb)
          : execFile(this.binary, args, { timeout: 30_000 }, cb);
        child.stdin!.end(JSON.stringify(input));
      });
    return this.lock(() =>
      this.dnsLock.run(async () => {
        // A namespace made anew (the pause died): aardvark-dns's records were of the one that is gone.
        if (ns && verb === 'setup' && (await ns.ensure())) await rm(join(this.configDir, 'aardvark-dns'), { recursive: true, force: true });
        const out = verb === 'setup' ? await setupRetried(exec) : await exec(verb);
        if (verb === 'setup') {
          for (const a of attachments) {
            // The bridge and its rules stay from now on (anchorName); a failure only costs the next run a netavark setup.
            // Rootless: in the rootless namespace, while it lingers (berth's own fast path stays off there).
            await ensureAnchor(a.network, ns?.path).then(
              () => !ns && this.warmed.add(a.network.id),
              (err: Error) => process.stderr.write(`berth: anchor of ${a.network.network_interface}: ${err.message}\n`),
            );
          }
        }
        return out;
      }),
    );
  }

  /** A network being removed: no more direct setups on it. */
  forget(network: NetavarkNetwork): void {
    this.warmed.delete(network.id);
  }

  /** After a network's removal: its DNS file, if one stayed (directDnsRemove keeps it), and aardvark-dns told. */
  async dropDns(network: NetavarkNetwork): Promise<void> {
    if (!this.aardvark) return;
    const dir = join(this.configDir, 'aardvark-dns');
    await this.dnsLock.run(async () => {
      const text = await readFile(join(dir, network.name), 'utf8').catch(() => undefined);
      if (text === undefined) return;
      // Only when no container is in it (network rm refuses while one is).
      if (text.split('\n').filter(Boolean).length > 1) return;
      await rm(join(dir, network.name), { force: true });
      const left = (await readdir(dir).catch(() => [] as string[])).filter((f) => f !== 'aardvark.pid' && !f.endsWith('.berth-tmp'));
      await this.signalAardvark(left.length ? 'SIGHUP' : 'SIGTERM');
    });
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
      const now = await dnsListeners(gateways, await this.udpTable());
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
    const hostVeth = this.direct.get(containerId);
    if (hostVeth && attachments.length === 1 && ports.length === 0) {
      this.direct.delete(containerId);
      return this.setupDirect(containerId, containerName, attachments[0]!);
    }
    const gateways = this.aardvark
      ? attachments
          .filter((a) => a.network.dns_enabled)
          .flatMap((a) => a.network.subnets.map((s) => s.gateway))
          .filter((g) => !g.includes(':'))
      : [];
    // Only a rebinding aardvark needs the listeners from before (to tell the new ones).
    const before = gateways.length && !this.listenersKept ? await dnsListeners(gateways, await this.udpTable()) : new Map<string, string>();
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
    const before = gateways.length && !this.listenersKept ? await dnsListeners(gateways, await this.udpTable()) : new Map<string, string>();
    const told = await this.dnsLock.run(() => addAardvarkNames(this.configDir, network.name, containerId, names));
    if (told && gateways.length) await this.awaitDnsReload(gateways, before);
  }

  /**
   * Undoes setup: DNS records, veth, port forwards, firewall rules, and the bridge once nothing is on
   * it. When the namespace is gone (a reboot, a run root reset) a stand-in with the same interface names
   * is made, because netavark stops at a missing veth before it reaches the rules. When the namespace goes
   * right after (`netnsGoing`: the veth goes with it) and the network is anchored, one network without
   * ports needs nothing of netavark: its rules are the network's, which stay; only its DNS record goes.
   */
  async teardown(containerId: string, containerName: string, attachments: Attachment[], ports: HeldPort[], netnsGoing = false): Promise<void> {
    if (attachments.length === 0) return;
    // Rootless, its namespace gone (the pause died): the bridges, veths and aardvark-dns's view went with it.
    if (this.rootlessNs && !(await this.rootlessNs.exists())) return;
    const [only] = attachments;
    if (netnsGoing && attachments.length === 1 && ports.length === 0 && (await isAnchored(only!.network))) {
      if (only!.network.dns_enabled && this.aardvark) await this.directDnsRemove(only!.network, containerId);
      return;
    }
    let netns = this.netnsPath(containerId);
    let standIn = false;
    if (!(await hasOwnMount(netns))) {
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

/**
 * The removal of a network that containers used: its anchor goes, then netavark's teardown of a stand-in
 * finds the bridge empty and removes it with the network's firewall chains (and DNS file); then
 * netavark's shared chains, if no one else's network uses them.
 */
export async function dropNetwork(netavark: Netavark, network: NetavarkNetwork): Promise<void> {
  netavark.forget(network);
  // Rootless: the anchor and bridge are in the rootless namespace (if it still lingers), its chains too.
  const ns = netavark.rootlessNs;
  if (ns && !(await ns.exists())) return netavark.dropDns(network);
  await ipIn(ns?.path, ['link', 'del', anchorName(network.id)]).catch(() => undefined);
  const bridgeUp = ns
    ? await ipIn(ns.path, ['link', 'show', network.network_interface]).then(
        () => true,
        () => false,
      )
    : existsSync(`/sys/class/net/${network.network_interface}`);
  if (network.network_interface && bridgeUp) {
    const standIn: Attachment = { network, interfaceName: 'eth0', ips: network.subnets.map((s) => s.gateway), aliases: [] };
    await netavark.teardown(randomBytes(32).toString('hex'), 'berth-network-rm', [standIn], []);
  }
  await netavark.dropDns(network);
  if (!ns) await pruneNetavarkChains();
}

/** The UDP port-53 listeners on these gateways: socket inode by gateway. */
async function dnsListeners(gateways: string[], table = '/proc/net/udp'): Promise<Map<string, string>> {
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
  const text = await readFile(table, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
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
  if (rootless()) return Promise.resolve(); // its chains are in its own namespace, which goes when idle
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
