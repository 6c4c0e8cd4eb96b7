// Published ports: what a container asks for (PortBindings, PublishAllPorts over ExposedPorts), and the
// host ports it gets at start — fixed ones checked against other containers and the host, free ones
// taken from the kernel's ephemeral range, as dockerd does.
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { EngineError, invalid } from '../errors.js';
import type { PortSpec } from '../containers/spec.js';
import { rootless } from '../rootless/mode.js';
import { privilegedPortError } from './rootless-ports.js';

/** A host port held by a running container (the `ports` column). */
export interface HeldPort {
  HostIp: string; // '' = every address
  HostPort: number;
  ContainerPort: number;
  Protocol: string; // tcp, udp, sctp
}

interface Wanted {
  hostIp: string;
  from: number; // host port range asked for; 0 = any free port
  to: number;
  containerPort: number;
  protocol: string;
}

/** "80/tcp" → [80, 'tcp']. */
export function parsePortKey(key: string): [number, string] {
  const [port = '', protocol = 'tcp'] = key.split('/');
  const n = Number(port);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw invalid(`invalid port specification: "${key}"`);
  if (!['tcp', 'udp', 'sctp'].includes(protocol.toLowerCase())) throw invalid(`invalid proto: ${protocol}`);
  return [n, protocol.toLowerCase()];
}

/** The host port range asked for; "" and "0" (what testcontainers sends) both mean any free port, as in dockerd. */
function hostRange(hostPort: string | undefined, key: string): [number, number] {
  if (!hostPort) return [0, 0];
  const m = /^(\d+)(?:-(\d+))?$/.exec(hostPort.trim());
  const from = Number(m?.[1]);
  const to = Number(m?.[2] ?? m?.[1]);
  if (m && from === 0 && to === 0) return [0, 0];
  if (!m || from < 1 || to > 65535 || to < from) throw invalid(`invalid port specification: "${hostPort}" for ${key}`);
  return [from, to];
}

/** What the container asks to publish; throws on malformed specs (create refuses them early). */
export function wantedPorts(ports: Pick<PortSpec, 'expose' | 'publish' | 'publishAll'>): Wanted[] {
  const out: Wanted[] = [];
  const bindings = ports.publish ?? {};
  for (const [key, list] of Object.entries(bindings)) {
    const [containerPort, protocol] = parsePortKey(key);
    for (const b of list ?? [{}]) {
      const [from, to] = hostRange(b.hostPort, key);
      const hostIp = b.hostIp && b.hostIp !== '0.0.0.0' ? b.hostIp : '';
      if (hostIp && !/^\d+\.\d+\.\d+\.\d+$/.test(hostIp)) {
        if (hostIp === '::') continue; // IPv6 wildcard: berth's networks are IPv4; the IPv4 binding covers it
        throw invalid(`invalid IP address in port binding: ${hostIp}`);
      }
      out.push({ hostIp, from, to, containerPort, protocol });
    }
  }
  if (ports.publishAll) {
    for (const key of ports.expose) {
      if (key in bindings) continue;
      const [containerPort, protocol] = parsePortKey(key);
      out.push({ hostIp: '', from: 0, to: 0, containerPort, protocol });
    }
  }
  return out;
}

const clash = (a: { HostIp: string; HostPort: number; Protocol: string }, ip: string, port: number, protocol: string) =>
  a.HostPort === port && a.Protocol === protocol && (a.HostIp === '' || ip === '' || a.HostIp === ip);

/**
 * Whether the host lets us bind the port now (another program may hold it). A rootless engine binds with
 * the user's rights, as its forwarder will: a privileged port fails with podman's message.
 */
async function bindable(ip: string, port: number, protocol: string): Promise<boolean> {
  const code = await bindError(ip, port, protocol);
  if (code === 'EACCES' && rootless()) throw await privilegedPortError(ip, port, protocol);
  return code === undefined;
}

function bindError(ip: string, port: number, protocol: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const failed = (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error');
    if (protocol === 'udp') {
      const s = createSocket('udp4');
      s.once('error', failed);
      s.bind({ port, address: ip || '0.0.0.0', exclusive: true }, () => s.close(() => resolve(undefined)));
      return;
    }
    if (protocol !== 'tcp') return resolve(undefined);
    const server = createServer();
    server.once('error', failed);
    server.listen({ port, host: ip || '0.0.0.0', exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

async function ephemeralRange(): Promise<[number, number]> {
  const text = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => '32768 60999');
  const [lo = 32768, hi = 60999] = text.trim().split(/\s+/).map(Number);
  return [lo, hi];
}

export const portError = (ip: string, port: number, why: string) =>
  new EngineError('internal', `driver failed programming external connectivity on endpoint: Bind for ${ip || '0.0.0.0'}:${port} failed: ${why}`);

/**
 * Where the last search for a free port stopped, per protocol. As dockerd's port allocator, the next
 * search starts after it and wraps, so a port just released is not handed out again at once: a client
 * still connecting to the previous holder's port (testcontainers' host-port wait) would otherwise meet
 * the old forwarding state (conntrack) and stall for tens of seconds.
 */
const lastEphemeral = new Map<string, number>();

/** The ports of [from, to] in search order: after `last`, wrapping to `from`. */
function* afterLast(from: number, to: number, last: number | undefined): Generator<number> {
  const start = last !== undefined && last >= from && last < to ? last + 1 : from;
  for (let port = start; port <= to; port++) yield port;
  for (let port = from; port < start; port++) yield port;
}

/**
 * Host ports for what the container asks, none of them held by `others` (other containers' ports) or by
 * a program on the host. Fixed ports that are taken fail, as dockerd does: "port is already allocated".
 */
export async function allocatePorts(wanted: Wanted[], others: HeldPort[]): Promise<HeldPort[]> {
  const held: HeldPort[] = [];
  const taken = (ip: string, port: number, protocol: string) => [...others, ...held].some((h) => clash(h, ip, port, protocol));
  let ephemeral: [number, number] | undefined;
  for (const w of wanted) {
    let [from, to] = [w.from, w.to];
    const any = from === 0;
    if (any) [from, to] = ephemeral ??= await ephemeralRange();
    let chosen = 0;
    for (const port of afterLast(from, to, any ? lastEphemeral.get(w.protocol) : undefined)) {
      if (!taken(w.hostIp, port, w.protocol) && (await bindable(w.hostIp, port, w.protocol))) {
        chosen = port;
        break;
      }
    }
    if (chosen && any) lastEphemeral.set(w.protocol, chosen);
    if (!chosen) throw portError(w.hostIp, w.from || from, from === to ? 'port is already allocated' : 'all ports are allocated');
    held.push({ HostIp: w.hostIp, HostPort: chosen, ContainerPort: w.containerPort, Protocol: w.protocol });
  }
  return held;
}
