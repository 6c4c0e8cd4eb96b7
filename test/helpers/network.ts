// What an engine's networks leave on the host — bridges, firewall rules, namespace mounts, aardvark-dns —
// so the suites can check that nothing stays behind; and the host's own address for reachability tests.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { TestEngine } from './engine.js';

export interface NetworkTrace {
  bridge: string;
  subnet: string;
  /** The link that keeps the bridge while the network exists (runtime/network/netavark.ts's anchorName). */
  anchor: string;
}

/** The bridge and subnet of a network, as its inspect document gives them (remember them before rm). */
export async function traceOf(engine: TestEngine, name: string): Promise<NetworkTrace> {
  const n = (await engine.http('GET', `/networks/${name}`)).json();
  const bridge = n.Options?.['com.docker.network.bridge.name'] || `br-${String(n.Id).slice(0, 12)}`;
  return { bridge, subnet: n.IPAM.Config[0].Subnet, anchor: `bk-${String(n.Id).slice(0, 12)}` };
}

const sh = (cmd: string, args: string[], input?: string) => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
};

/** Everything of these networks still on the host: an empty list when all was undone. */
export async function leftovers(engine: TestEngine, traces: NetworkTrace[], hostPorts: number[] = []): Promise<string[]> {
  const found: string[] = [];
  const rules = sh('iptables-save', []).split('\n');
  for (const t of traces) {
    if (sh('ip', ['link', 'show', t.bridge]).trim()) found.push(`bridge ${t.bridge}`);
    if (sh('ip', ['link', 'show', t.anchor]).trim()) found.push(`anchor ${t.anchor}`);
    for (const r of rules) if (r.includes(t.subnet)) found.push(`rule ${r}`);
  }
  for (const port of hostPorts) for (const r of rules) if (new RegExp(`--dport ${port}\\b`).test(r)) found.push(`rule ${r}`);
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m?.startsWith(`${engine.runRoot}/netns`));
  found.push(...mounts.map((m) => `netns ${m}`));
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes('aardvark') && cmd.includes(engine.dir)) found.push(`aardvark-dns ${pid}`);
  }
  return found;
}

/** The host's first non-loopback IPv4 address (containers reach it through their gateway). */
/** The DNS server dockerd names in a failed lookup (`lookup X on <it>: no such host`): resolv.conf's first, as Go reports it. */
export function resolverAddress(): string {
  const ip = /^\s*nameserver\s+(\S+)/m.exec(readFileSync('/etc/resolv.conf', 'utf8'))?.[1] ?? '127.0.0.1';
  return ip.includes(':') ? `[${ip}]:53` : `${ip}:53`;
}

export function hostAddress(): string {
  for (const [name, list] of Object.entries(networkInterfaces())) {
    if (/^(br-|berth|veth|docker)/.test(name)) continue;
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  throw new Error('no host address');
}

/**
 * After an engine is gone for good (its processes killed): the bridges and firewall rules of its
 * networks, which only its teardown would remove, go; then netavark's shared chains if nobody uses them.
 */
export async function scrubNetworks(root: string): Promise<void> {
  const { existsSync } = await import('node:fs');
  const db = `${root}/berth.db`;
  if (!existsSync(db)) return;
  const Database = (await import('better-sqlite3')).default;
  let rows: { id: string; bridge: string; subnets: string }[] = [];
  try {
    const conn = new Database(db, { readonly: true, fileMustExist: true });
    rows = conn.prepare("SELECT id, bridge, subnets FROM networks WHERE driver = 'bridge'").all() as typeof rows;
    conn.close();
  } catch {
    return; // no networks table (an engine from before networks)
  }
  const subnets = rows.flatMap((r) => (JSON.parse(r.subnets) as { Subnet: string }[]).map((s) => s.Subnet));
  const { anchorName, pruneNetavarkChains } = await import('../../runtime/network/netavark.js');
  for (const r of rows) {
    // The anchor that keeps a network's bridge while the network exists (runtime/network/netavark.ts).
    if (sh('ip', ['link', 'show', anchorName(r.id)]).trim()) sh('ip', ['link', 'del', anchorName(r.id)]);
    if (sh('ip', ['link', 'show', r.bridge]).trim()) sh('ip', ['link', 'del', r.bridge]);
  }
  // The rules of these networks: by subnet, and port forwards by the network name netavark put in their
  // comment (berth names netavark networks by ID); then the per-network chains they jump to.
  const ours = (line: string) => subnets.some((s) => line.includes(s)) || rows.some((r) => line.includes(`dnat name: ${r.id} `));
  // Both families: IPv6 networks have their rules in ip6tables.
  for (const tool of ['iptables', 'ip6tables']) {
    const save = sh(`${tool}-save`, []);
    const blocks: string[] = []; // one iptables-restore each: one that fails does not stop the others
    let table = '';
    const chains = new Set<string>();
    for (const line of save.split('\n')) {
      if (line.startsWith('*')) table = line.slice(1);
      if (!line.startsWith('-A ') || !ours(line)) continue;
      blocks.push(`*${table}\n-D${line.slice(2)}\nCOMMIT\n`);
      const jump = / -j (NETAVARK-(?:DN-)?[0-9A-F]+)\b/.exec(line)?.[1];
      if (jump) for (const c of [jump, jump.replace(/^NETAVARK-(DN-)?/, 'NETAVARK-'), jump.replace(/^NETAVARK-(DN-)?/, 'NETAVARK-DN-')]) chains.add(c);
    }
    for (const c of chains) if (save.includes(`:${c} `)) blocks.push(`*nat\n-F ${c}\n-X ${c}\nCOMMIT\n`);
    for (const input of blocks) sh(`${tool}-restore`, ['--noflush'], input);
  }
  await pruneNetavarkChains();
}

/**
 * Port forwards netavark left to containers on `subnet` (an IPv4 /24: podman's oracle, whose cleanup can
 * race its own `rm -f` of a container with a restart policy): the DNAT rules to addresses in it, the
 * jumps to them (same port, same chain), then the per-network chains nothing jumps to any more.
 */
export function dropPortForwards(subnet: string): void {
  const prefix = subnet.replace(/\.0\/24$/, '.');
  if (prefix === subnet) return;
  const save = sh('iptables-save', ['-t', 'nat']);
  const lines = save.split('\n');
  const gone = new Set<string>(); // `<chain> <dport>`
  const blocks: string[] = [];
  for (const line of lines) {
    const m = /^-A (NETAVARK-DN-[0-9A-F]+) .*--dport (\d+) .*--to-destination (\d+\.\d+\.\d+\.\d+)/.exec(line);
    if (!m || !m[3]!.startsWith(prefix)) continue;
    gone.add(`${m[1]} ${m[2]}`);
    blocks.push(`*nat\n-D${line.slice(2)}\nCOMMIT\n`);
  }
  for (const line of lines) {
    const m = /^-A NETAVARK-HOSTPORT-DNAT .*--dport (\d+) .*-j (NETAVARK-DN-[0-9A-F]+)/.exec(line);
    if (m && gone.has(`${m[2]} ${m[1]}`)) blocks.push(`*nat\n-D${line.slice(2)}\nCOMMIT\n`);
  }
  for (const input of blocks) sh('iptables-restore', ['--noflush'], input);
  const after = sh('iptables-save', ['-t', 'nat']);
  for (const c of new Set([...gone].map((g) => g.split(' ')[0]!)))
    if (!after.includes(`-j ${c}`) && !after.includes(`-A ${c} `)) sh('iptables-restore', ['--noflush'], `*nat\n-X ${c}\nCOMMIT\n`);
}

/** A TCP port free on `host` now (the kernel's pick for a listener, closed again). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  server.listen(0, host);
  await once(server, 'listening');
  const address = server.address();
  await new Promise((r) => server.close(r));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}
