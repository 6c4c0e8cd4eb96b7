// The libpod pod documents the pods pages read, and the verbs they share.
import { LIBPOD, query, request, send } from '../api.js';

/** One entry of GET /pods/json (podman's ListPodsReport). */
export interface PodSummary {
  Id: string;
  Name: string;
  Status: string;
  Created: string;
  InfraId: string;
  Containers: { Id: string; Names: string; Status: string }[] | null;
  Labels?: Record<string, string> | null;
}

/** GET /pods/ID/json (podman's InspectPodData), the parts shown. */
export interface PodInspect {
  Id: string;
  Name: string;
  State: string;
  Created: string;
  Hostname?: string;
  InfraContainerID?: string;
  SharedNamespaces?: string[] | null;
  NumContainers?: number;
  Labels?: Record<string, string> | null;
  InfraConfig?: { PortBindings?: Record<string, { HostIp: string; HostPort: string }[] | null> | null } | null;
  Containers: { Id: string; Name: string; State: string }[] | null;
}

export type PodVerb = 'start' | 'stop' | 'restart' | 'pause' | 'unpause';

const path = (id: string) => `${LIBPOD}/pods/${encodeURIComponent(id)}`;

export function podVerb(id: string, verb: PodVerb): Promise<unknown> {
  return send('POST', `${path(id)}/${verb}`);
}

/** Removes a pod with its members (running ones too). */
export function removePod(id: string): Promise<unknown> {
  return send('DELETE', `${path(id)}${query({ force: true })}`);
}

/** The pod as Kubernetes YAML (podman generate kube). */
export async function generateKube(id: string): Promise<string> {
  return (await request('GET', `${LIBPOD}/generate/kube${query({ names: id })}`)).text();
}

/** `8080:80, 8443:443/tcp, 127.0.0.1:53:53/udp` as libpod's portmappings. */
export function portMappings(text: string): { host_ip?: string; host_port: number; container_port: number; protocol: string }[] {
  const out = [];
  for (const item of text.split(/[\s,]+/).filter(Boolean)) {
    const [spec = '', protocol = 'tcp'] = item.split('/');
    const parts = spec.split(':');
    const container = Number(parts.pop());
    const host = parts.length ? Number(parts.pop()) : container;
    const ip = parts.pop();
    if (!Number.isInteger(container) || !Number.isInteger(host) || container <= 0) throw new Error(`not a port mapping: ${item}`);
    out.push({ ...(ip ? { host_ip: ip } : {}), host_port: host, container_port: container, protocol });
  }
  return out;
}
