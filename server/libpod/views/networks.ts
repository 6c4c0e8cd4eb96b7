// Networks as podman shows them (netavark's JSON). The default network is `podman` here (`bridge` to
// the Docker API); the Docker-only ones (host, none) libpod does not know.
import type { Network } from '../../../runtime/api.js';
import type { LibpodNetwork } from '../../../openapi/libpod-networks.js';

/** The default network's names: the Docker API's and libpod's. */
export const DOCKER_DEFAULT = 'bridge';
export const LIBPOD_DEFAULT = 'podman';

/** Whether libpod shows the network (bridge networks only). */
export const isLibpodNetwork = (n: Network) => n.driver === 'bridge';

export const libpodNetworkName = (n: Network) => (n.name === DOCKER_DEFAULT ? LIBPOD_DEFAULT : n.name);

export function libpodNetworkView(n: Network): LibpodNetwork {
  const isDefault = n.name === DOCKER_DEFAULT;
  // The default network's options are Docker's own (com.docker.network.bridge.*): podman's has none.
  const options = isDefault ? {} : n.options;
  return {
    name: libpodNetworkName(n),
    id: n.id,
    driver: n.driver,
    network_interface: n.bridge,
    created: n.createdAt,
    subnets: n.subnets.map((s) => ({
      subnet: s.Subnet!,
      ...(s.Gateway ? { gateway: s.Gateway } : {}),
      ...(s.IPRange ? { lease_range: leaseRange(s.IPRange) } : {}),
    })),
    ipv6_enabled: n.ipv6,
    internal: n.internal,
    dns_enabled: n.dns,
    ...(Object.keys(n.labels).length ? { labels: n.labels } : {}),
    ...(Object.keys(options).length ? { options } : {}),
    ipam_options: { driver: 'host-local' },
  };
}

/** An IPv4 range (CIDR) as the lease range podman's client computes for --ip-range: after its network address, to its end. */
export function leaseRange(cidr: string): { start_ip: string; end_ip: string } {
  const [address, bits] = cidr.split('/');
  if (!address || address.includes(':')) return { start_ip: address ?? '', end_ip: '' };
  const size = 2 ** (32 - Number(bits));
  const base = (ipToInt(address) & ~(size - 1)) >>> 0;
  return { start_ip: intToIp(base + 1), end_ip: intToIp(base + size - 1) };
}

/** The smallest IPv4 CIDR holding a lease range (berth keeps ranges as Docker's IPRange). */
export function rangeCidr(start: string, end: string): string {
  const a = ipToInt(start);
  const b = ipToInt(end);
  let bits = 32;
  while (bits > 0 && a >>> (32 - bits) !== b >>> (32 - bits)) bits--;
  const base = bits === 0 ? 0 : (a >>> (32 - bits)) << (32 - bits);
  return `${intToIp(base >>> 0)}/${bits}`;
}

const ipToInt = (ip: string) => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
const intToIp = (n: number) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
