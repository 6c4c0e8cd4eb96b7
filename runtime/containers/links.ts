// Legacy links (`--link name:alias`, HostConfig.Links) on the default bridge, as dockerd 20.10 gives
// them: /etc/hosts lines and environment variables naming the linked container's address and ports.
// Recorded as `<name>:<alias>` (a rename rewrites them); echoed as dockerd does, `/<name>:/<parent>/<alias>`.
import { EngineError } from '../errors.js';
import type { ContainerSpec } from './spec.js';
import type { NetworkStore } from '../network/store.js';
import type { Container } from './store.js';

export interface Link {
  /** The linked container's name (or, as requested, its ID). */
  target: string;
  alias: string;
}

/** moby's ParseLink: `name:alias`, `name` (alias = name), or a stored `/name:/parent/alias`. */
export function parseLink(spec: string): Link {
  const parts = spec.split(':');
  if (parts.length > 2) throw new EngineError('internal', `bad format for links: ${spec}`); // a 500 from dockerd
  if (parts.length === 1) return { target: spec, alias: spec };
  if (parts[0]!.startsWith('/')) return { target: parts[0]!.slice(1), alias: parts[1]!.split('/').pop()! };
  return { target: parts[0]!, alias: parts[1]! };
}

export const linksOf = (spec: ContainerSpec): Link[] => (spec.network.links ?? []).map(parseLink);

/** HostConfig.Links as inspect shows them (a removed container's name stays, as in dockerd). */
export function linksEcho(c: Container): string[] | null {
  const out = linksOf(c.spec).map(({ target, alias }) => `/${target}:/${c.name}/${alias}`);
  return out.length ? out : null;
}

/** The links of a spec after a linked container's rename; undefined when none names it. */
export function renameLinkTarget(spec: ContainerSpec, from: string, to: string): string[] | undefined {
  const links = linksOf(spec);
  if (!links.some((l) => l.target === from)) return undefined;
  return links.map(({ target, alias }) => `${target === from ? to : target}:${alias}`);
}

/** A link at start: the container, and its address on the default bridge. */
export interface LiveLink {
  alias: string;
  container: Container;
  ip: string;
}

/** The /etc/hosts line: the alias, the linked container's hostname, and its name unless the alias is it. */
export const linkHostsLine = (l: LiveLink) =>
  `${l.ip}\t${[l.alias, l.container.spec.network.hostname, ...(l.alias === l.container.name ? [] : [l.container.name])].join(' ')}\n`;

/** moby's Link.ToEnv: `ALIAS_PORT`, `ALIAS_PORT_<port>_<PROTO>[_ADDR|_PORT|_PROTO]`, `ALIAS_NAME`, `ALIAS_ENV_*`. */
export function linkEnv(parentName: string, l: LiveLink): string[] {
  const prefix = l.alias.toUpperCase().replace(/-/g, '_');
  const ports = l.container.spec.ports.expose.map((p) => {
    const [port = '', proto = 'tcp'] = p.split('/');
    return { port, proto };
  });
  // nat.Sort with TCP first: by port number, tcp before other protocols on the same port.
  ports.sort((a, b) => Number(a.port) - Number(b.port) || (a.proto === 'tcp' ? -1 : b.proto === 'tcp' ? 1 : a.proto.localeCompare(b.proto)));
  const env: string[] = [];
  if (ports[0]) env.push(`${prefix}_PORT=${ports[0].proto}://${l.ip}:${ports[0].port}`);
  for (const { port, proto } of ports) {
    const key = `${prefix}_PORT_${port}_${proto.toUpperCase()}`;
    env.push(`${key}=${proto}://${l.ip}:${port}`, `${key}_ADDR=${l.ip}`, `${key}_PORT=${port}`, `${key}_PROTO=${proto}`);
  }
  env.push(`${prefix}_NAME=/${parentName}/${l.alias}`);
  for (const e of l.container.spec.process.env) {
    const at = e.indexOf('=');
    if (at < 0) continue;
    const key = e.slice(0, at);
    if (key === 'HOME' || key === 'PATH') continue; // moby leaves out what every image has
    env.push(`${prefix}_ENV_${key}=${e.slice(at + 1)}`);
  }
  return env;
}

/** A start's links: each linked container must be running (dockerd answers 500 otherwise). */
export function liveLinks(c: Container, lookup: (id: string) => Container | undefined, bridgeIp: (c: Container) => string | undefined): LiveLink[] {
  return linksOf(c.spec).map(({ target, alias }) => {
    const t = lookup(target);
    const ip = t && (t.state === 'running' || t.state === 'paused') ? bridgeIp(t) : undefined;
    if (!t || !ip) throw new EngineError('internal', `Cannot link to a non running container: /${target} AS /${c.name}/${alias}`);
    return { alias, container: t, ip };
  });
}

/** A container's address on the default bridge (where legacy links reach it). */
export function bridgeIp(networks: Pick<NetworkStore, 'endpointsOf' | 'get'>, c: Container): string | undefined {
  return networks.endpointsOf(c.id).find((e) => e.ip && networks.get(e.networkId)?.name === 'bridge')?.ip ?? undefined;
}

/** The default bridge's IPv4 gateway: what `--add-host NAME:host-gateway` names, as dockerd's docker0 address. */
export function defaultBridgeGateway(networks: Pick<NetworkStore, 'byName'>): string | undefined {
  return networks.byName('bridge')?.subnets.find((s) => s.Gateway && !s.Gateway.includes(':'))?.Gateway ?? undefined;
}
