// IPv4 address management: subnets as numbers, the pool new networks take their subnets from, and the
// next free address in a subnet. netavark only applies the addresses it is given (like Podman, berth
// does its own IPAM, recorded in the endpoints table).
import { readFile } from 'node:fs/promises';
import { invalid } from '../errors.js';

export interface Subnet {
  base: number; // network address
  bits: number; // prefix length
}

export const toNumber = (ip: string): number => {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw invalid(`invalid IP address: ${ip}`);
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
};
export const toIp = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
const size = (s: Subnet) => 2 ** (32 - s.bits);

export function parseSubnet(cidr: string): Subnet {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr.trim());
  if (!m || Number(m[2]) > 32) throw invalid(`invalid subnet: ${cidr}`);
  const bits = Number(m[2]);
  const addr = toNumber(m[1]!);
  const block = 2 ** (32 - bits);
  return { base: addr - (addr % block), bits };
}

export const subnetString = (s: Subnet) => `${toIp(s.base)}/${s.bits}`;
export const contains = (s: Subnet, ip: string) => {
  const n = toNumber(ip);
  return n >= s.base && n < s.base + size(s);
};
export const overlaps = (a: Subnet, b: Subnet) => a.base < b.base + size(b) && b.base < a.base + size(a);
/** The first host address: the gateway, as Docker and Podman choose it. */
export const firstHost = (s: Subnet) => toIp(s.base + 1);

/**
 * The lowest address of `range` (default the whole subnet) that is neither the network, broadcast,
 * gateway, nor taken; undefined when the subnet is full.
 */
export function nextFree(subnet: Subnet, gateway: string, taken: Set<string>, range?: Subnet): string | undefined {
  const from = Math.max(subnet.base + 1, range?.base ?? 0);
  const to = Math.min(subnet.base + size(subnet) - 2, range ? range.base + size(range) - 1 : Infinity);
  for (let n = from; n <= to; n++) {
    const ip = toIp(n);
    if (ip !== gateway && !taken.has(ip)) return ip;
  }
  return undefined;
}

/** The host's IPv4 routes (destination subnets): a new network must not overlap any of them. */
export async function hostRoutes(): Promise<Subnet[]> {
  const text = await readFile('/proc/net/route', 'utf8').catch(() => '');
  const hex = (h: string) => {
    const le = Number.parseInt(h, 16);
    return (le & 0xff) * 2 ** 24 + (((le >>> 8) & 0xff) << 16) + (((le >>> 16) & 0xff) << 8) + ((le >>> 24) & 0xff);
  };
  return text
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .flatMap((line) => {
      const [, dest, , , , , , mask] = line.trim().split(/\s+/);
      if (!dest || !mask || dest === '00000000') return [];
      const m = hex(mask);
      const bits = m === 0 ? 0 : 32 - Math.log2(2 ** 32 - m);
      return Number.isInteger(bits) ? [{ base: hex(dest), bits }] : [];
    });
}

/**
 * A subnet for a new network: the first of `count` blocks of /`bits` from `start` that overlaps none of
 * `used`. `offset` rotates where the search begins, so engines with other roots start elsewhere.
 */
export function pickSubnet(start: string, bits: number, count: number, used: Subnet[], offset = 0): Subnet {
  const first = parseSubnet(`${start}/${bits}`);
  for (let i = 0; i < count; i++) {
    const candidate = { base: first.base + ((i + offset) % count) * 2 ** (32 - bits), bits };
    if (!used.some((u) => overlaps(u, candidate))) return candidate;
  }
  throw invalid('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
}
