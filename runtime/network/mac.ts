// A container's MAC on a network, when none is configured: 02:42 and the four bytes of its IPv4 address,
// as dockerd's bridge driver makes it. Addresses are reused as soon as a container goes; a MAC that
// follows the address keeps the host's neighbour entry for it right, where a random one left the next
// holder of the address unreachable from the host (published ports) until that entry went stale (~35 s).
export function macFromIp(ip: string): string {
  return ['02', '42', ...ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0'))].join(':');
}
