// Network failures worded as Go's net package words them, since dockerd passes those texts on to
// clients (`docker pull` shows them): Node's `getaddrinfo ENOTFOUND host` becomes
// `dial tcp: lookup host on 10.0.0.53:53: no such host`.
import { readFileSync } from 'node:fs';

/** The resolver Go's own DNS client asks first: the first nameserver of resolv.conf (127.0.0.1 without one). */
function nameserver(): string {
  let text = '';
  try {
    text = readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    // no resolv.conf: Go falls back to the local resolver
  }
  const ip = /^\s*nameserver\s+(\S+)/m.exec(text)?.[1] ?? '127.0.0.1';
  return ip.includes(':') ? `[${ip}]:53` : `${ip}:53`;
}

// What connect(2) failures read as after Go's `connect: ` prefix.
const connectReasons: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
};

/** Go's wording for a failed dial, or undefined when the error is not one dockerd would word so. */
export function dialError(err: unknown): string | undefined {
  const e = err as Error & { code?: string; hostname?: string; address?: string; port?: number; cause?: unknown };
  const inner = e.cause ? dialError(e.cause) : undefined;
  if (inner) return inner;
  if (e.code === 'ENOTFOUND' && e.hostname) return `dial tcp: lookup ${e.hostname} on ${nameserver()}: no such host`;
  const why = e.code ? connectReasons[e.code] : undefined;
  if (why && e.address) return `dial tcp ${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port}: connect: ${why}`;
  return undefined;
}
