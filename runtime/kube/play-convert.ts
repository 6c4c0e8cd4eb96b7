// A kube pod as berth's PodSpec and its containers as ContainerSpecs, as podman 4.3's play kube makes
// them: the pod shares ipc, net and uts (pid with shareProcessNamespace) around an infra container that
// holds the published ports and networks; each member is `<pod>-<container>`, with the pod's labels and
// annotations, its restart policy, its command as the entrypoint and its args as the command, its env
// from values, ConfigMaps and Secrets, and its volume mounts resolved on the host first (volumes.ts).
import { posix } from 'node:path';
import { invalid } from '../errors.js';
import type { ContainerSpec, MountRequest, ResourcesSpec } from '../containers/spec.js';
import type { PodSpec, SharedNamespace } from '../pods/spec.js';
import { quantity } from './play-parse.js';
import type { KubeConfigMap, KubeContainer, KubePodTemplate } from './play-types.js';

/** podman's network for kube pods when none is given (made on first use). */
export const KUBE_NETWORK = 'podman-default-kube-network';

/** How a pod's volume is on the host, decided before the pod is made. */
export type HostVolume = { type: 'volume'; name: string } | { type: 'bind'; path: string } | { type: 'tmpfs' } | { type: 'skip' };

export interface PodOptions {
  /** --network: names (podman's `podman` is berth's default bridge) or host/none; empty: the kube network. */
  networks: string[];
  ip?: string;
  mac?: string;
}

/** What a member's spec reads besides its own container. */
export interface MemberContext {
  pod: KubePodTemplate;
  podId: string;
  image: string;
  volumes: Map<string, HostVolume>;
  configMaps: KubeConfigMap[];
  /** Secrets by name: their values by key (undefined: no such secret). */
  secret: (name: string) => Record<string, Buffer> | undefined;
  annotations: Record<string, string>;
  /** --log-driver: '' (the default: k8s-file, berth's file), k8s-file, json-file or none. */
  logDriver?: string;
}

const RESTART: Record<string, string> = { Always: 'always', OnFailure: 'on-failure', Never: 'no' };

function baseSpec(image: string): ContainerSpec {
  return {
    image,
    process: { env: [], tty: false, stdin: false, stdinOnce: false },
    namespaces: { pid: 'private', ipc: 'private', uts: 'private', network: 'private' },
    mounts: { anonymous: [] },
    ports: { expose: [] },
    network: { mode: '', hostname: '', domainname: '' },
    resources: {},
    security: { privileged: false, readonlyRootfs: false },
    restart: { policy: '', maxRetries: 0, autoRemove: false },
    labels: {},
  };
}

/** The pod: its labels, shared namespaces, hostname, and an infra container with its ports and network. */
export function podSpecOf(pod: KubePodTemplate, o: PodOptions): PodSpec {
  const share: SharedNamespace[] = ['ipc', 'net', 'uts'];
  if (pod.spec.shareProcessNamespace) share.push('pid');
  const infra = baseSpec('');
  const publish: NonNullable<ContainerSpec['ports']['publish']> = {};
  for (const c of pod.spec.containers ?? []) {
    for (const p of c.ports ?? []) {
      const key = `${p.containerPort}/${(p.protocol || 'TCP').toLowerCase()}`;
      if (!infra.ports.expose.includes(key)) infra.ports.expose.push(key);
      if (p.hostPort) (publish[key] ??= [])!.push({ hostIp: p.hostIP ?? '', hostPort: String(p.hostPort) });
    }
  }
  if (Object.keys(publish).length) infra.ports.publish = publish;
  const networks = pod.spec.hostNetwork ? ['host'] : o.networks.length ? o.networks : [KUBE_NETWORK];
  const first = networks[0]!.split(':')[0]!;
  if (first === 'host' || first === 'none') {
    infra.namespaces.network = first;
    infra.network.mode = first;
  } else {
    const named = (n: string) => (n === 'podman' ? 'bridge' : n);
    infra.network.mode = named(first);
    infra.network.endpoints = Object.fromEntries(networks.map((n, i) => [named(n.split(':')[0]!), i === 0 ? endpoint(o) : {}]));
  }
  const hosts = (pod.spec.hostAliases ?? []).flatMap((a) => (a.hostnames ?? []).map((h) => `${h}:${a.ip}`));
  if (hosts.length) infra.network.hosts = hosts;
  const dns = pod.spec.dnsConfig;
  if (dns?.nameservers?.length) infra.network.dns = dns.nameservers;
  if (dns?.searches?.length) infra.network.dnsSearch = dns.searches;
  if (dns?.options?.length) infra.network.dnsOptions = dns.options.map((d) => (d.value !== undefined ? `${d.name}:${d.value}` : d.name));
  const sysctls = pod.spec.securityContext?.sysctls;
  if (sysctls?.length) infra.security.sysctls = Object.fromEntries(sysctls.map((s) => [s.name, s.value]));
  return {
    labels: pod.meta.labels ?? {},
    hostname: pod.spec.hostname || pod.name,
    share,
    infra,
    resources: {},
    exitPolicy: 'stop',
  };
}

function endpoint(o: PodOptions) {
  const e: { ipv4?: string; mac?: string } = {};
  if (o.ip) e.ipv4 = o.ip;
  if (o.mac) e.mac = o.mac;
  return e;
}

/** The value of one env entry (undefined: an optional reference that found nothing). */
function envValue(c: KubeContainer, i: number, ctx: MemberContext): string | undefined {
  const e = c.env![i]!;
  const from = e.valueFrom;
  if (!from) return e.value ?? '';
  if (from.configMapKeyRef) {
    const ref = from.configMapKeyRef;
    const cm = ctx.configMaps.find((m) => m.metadata?.name === ref.name);
    const value = cm?.data?.[ref.key];
    if (value !== undefined) return String(value);
    if (ref.optional) return undefined;
    if (!cm) throw invalid(`cannot set env ${e.name}: configmap ${ref.name} not found`);
    throw invalid(`cannot set env ${e.name}: key ${ref.key} not found in configmap ${ref.name}`);
  }
  if (from.secretKeyRef) {
    const ref = from.secretKeyRef;
    const values = ctx.secret(ref.name ?? '');
    const value = values?.[ref.key];
    if (value !== undefined) return value.toString('utf8');
    if (ref.optional) return undefined;
    if (!values) throw invalid(`cannot set env ${e.name}: no secret with name or id "${ref.name}": no such secret`);
    throw invalid(`cannot set env ${e.name}: secret ${ref.name} has not ${ref.key} key`);
  }
  return e.value ?? '';
}

/** The container's environment (`KEY=value`): its env entries, then envFrom's ConfigMaps and Secrets. */
function environment(c: KubeContainer, ctx: MemberContext): string[] {
  const env = new Map<string, string>();
  (c.env ?? []).forEach((e, i) => {
    const value = envValue(c, i, ctx);
    if (value !== undefined) env.set(e.name, value);
  });
  for (const from of c.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const cm = ctx.configMaps.find((m) => m.metadata?.name === from.configMapRef!.name);
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw invalid(`configmap ${from.configMapRef.name} not found`);
      }
      for (const [k, v] of Object.entries(cm.data ?? {})) env.set(prefix + k, String(v));
    }
    if (from.secretRef) {
      const values = ctx.secret(from.secretRef.name ?? '');
      if (!values) {
        if (from.secretRef.optional) continue;
        throw invalid(`no secret with name or id "${from.secretRef.name}": no such secret`);
      }
      for (const [k, v] of Object.entries(values)) env.set(prefix + k, v.toString('utf8'));
    }
  }
  return [...env].map(([k, v]) => `${k}=${v}`);
}

function resources(c: KubeContainer): ResourcesSpec {
  const out: ResourcesSpec = {};
  const limits = c.resources?.limits ?? {};
  const memory = quantity(limits.memory);
  if (memory > 0) out.memory = Math.round(memory);
  const reservation = quantity(c.resources?.requests?.memory);
  if (reservation > 0) out.memoryReservation = Math.round(reservation);
  const cpus = quantity(limits.cpu);
  if (cpus > 0) {
    // podman's CoresToPeriodAndQuota.
    out.cpuPeriod = 100_000;
    out.cpuQuota = Math.round(cpus * 100_000);
  }
  return out;
}

/** The volume mounts: named volumes and binds as -v specs, a subPath as a mount, memory emptyDirs as tmpfs. */
function mounts(c: KubeContainer, ctx: MemberContext): ContainerSpec['mounts'] {
  const out: ContainerSpec['mounts'] = { anonymous: [] };
  const volumes: string[] = [];
  const requests: MountRequest[] = [];
  const tmpfs: Record<string, string> = {};
  for (const m of c.volumeMounts ?? []) {
    const host = ctx.volumes.get(m.name);
    if (!host) throw invalid(`volume mount ${m.name} specified for container but not configured in volumes`);
    if (!posix.isAbsolute(m.mountPath)) throw invalid(`${m.mountPath}: mount path must be absolute`);
    const ro = m.readOnly ? ':ro' : '';
    if (host.type === 'skip') continue;
    if (host.type === 'tmpfs') tmpfs[m.mountPath] = m.readOnly ? 'ro,rprivate,nosuid,nodev' : 'rw,rprivate,nosuid,nodev';
    else if (host.type === 'bind') volumes.push(`${m.subPath ? posix.join(host.path, m.subPath) : host.path}:${m.mountPath}${ro}`);
    else if (m.subPath)
      requests.push({ Type: 'volume', Source: host.name, Target: m.mountPath, ReadOnly: !!m.readOnly, VolumeOptions: { Subpath: m.subPath } });
    else volumes.push(`${host.name}:${m.mountPath}${ro}`);
  }
  if (volumes.length) out.volumes = volumes;
  if (requests.length) out.mounts = requests;
  if (Object.keys(tmpfs).length) out.tmpfs = tmpfs;
  return out;
}

/** A member container of the pod (its name is `<pod>-<container>`). */
export function memberSpecOf(c: KubeContainer, ctx: MemberContext): ContainerSpec {
  const spec = baseSpec(ctx.image);
  spec.pod = ctx.podId;
  spec.process.env = environment(c, ctx);
  spec.process.tty = !!c.tty;
  spec.process.stdin = !!c.stdin;
  if (c.command?.length) spec.process.entrypoint = c.command;
  if (c.args?.length) spec.process.command = c.args;
  if (c.workingDir) spec.process.workdir = c.workingDir;
  const sc = c.securityContext ?? {};
  const podSc = ctx.pod.spec.securityContext ?? {};
  const uid = sc.runAsUser ?? podSc.runAsUser;
  const gid = sc.runAsGroup ?? podSc.runAsGroup;
  if (uid !== undefined || gid !== undefined) spec.process.user = gid !== undefined ? `${uid ?? 0}:${gid}` : String(uid);
  spec.security.privileged = !!sc.privileged;
  spec.security.readonlyRootfs = !!sc.readOnlyRootFilesystem;
  if (sc.capabilities?.add?.length) spec.security.capAdd = sc.capabilities.add;
  if (sc.capabilities?.drop?.length) spec.security.capDrop = sc.capabilities.drop;
  if (sc.allowPrivilegeEscalation === false) spec.security.options = ['no-new-privileges'];
  spec.resources = resources(c);
  spec.mounts = mounts(c, ctx);
  const policy = ctx.pod.spec.restartPolicy ?? 'Always';
  spec.restart.policy = RESTART[policy] ?? 'always';
  const driver = ctx.logDriver ?? '';
  if (driver === 'none') spec.log = { driver: 'none' };
  else if (driver && driver !== 'k8s-file' && driver !== 'json-file') throw invalid(`log driver ${driver} is not supported by berth`);
  spec.labels = { ...(ctx.pod.meta.labels ?? {}) };
  const annotations = { ...(ctx.pod.meta.annotations ?? {}), ...ctx.annotations };
  if (Object.keys(annotations).length) spec.annotations = annotations;
  return spec;
}
