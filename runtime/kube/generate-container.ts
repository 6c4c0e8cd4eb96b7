// One berth container as a Kubernetes container (podman 4.3's containerToV1Container): what the pod
// around it also needs (its volumes, DNS settings and annotations) comes back beside it.
import { statSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import type { Engine } from '../engine.js';
import { EngineError } from '../errors.js';
import type { Container } from '../containers/store.js';
import type { NetworkSpec } from '../containers/spec.js';
import type { ContainerConfig } from '../images/config.js';
import { parseConfig } from '../images/store.js';
import { normalizedName } from '../images/reference.js';
import { DEFAULT_CAPABILITIES } from '../oci/defaults.js';
import { capabilities } from '../oci/spec.js';
import { resolveUser } from '../oci/user.js';
import type * as k from './types.js';

/** The variables podman adds to every container (libpod's env.DefaultEnvVariables): not written. */
const DEFAULT_ENV: Record<string, string> = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  TERM: 'xterm',
  container: 'podman',
};

/** Kubernetes keeps annotation values this short; podman cuts longer ones. */
const MAX_ANNOTATION = 63;

export const truncateAnnotation = (value: string): string => [...value.trim()].slice(0, MAX_ANNOTATION).join('');

/** A container's DNS settings; an option `name:value` splits (podman 4.3 fails on one without a value: berth writes its name). */
export function dnsConfig(net: NetworkSpec): k.PodDNSConfig {
  const dns: k.PodDNSConfig = {};
  if (net.dns?.length) dns.nameservers = net.dns;
  if (net.dnsSearch?.length) dns.searches = net.dnsSearch;
  if (net.dnsOptions?.length)
    dns.options = net.dnsOptions.map((o) => {
      const i = o.indexOf(':');
      return i < 0 ? { name: o } : { name: o.slice(0, i), value: o.slice(i + 1) };
    });
  return dns;
}

/** Kubernetes names have no underscores: podman drops them. */
export const kubeName = (name: string): string => name.replaceAll('_', '');

export interface KubeContainerParts {
  container: k.Container;
  volumes: k.Volume[];
  dns: k.PodDNSConfig;
  /** Annotations for the pod, keyed `<key>/<container>`. */
  annotations: Record<string, string>;
  hostname: string;
}

const flag = (on: boolean) => (on ? 'TRUE' : 'FALSE');

/** A byte count as Kubernetes writes a binary quantity (`64Mi`; plain below 1024 or when not a multiple). */
export function binaryQuantity(bytes: number): string {
  if (Math.abs(bytes) < 1024) return String(bytes);
  const suffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
  let n = bytes;
  let i = 0;
  while (i < suffixes.length - 1 && n % 1024 === 0 && n !== 0) {
    n /= 1024;
    i++;
  }
  return `${n}${suffixes[i]}`;
}

/** Thousandths of a CPU as Kubernetes writes a decimal quantity (`1500m`, `2`, `1k`). */
export function milliQuantity(milli: number): string {
  if (milli % 1000 !== 0) return `${milli}m`;
  const suffixes = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
  let n = milli / 1000;
  let i = 0;
  while (i < suffixes.length - 1 && n % 1000 === 0 && n !== 0) {
    n /= 1000;
    i++;
  }
  return `${n}${suffixes[i]}`;
}

/** Memory and CPU limits (podman writes no requests). */
function limits(c: Container): Record<string, string> {
  const r = c.spec.resources;
  const out: Record<string, string> = {};
  if (r.memory) out.memory = binaryQuantity(r.memory);
  let milli = 0;
  if (r.cpuQuota && r.cpuPeriod && r.cpuQuota > 0 && r.cpuPeriod > 0) milli = Math.trunc(1000 * (r.cpuQuota / r.cpuPeriod));
  else if (r.nanoCpus) milli = Math.trunc(r.nanoCpus / 1e6);
  if (milli >= 1) out.cpu = milliQuantity(milli);
  return out;
}

/** Published ports (`port/proto` → bindings) as container ports: TCP is the default, not written. */
export function containerPorts(c: Container): k.ContainerPort[] {
  const out: k.ContainerPort[] = [];
  for (const [key, bindings] of Object.entries(c.spec.ports.publish ?? {})) {
    const [port = '0', proto = 'tcp'] = key.split('/');
    // A binding without a host port has the one the engine picked at start (none while not running).
    const given = new Set((bindings ?? []).map((b) => Number(b.hostPort)).filter(Boolean));
    const picked = c.ports.filter((h) => h.ContainerPort === Number(port) && h.Protocol === proto && !given.has(h.HostPort)).map((h) => h.HostPort);
    for (const b of bindings ?? []) {
      const p: k.ContainerPort = { containerPort: Number(port) };
      const hostPort = b.hostPort ? Number(b.hostPort) : picked.shift();
      if (hostPort) p.hostPort = hostPort;
      if (b.hostIp) p.hostIP = b.hostIp;
      if (proto === 'udp') p.protocol = 'UDP';
      else if (proto === 'sctp') p.protocol = 'SCTP';
      out.push(p);
    }
  }
  // -P: every exposed port on a host port of its own (known once the container runs).
  if (c.spec.ports.publishAll)
    for (const key of c.spec.ports.expose) {
      if (c.spec.ports.publish?.[key]) continue;
      const [port = '0', proto = 'tcp'] = key.split('/');
      const p: k.ContainerPort = { containerPort: Number(port) };
      const held = c.ports.find((h) => h.ContainerPort === Number(port) && h.Protocol === proto);
      if (held) p.hostPort = held.HostPort;
      if (proto === 'udp') p.protocol = 'UDP';
      else if (proto === 'sctp') p.protocol = 'SCTP';
      out.push(p);
    }
  return out;
}

/** A host path as a volume name (`/mnt/data/` → `mnt-data`; `/` → `root`). */
const pathName = (path: string) => (path === '/' ? 'root' : path.replace(/^\/+|\/+$/g, '').replaceAll('/', '-'));

function hostPathType(path: string): k.HostPathType {
  try {
    return statSync(path).isDirectory() ? 'Directory' : 'File';
  } catch {
    return 'DirectoryOrCreate';
  }
}

/** Binds and tmpfs mounts become hostPath volumes (podman writes a tmpfs as the path `tmpfs`), named volumes claims. */
function volumes(c: Container): { mounts: k.VolumeMount[]; volumes: k.Volume[] } {
  const mounts: k.VolumeMount[] = [];
  const vols: k.Volume[] = [];
  const host: { source: string; destination: string; readOnly: boolean }[] = [];
  for (const m of c.mounts) if (m.type === 'bind') host.push({ source: m.source ?? '', destination: m.destination, readOnly: !m.rw });
  for (const [destination, options] of Object.entries(c.spec.mounts.tmpfs ?? {}))
    host.push({ source: 'tmpfs', destination, readOnly: options.split(',').includes('ro') });
  host.forEach((m, i) => {
    const name = `${pathName(m.source)}-host-${i}`;
    mounts.push({ mountPath: m.destination, name, ...(m.readOnly ? { readOnly: true } : {}) });
    vols.push({ hostPath: { path: m.source, type: m.source === 'tmpfs' ? 'DirectoryOrCreate' : hostPathType(m.source) }, name });
  });
  for (const m of c.mounts) {
    if (m.type !== 'volume' || !m.name) continue;
    const name = `${m.name}-pvc`;
    const ro = !m.rw;
    mounts.push({ mountPath: m.destination, name, ...(ro ? { readOnly: true } : {}) });
    vols.push({ name, persistentVolumeClaim: { claimName: m.name, ...(ro ? { readOnly: true } : {}) } });
  }
  return { mounts, volumes: vols };
}

/** Capabilities added to and dropped from the default set (added ones sorted, as podman lists them). */
function capabilityChanges(c: Container): k.Capabilities {
  const caps = capabilities(c.spec.security);
  const out: k.Capabilities = {};
  const add = caps.filter((cap) => !DEFAULT_CAPABILITIES.includes(cap)).sort();
  const drop = DEFAULT_CAPABILITIES.filter((cap) => !caps.includes(cap));
  if (add.length) out.add = add;
  if (drop.length) out.drop = drop;
  return out;
}

/** The user's IDs as the container's /etc/passwd and /etc/group resolve them. */
async function userIds(engine: Engine, c: Container, user: string): Promise<{ uid: number; gid: number }> {
  const numeric = /^(\d+):(\d+)$/.exec(user);
  if (numeric) return { uid: Number(numeric[1]), gid: Number(numeric[2]) };
  const wasMounted = await engine.containers.holdRootfs(c);
  try {
    return await resolveUser(engine.containers.paths.merged(c.id), user);
  } finally {
    await engine.containers.releaseRootfs(c, wasMounted);
  }
}

async function securityContext(engine: Engine, c: Container, image: ContainerConfig): Promise<k.SecurityContext> {
  const s = c.spec.security;
  const sc: k.SecurityContext = {};
  if (!s.privileged) sc.capabilities = capabilityChanges(c);
  // SELinux options as the libpod client sent them (`label=disable` runs the container as spc_t).
  const selinux = c.echo.libpod?.selinux_opts;
  const label = Array.isArray(selinux) ? selinux.map(String) : [];
  for (const opt of label) {
    const [key = '', value = ''] = opt.split(/[:=](.*)/s);
    if (opt === 'disable') sc.seLinuxOptions = { type: 'spc_t' };
    else if ((key === 'type' || key === 'level') && value) sc.seLinuxOptions = { [key]: value };
  }
  if ((s.options ?? []).some((o) => o === 'no-new-privileges' || o === 'no-new-privileges:true' || o === 'no-new-privileges=true'))
    sc.allowPrivilegeEscalation = false;
  if (s.privileged) sc.privileged = true;
  if (s.readonlyRootfs) sc.readOnlyRootFilesystem = true;
  const user = c.spec.process.user ?? '';
  if (user && user !== (image.User ?? '')) {
    const ids = await userIds(engine, c, user);
    sc.runAsUser = ids.uid;
    sc.runAsGroup = ids.gid;
  }
  return sc;
}

const sameList = (a: string[] | null | undefined, b: string[] | undefined) => (a ?? []).length === (b ?? []).length && (a ?? []).every((v, i) => v === b?.[i]);

/** The image's config (none for an image removed since). */
export function imageConfigOf(engine: Engine, c: Container): ContainerConfig {
  const image = engine.images.store.get(c.image_id);
  return image ? (parseConfig(image).config ?? {}) : {};
}

/** The pod-level annotations podman records at create, then the container's own. */
function annotations(c: Container, name: string): Record<string, string> {
  const { process: p, security: s, restart } = c.spec;
  const own: Record<string, string> = {
    'io.kubernetes.cri-o.TTY': p.tty ? 'true' : 'false',
    'io.podman.annotations.autoremove': flag(restart.autoRemove),
    'io.podman.annotations.init': flag(!!p.init),
    'io.podman.annotations.privileged': flag(s.privileged),
    'io.podman.annotations.publish-all': flag(!!c.spec.ports.publishAll),
    ...(c.spec.pod ? { 'io.kubernetes.cri-o.ContainerType': 'container', 'io.kubernetes.cri-o.SandboxID': c.spec.pod } : {}),
    ...c.spec.annotations,
  };
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(own)) out[`${key}/${name}`] = truncateAnnotation(value);
  // Auto-update labels travel as annotations (podman auto-update reads them back).
  for (const [key, value] of Object.entries(c.spec.labels)) if (key.includes('io.containers.autoupdate')) out[`${key}/${name}`] = truncateAnnotation(value);
  return out;
}

export async function kubeContainer(engine: Engine, c: Container): Promise<KubeContainerParts> {
  // podman writes no devices (Kubernetes names them differently); a privileged container has all of /dev.
  if (c.spec.devices?.length && !c.spec.security.privileged) throw new EngineError('not-implemented', 'linux devices: not yet implemented');
  const image = imageConfigOf(engine, c);
  const p = c.spec.process;
  const name = kubeName(c.name);
  const container: k.Container = { name };
  // An entrypoint is the command and the command its arguments; either one left as the image's is not written.
  let command: string[] | undefined;
  if (p.entrypoint?.length) {
    command = p.entrypoint;
    if (p.command?.length) container.args = p.command;
  } else command = p.command;
  if (command && !sameList(image.Cmd, command) && !sameList(image.Entrypoint, command)) container.command = command;
  const imageEnv = new Map((image.Env ?? []).map((e) => [e.split('=')[0]!, e.slice(e.indexOf('=') + 1)]));
  const env: k.EnvVar[] = [];
  const vars = [...p.env];
  // A hostname of the container's own ID (the default) is not the user's; the host's network brings the host's name.
  const net = c.spec.network;
  const given = net.hostname && !c.id.includes(net.hostname) ? net.hostname : '';
  const hostname = given || (net.mode === 'host' ? osHostname() : '');
  // podman records a hostname given to a container in its environment.
  if (!c.spec.pod && given && !vars.some((e) => e.startsWith('HOSTNAME='))) vars.push(`HOSTNAME=${given}`);
  for (const e of vars) {
    const i = e.indexOf('=');
    if (i < 0) continue;
    const [key, value] = [e.slice(0, i), e.slice(i + 1)];
    // As podman: a default's value, the image's value, and (through the same lookup) an empty value are not written.
    if ((DEFAULT_ENV[key] ?? '') === value || imageEnv.get(key) === value) continue;
    env.push({ name: key, value });
  }
  if (env.length) container.env = env;
  container.image = c.spec.image.includes('/') ? c.spec.image : normalizedName(c.spec.image);
  const ports = containerPorts(c);
  if (ports.length) container.ports = ports;
  const lim = limits(c);
  if (Object.keys(lim).length) container.resources = { limits: lim };
  container.securityContext = await securityContext(engine, c, image);
  if (p.stdin) container.stdin = true;
  if (p.tty) container.tty = true;
  const v = volumes(c);
  if (v.mounts.length) container.volumeMounts = v.mounts;
  if (p.workdir && p.workdir !== '/' && p.workdir !== (image.WorkingDir ?? '')) container.workingDir = p.workdir;
  return { container, volumes: v.volumes, dns: dnsConfig(net), annotations: annotations(c, name), hostname };
}
