// The /etc/hosts, /etc/hostname and /etc/resolv.conf a container gets, generated per container.
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerSpec, NetworkSpec } from './spec.js';
import { rootless } from '../rootless/mode.js';

export interface EtcFiles {
  hosts: string;
  hostname: string;
  resolvConf: string;
}

const BASE_HOSTS =
  '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n';

/** What the network gives the files: the container's address, and name servers that know its peers. */
export interface EtcNetwork {
  hostNetwork: boolean;
  ip?: string;
  ip6?: string; // on an IPv6 network: a second line for the container, as dockerd writes it
  nameservers: string[];
  /** Legacy links' lines (links.ts). */
  links?: string[];
  /** What `--add-host NAME:host-gateway` names: the default bridge's gateway, as dockerd's docker0 address. */
  hostGateway?: string;
}

export const etcFilesIn = (dir: string): EtcFiles => ({ hosts: join(dir, 'hosts'), hostname: join(dir, 'hostname'), resolvConf: join(dir, 'resolv.conf') });

/**
 * What a never-started container shows at the three paths: dockerd's init layer holds them as empty
 * files (0755) until the first start writes the real ones. Made at create, for docker cp.
 */
export const etcPlaceholderIn = (dir: string): string => join(dir, 'etc-placeholder');

export async function writeEtcPlaceholder(dir: string): Promise<void> {
  const file = etcPlaceholderIn(dir);
  await writeFile(file, '');
  await chmod(file, 0o755);
}

/** `bareHostname`: /etc/hostname without a newline, as podman writes it (dockerd ends it with one). */
export async function writeEtcFiles(dir: string, spec: ContainerSpec, net: EtcNetwork, o: { bareHostname?: boolean } = {}): Promise<EtcFiles> {
  const n = spec.network;
  const files = etcFilesIn(dir);
  const hostNetwork = net.hostNetwork;
  let hosts = hostNetwork ? await readFile('/etc/hosts', 'utf8').catch(() => BASE_HOSTS) : BASE_HOSTS;
  for (const entry of n.hosts ?? []) {
    const sep = entry.indexOf(':') >= 0 && !entry.includes('=') ? entry.indexOf(':') : entry.indexOf('=');
    const ip = entry.slice(sep + 1) === 'host-gateway' ? net.hostGateway : entry.slice(sep + 1);
    if (sep > 0 && ip) hosts += `${ip}\t${entry.slice(0, sep)}\n`;
  }
  hosts += (net.links ?? []).join('');
  // dockerd's line for the container itself, last: its address, its FQDN (with --domainname) and hostname.
  const names = `${n.domainname ? `${n.hostname}.${n.domainname} ` : ''}${n.hostname}`;
  for (const ip of [net.ip, net.ip6]) if (ip && n.hostname) hosts += `${ip}\t${names}\n`;
  const hostname = hostNetwork || spec.namespaces.uts === 'host' ? (await readFile('/etc/hostname', 'utf8').catch(() => 'localhost')).trim() : n.hostname;
  await writeFile(files.hosts, hosts);
  await writeFile(files.hostname, o.bareHostname ? hostname : `${hostname}\n`);
  await writeFile(files.resolvConf, await resolvConf(n, hostNetwork, net.nameservers));
  return files;
}

const SLIRP_DNS = '10.0.2.3';

/**
 * The host's resolver config, minus loopback nameservers the container cannot reach, with --dns
 * overrides. On networks with DNS, their aardvark-dns comes first (it forwards other names upstream).
 */
async function resolvConf(n: NetworkSpec, hostNetwork: boolean, networkServers: string[]): Promise<string> {
  const host = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  const lines = host.split('\n');
  let nameservers = lines.filter((l) => /^\s*nameserver\s/.test(l)).map((l) => l.trim().split(/\s+/)[1]!);
  const loopback = (n: string) => n.startsWith('127.') || n === '::1';
  // Rootless networks reach the host through slirp4netns, whose 10.0.2.3 forwards to the host's own
  // resolver, loopback ones (systemd-resolved's 127.0.0.53) included.
  if (!hostNetwork && rootless() && nameservers.some(loopback)) nameservers = [...new Set(nameservers.map((n) => (loopback(n) ? SLIRP_DNS : n)))];
  if (!hostNetwork) nameservers = nameservers.filter((n) => !loopback(n));
  if (n.dns?.length) nameservers = n.dns;
  if (networkServers.length) nameservers = [...networkServers, ...(n.dns ?? [])];
  if (nameservers.length === 0) nameservers = rootless() && !hostNetwork ? [SLIRP_DNS] : ['8.8.8.8', '8.8.4.4'];
  const search = n.dnsSearch?.length ? n.dnsSearch : lines.filter((l) => /^\s*search\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
  const options = n.dnsOptions?.length ? n.dnsOptions : lines.filter((l) => /^\s*options\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
  let out = nameservers.map((n) => `nameserver ${n}\n`).join('');
  if (search.length) out += `search ${search.join(' ')}\n`;
  if (options.length) out += `options ${options.join(' ')}\n`;
  return out;
}
