// generate kube: containers, pods and volumes as Kubernetes YAML, as podman 4.3 writes it. Volumes
// named become PersistentVolumeClaims; each pod becomes a Pod (and, asked, a Service of type NodePort
// for its published ports); the containers named outside pods become one Pod together, `<first>-pod`.
import type { Engine } from '../engine.js';
import { EngineError } from '../errors.js';
import type { Container } from '../containers/store.js';
import type { Pod as PodRecord } from '../pods/store.js';
import type { Volume as VolumeRecord } from '../volumes/service.js';
import { containerPorts, dnsConfig, kubeContainer, kubeName, type KubeContainerParts } from './generate-container.js';
import type * as k from './types.js';
import { toYaml } from './yaml.js';

export interface GenerateKubeOptions {
  /** A Service of type NodePort for each Pod. */
  service?: boolean;
}

const HEADER = `# Save the output of this file and use kubectl create -f to import
# it into Kubernetes.
#
# Created with berth (podman 4.3.1 API)
`;

const NAMESPACE_NOTE = `
# NOTE: The namespace sharing for a pod has been modified by the user and is not the same as the
# default settings for kubernetes. This can lead to unexpected behavior when running the generated
# kube yaml in a kubernetes cluster.
`;

const VOLUME_NOTE = `
# NOTE: If you generated this yaml from an unprivileged and rootless podman container on an SELinux
# enabled system, check the podman generate kube man page for steps to follow to ensure that your pod/container
# has the right permissions to access the volumes added.
`;

/** podman's words, which its service wraps in `generating YAML: `. */
const failure = (message: string) => new EngineError('internal', message);

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** A volume as a claim of 1Gi; its driver and options ride along as podman's annotations. */
export function persistentVolumeClaim(v: VolumeRecord): k.PersistentVolumeClaim {
  const annotations: Record<string, string> = { 'volume.podman.io/driver': v.driver };
  const named: Record<string, string> = { o: 'mount-options', device: 'device', type: 'type', UID: 'uid', GID: 'gid' };
  for (const [key, value] of Object.entries(v.options)) if (named[key]) annotations[`volume.podman.io/${named[key]}`] = value;
  const metadata: k.ObjectMeta = { annotations, creationTimestamp: now(), name: v.name };
  if (Object.keys(v.labels).length) metadata.labels = v.labels;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata,
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    status: {},
  };
}

/** Service ports for container ports, each on a random free NodePort (30000-32767), as podman picks them. */
function servicePorts(ports: k.ContainerPort[]): k.ServicePort[] {
  const used = new Set<number>();
  return ports.map((p) => {
    let nodePort = 0;
    for (let attempt = 0; attempt < 100; attempt++) {
      nodePort = 30000 + Math.floor(Math.random() * (32767 - 30000 + 1));
      if (!used.has(nodePort)) break;
    }
    used.add(nodePort);
    const sp: k.ServicePort = { name: String(p.containerPort), nodePort, port: p.containerPort, targetPort: p.containerPort };
    if (p.protocol) sp.protocol = p.protocol;
    return sp;
  });
}

/** The Service in front of a Pod: its name and labels, selecting it by `app`. */
function serviceFor(pod: k.Pod, ports: k.ServicePort[]): k.Service {
  const { annotations: _, ...metadata } = pod.metadata;
  const spec: k.Service['spec'] = { selector: { app: pod.metadata.labels?.app ?? '' }, type: 'NodePort' };
  if (ports.length) spec.ports = ports;
  return { apiVersion: 'v1', kind: 'Service', metadata, spec };
}

function podObject(name: string, annotations: Record<string, string>, spec: k.PodSpec): k.Pod {
  const metadata: k.ObjectMeta = { creationTimestamp: now(), labels: { app: kubeName(name) }, name };
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
}

/** DNS settings merged over containers: servers and searches once each, options all. */
function mergeDns(parts: KubeContainerParts[]): k.PodDNSConfig | undefined {
  const dns: k.PodDNSConfig = {};
  for (const { dns: d } of parts) {
    for (const s of d.nameservers ?? []) if (!(dns.nameservers ??= []).includes(s)) dns.nameservers.push(s);
    for (const s of d.searches ?? []) if (!(dns.searches ??= []).includes(s)) dns.searches.push(s);
    if (d.options?.length) (dns.options ??= []).push(...d.options);
  }
  return Object.keys(dns).length ? dns : undefined;
}

const firstHostname = (parts: KubeContainerParts[]) => parts.find((p) => p.hostname)?.hostname ?? '';

/**
 * The containers as one Pod (podman's simplePodWithV1Containers). podman 4.3 writes each container's
 * `resources` through a pointer to its loop variable: a container with limits shows the last
 * container's (`{}` when that one has none), one without shows none. Kept: the YAML is podman's.
 */
async function containersPod(engine: Engine, containers: Container[]): Promise<{ pod: k.Pod; ports: k.ContainerPort[] }> {
  const parts: KubeContainerParts[] = [];
  for (const c of containers) parts.push(await kubeContainer(engine, c));
  const last = parts[parts.length - 1]!.container.resources ?? {};
  for (const { container } of parts) if (container.resources) container.resources = last;
  const annotations = Object.fromEntries(parts.flatMap((p) => Object.entries(p.annotations)));
  const spec: k.PodSpec = { automountServiceAccountToken: false, containers: parts.map((p) => p.container) };
  const dns = mergeDns(parts);
  if (dns) spec.dnsConfig = dns;
  spec.enableServiceLinks = false;
  const hostname = firstHostname(parts);
  if (hostname) spec.hostname = hostname;
  if (containers.every((c) => c.spec.network.mode === 'host')) spec.hostNetwork = true;
  const volumes = parts.flatMap((p) => p.volumes);
  if (volumes.length) spec.volumes = volumes;
  const names = parts.map((p) => p.container.name);
  let name = kubeName(containers[0]!.name);
  if (names.includes(name)) name += '-pod';
  return { pod: podObject(name, annotations, spec), ports: parts.flatMap((p) => p.container.ports ?? []) };
}

const RESTART: Record<string, k.PodSpec['restartPolicy']> = { always: 'Always', 'on-failure': 'OnFailure' };

/** A pod as a Pod (podman's Pod.GenerateForKube): the infra's ports go on the first member, its DNS and hosts on the pod. */
async function podPod(engine: Engine, record: PodRecord): Promise<{ pod: k.Pod; ports: k.ContainerPort[] }> {
  const all = engine.pods.members(record);
  if (all.length === 0) throw failure(`pod ${record.id} has no containers`);
  const infra = all.find((c) => c.id === record.infraId);
  const members = all.filter((c) => c !== infra).sort((a, b) => (a.created < b.created ? -1 : a.created > b.created ? 1 : 0));
  if (members.length === 0) throw failure(`pod ${record.id} only has an infra container`);
  const sharesNet = !!infra && record.spec.share.includes('net');
  const ports = infra ? containerPorts(infra) : [];
  const parts: KubeContainerParts[] = [];
  let first = true;
  for (const c of members) {
    const part = await kubeContainer(engine, c);
    if (sharesNet) {
      delete part.container.ports;
      if (first && ports.length) {
        part.container.ports = ports;
        first = false;
      }
    }
    // podman writes a pod's Go structs as they are: every container has its resources, maybe `{}`.
    part.container.resources ??= {};
    parts.push(part);
  }
  const containers = parts.map((p) => p.container);
  const annotations = Object.fromEntries(parts.flatMap((p) => Object.entries(p.annotations)));
  const spec: k.PodSpec = { automountServiceAccountToken: false, containers };
  const dns = infra && dnsConfig(infra.spec.network);
  if (dns && Object.keys(dns).length) spec.dnsConfig = dns;
  spec.enableServiceLinks = false;
  const aliases = (infra?.spec.network.hosts ?? []).map((h) => {
    const i = h.indexOf(':');
    return { hostnames: [h.slice(0, i)], ip: h.slice(i + 1) };
  });
  if (aliases.length) spec.hostAliases = aliases;
  const hostname = firstHostname(parts);
  if (hostname) spec.hostname = hostname;
  if (infra?.spec.network.mode === 'host') spec.hostNetwork = true;
  spec.restartPolicy = RESTART[members[0]!.spec.restart.policy] ?? 'Never';
  if (record.spec.share.includes('pid') && infra) spec.shareProcessNamespace = true;
  const volumes = new Map<string, k.Volume>();
  for (const p of parts) for (const v of p.volumes) volumes.set(v.name, v);
  if (volumes.size) spec.volumes = [...volumes.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const pod = podObject(record.name, annotations, spec);
  pod.status = {};
  return { pod, ports };
}

/** What a name refers to, looked up as podman does: a container, else a pod, else a volume. */
type Target = { kind: 'container'; container: Container } | { kind: 'pod'; pod: PodRecord } | { kind: 'volume'; volume: VolumeRecord };

function lookup(engine: Engine, name: string): Target {
  let container: Container | undefined;
  try {
    container = engine.containers.store.resolve(name);
  } catch {
    // not a container
  }
  if (container) {
    const pod = container.spec.pod ?? engine.pods.infraOf(container.id)?.id;
    if (pod) throw failure(`container ${container.id} is associated with pod ${pod}: use generate on the pod itself`);
    return { kind: 'container', container };
  }
  const pod = engine.pods.store.find(name);
  if (pod) return { kind: 'pod', pod };
  const volume = engine.volumes.find(name);
  if (volume) return { kind: 'volume', volume };
  throw failure(`name or ID "${name}" not found`);
}

/** The YAML text: podman's header, then claims, services and pods, as `---`-separated documents. */
export async function generateKube(engine: Engine, names: string[], o: GenerateKubeOptions = {}): Promise<string> {
  const targets = names.map((n) => lookup(engine, n));
  const notes: string[] = [];
  // A Kubernetes pod shares ipc, net and uts: a pod that does not will run differently there.
  const kubeSharing = (p: PodRecord) => !!p.infraId && (['ipc', 'net', 'uts'] as const).every((ns) => p.spec.share.includes(ns));
  if (targets.some((t) => t.kind === 'pod' && !kubeSharing(t.pod))) notes.push(NAMESPACE_NOTE);
  const claims: string[] = [];
  const services: string[] = [];
  const pods: string[] = [];
  for (const t of targets) if (t.kind === 'volume') claims.push(toYaml(persistentVolumeClaim(t.volume)));
  for (const t of targets) {
    if (t.kind !== 'pod') continue;
    const { pod, ports } = await podPod(engine, t.pod);
    pods.push(toYaml(pod));
    if (o.service) services.push(toYaml(serviceFor(pod, servicePorts(ports))));
  }
  const containers = targets.flatMap((t) => (t.kind === 'container' ? [t.container] : []));
  if (containers.length) {
    const { pod, ports } = await containersPod(engine, containers);
    if (pod.spec.volumes?.length) services.push(VOLUME_NOTE);
    pods.push(toYaml(pod));
    if (o.service) services.push(toYaml(serviceFor(pod, servicePorts(ports))));
  }
  return HEADER + [...notes, ...claims, ...services, ...pods].join('---\n');
}
