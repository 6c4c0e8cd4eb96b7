// IPv6 address management: subnets as 128-bit numbers (bigint), written in the canonical short form
// (RFC 5952) that dockerd and netavark print. No pool: as in dockerd 20.10, a v6 subnet is always given.
import { invalid } from '../errors.js';

export interface Subnet6 {
  base: bigint; // network address
  bits: number; // prefix length
}

export const isV6 = (ip: string) => ip.includes(':');

export function toBig6(ip: string): bigint {
  const bad = () => invalid(`invalid IP address: ${ip}`);
  if (!/^[0-9a-fA-F:]+$/.test(ip) || ip.split('::').length > 2) throw bad();
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const groups = (s: string) => (s ? s.split(':') : []);
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const missing = 8 - left.length - right.length;
  if ((tail === undefined && missing !== 0) || (tail !== undefined && missing < 1)) throw bad();
  const all = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right];
  if (all.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) throw bad();
  return all.reduce((n, g) => (n << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}

/** Whether this is an IPv6 address (in any of its written forms). */
export function isIp6(ip: string): boolean {
  try {
    toBig6(ip);
    return true;
  } catch {
    return false;
  }
}

/** The canonical form: lower case, no leading zeros, the longest run (2+) of zero groups as `::`. */
export function toIp6(n: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.at < 0) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
}

const size = (s: Subnet6) => 1n << BigInt(128 - s.bits);

export function parseSubnet6(cidr: string): Subnet6 {
  const m = /^([0-9a-fA-F:]+)\/(\d{1,3})$/.exec(cidr.trim());
  if (!m || Number(m[2]) > 128) throw invalid(`invalid subnet: ${cidr}`);
  const bits = Number(m[2]);
  const addr = toBig6(m[1]!);
  const block = 1n << BigInt(128 - bits);
  return { base: addr - (addr % block), bits };
}

export const subnet6String = (s: Subnet6) => `${toIp6(s.base)}/${s.bits}`;
export const contains6 = (s: Subnet6, ip: string) => {
  const n = toBig6(ip);
  return n >= s.base && n < s.base + size(s);
};
export const overlaps6 = (a: Subnet6, b: Subnet6) => a.base < b.base + size(b) && b.base < a.base + size(a);
/** The gateway when none is given: ::1 of the subnet, as dockerd's bridge driver takes it. */
export const firstHost6 = (s: Subnet6) => toIp6(s.base + 1n);
/** The same address written canonically (for comparing what users typed). */
export const canonical6 = (ip: string) => toIp6(toBig6(ip));

/**
 * The lowest address of `range` (default the whole subnet) above the subnet-router anycast address
 * (the network address) that is neither the gateway nor taken; undefined when none is free. Sequential
 * from ::2 like dockerd's allocator (which, unlike v4, has no broadcast address to keep out).
 */
export function nextFree6(subnet: Subnet6, gateway: string, taken: Set<string>, range?: Subnet6): string | undefined {
  const from = range && range.base > subnet.base ? range.base : subnet.base + 1n;
  const end = subnet.base + size(subnet) - 1n;
  const to = range && range.base + size(range) - 1n < end ? range.base + size(range) - 1n : end;
  // Taken addresses are few: at most taken.size + 2 candidates need looking at.
  for (let n = from, tries = 0; n <= to && tries <= taken.size + 2; n++, tries++) {
    const ip = toIp6(n);
    if (ip !== gateway && !taken.has(ip)) return ip;
  }
  return undefined;
}
