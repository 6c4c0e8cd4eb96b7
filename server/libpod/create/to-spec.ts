// A libpod create body (podman's SpecGenerator) as berth's ContainerSpec, and the libpod echo: what the
// client sent that the spec does not model (create command, systemd mode, the log driver's libpod name...),
// kept for the libpod views. The image is resolved by the route first (libpod's short-name rules); what
// needs the image (its defaults) the engine completes at create, as for Docker's body.
import { constants } from 'node:os';
import type { SpecGenerator } from '../../../openapi/libpod-containers.js';
import {
  invalid,
  type ContainerSpec,
  type DeviceSpec,
  type EndpointSpec,
  type HealthcheckSpec,
  type MountRequest,
  type MountsSpec,
  type NamespaceMode,
  type NetworkNamespaceMode,
  type NetworkSpec,
  type PortSpec,
  type ProcessSpec,
  type ResourcesSpec,
  type SecuritySpec,
} from '../../../runtime/api.js';

/** The SpecGenerator fields the spec models; the others are the echo. */
const MODELED = new Set([
  'image',
  'entrypoint',
  'command',
  'env',
  'labels',
  'annotations',
  'stop_timeout',
  'restart_policy',
  'restart_tries',
  'remove',
  'terminal',
  'stdin',
  'hostname',
  'sysctl',
  'timezone',
  'umask',
  'init',
  'mounts',
  'volumes',
  'read_only_filesystem',
  'shm_size',
  'work_dir',
  'user',
  'groups',
  'cap_add',
  'cap_drop',
  'privileged',
  'oom_score_adj',
  'r_limits',
  'resource_limits',
  'healthconfig',
  'pidns',
  'ipcns',
  'utsns',
  'netns',
  'Networks',
  'portmappings',
  'publish_image_ports',
  'expose',
  'dns_server',
  'dns_search',
  'dns_option',
  'hostadd',
  'devices',
  'overlay_volumes',
]);

/** The libpod echo: SpecGenerator keys as sent (`containerCreateCommand`, `raw_image_name`, `systemd`...). */
export type LibpodEcho = Record<string, unknown>;

/** podman's name of berth's default network; both name the one default bridge. */
export const DEFAULT_NETWORK = 'podman';

const SIGNAL_NAMES = new Map(Object.entries(constants.signals as Record<string, number>).map(([name, n]) => [n, name]));

/** Mount options berth acts on (z/Z are SELinux relabels: accepted, nothing to do without SELinux). */
const BIND_MODES = new Set(['ro', 'rw', 'z', 'Z', 'private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared', 'nocopy']);

function modeOf(options: string[] | null | undefined, what: string): string {
  const out: string[] = [];
  for (const o of options ?? []) {
    if (BIND_MODES.has(o)) out.push(o);
    else if (o === 'O' || o === 'idmap') throw invalid(`${what}: the ${o} option is not supported by berth`);
    // bind/rbind, nosuid/nodev/noexec: berth's bind mounts are rbind, nosuid is not applied to binds.
  }
  return out.join(',');
}

function namespace(ns: SpecGenerator['pidns'], what: string): NamespaceMode {
  switch (ns?.nsmode ?? '') {
    case '':
    case 'private':
    case 'default':
      return 'private';
    case 'host':
      return 'host';
    case 'container':
      return `container:${ns?.value ?? ''}`;
    default:
      throw invalid(`${what} namespace mode ${ns?.nsmode} is not supported by berth`);
  }
}

function network(body: SpecGenerator): { mode: string; ns: NetworkNamespaceMode; endpoints?: Record<string, EndpointSpec | null> } {
  const nsmode = body.netns?.nsmode ?? '';
  if (nsmode === 'host' || nsmode === 'none') return { mode: nsmode, ns: nsmode };
  if (nsmode === 'container') return { mode: `container:${body.netns?.value ?? ''}`, ns: `container:${body.netns?.value ?? ''}` };
  if (nsmode && nsmode !== 'bridge' && nsmode !== 'private' && nsmode !== 'default') throw invalid(`network mode ${nsmode} is not supported by berth`);
  const given = Object.entries(body.Networks ?? {});
  if (given.length === 0) return { mode: '', ns: 'private' };
  // The default network answers to `podman` here; the engine knows it as `bridge`.
  const named = (name: string) => (name === DEFAULT_NETWORK ? 'bridge' : name);
  const endpoints = Object.fromEntries(
    given.map(([name, n]) => {
      const e: EndpointSpec = {};
      if (n.aliases?.length) e.aliases = n.aliases;
      const v4 = n.static_ips?.find((ip) => !ip.includes(':'));
      const v6 = n.static_ips?.find((ip) => ip.includes(':'));
      if (v4) e.ipv4 = v4;
      if (v6) e.ipv6 = v6;
      if (n.static_mac) e.mac = n.static_mac;
      return [named(name), e];
    }),
  );
  return { mode: named(given[0]![0]), ns: 'private', endpoints };
}

function ports(body: SpecGenerator): PortSpec {
  const expose = Object.entries(body.expose ?? {}).flatMap(([port, protos]) => protos.split(',').map((p) => `${port}/${p || 'tcp'}`));
  const publish: NonNullable<PortSpec['publish']> = {};
  for (const m of body.portmappings ?? []) {
    const range = m.range || 1;
    for (const proto of (m.protocol || 'tcp').split(',')) {
      for (let i = 0; i < range; i++) {
        const key = `${m.container_port + i}/${proto}`;
        const binding: { hostIp?: string; hostPort?: string } = { hostIp: m.host_ip ?? '', hostPort: m.host_port ? String(m.host_port + i) : '' };
        (publish[key] ??= [])!.push(binding);
        if (!expose.includes(key)) expose.push(key);
      }
    }
  }
  const out: PortSpec = { expose };
  if (Object.keys(publish).length) out.publish = publish;
  if (body.publish_image_ports) out.publishAll = true;
  return out;
}

/** A tmpfs's options with podman's defaults added, as podman stores (and inspect shows) them. */
function tmpfsOptions(given: string[]): string {
  const out = [...given];
  const add = (o: string, unless: string[] = []) => {
    if (!out.includes(o) && !unless.some((u) => out.includes(u))) out.push(o);
  };
  add('rw', ['ro']);
  add('rprivate', ['private', 'shared', 'rshared', 'slave', 'rslave']);
  add('nosuid', ['suid']);
  add('nodev', ['dev']);
  add('tmpcopyup', ['notmpcopyup']);
  return out.filter((o) => o !== 'notmpcopyup').join(',');
}

function mounts(body: SpecGenerator): MountsSpec {
  const out: MountsSpec = { anonymous: [] };
  const volumes: string[] = [];
  const requests: MountRequest[] = [];
  const tmpfs: Record<string, string> = {};
  for (const v of body.volumes ?? []) {
    const mode = modeOf(v.Options, v.Dest);
    if (!v.Name) out.anonymous.push(v.Dest);
    else volumes.push(mode ? `${v.Name}:${v.Dest}:${mode}` : `${v.Name}:${v.Dest}`);
  }
  for (const m of body.mounts ?? []) {
    if (m.type === 'tmpfs') tmpfs[m.destination] = tmpfsOptions(m.options ?? []);
    else if (m.type === 'bind') {
      const mode = modeOf(m.options, m.destination);
      const propagation = mode.split(',').find((o) => o.includes('private') || o.includes('slave') || o.includes('shared'));
      requests.push({
        Type: 'bind',
        Source: m.source ?? '',
        Target: m.destination,
        ReadOnly: mode.split(',').includes('ro'),
        ...(propagation ? { BindOptions: { Propagation: propagation } } : {}),
      });
    } else throw invalid(`mount type ${m.type} is not supported by berth`);
  }
  // `:U`: the source is chowned to the container's user at start.
  const chown = [
    ...(body.volumes ?? []).filter((v) => v.Options?.includes('U')).map((v) => v.Dest),
    ...(body.mounts ?? []).filter((m) => m.options?.includes('U')).map((m) => m.destination),
  ];
  if (chown.length) out.chownToUser = chown;
  if (volumes.length) out.volumes = volumes;
  if (requests.length) out.mounts = requests;
  if (Object.keys(tmpfs).length) out.tmpfs = tmpfs;
  return out;
}

function resources(body: SpecGenerator): ResourcesSpec {
  const r = body.resource_limits ?? {};
  const out: ResourcesSpec = {};
  if (r.memory?.limit) out.memory = r.memory.limit;
  if (r.memory?.reservation) out.memoryReservation = r.memory.reservation;
  if (r.memory?.swap) out.memorySwap = r.memory.swap;
  if (r.memory?.swappiness !== undefined) out.memorySwappiness = r.memory.swappiness;
  if (r.cpu?.shares) out.cpuShares = r.cpu.shares;
  if (r.cpu?.quota) out.cpuQuota = r.cpu.quota;
  if (r.cpu?.period) out.cpuPeriod = r.cpu.period;
  if (r.cpu?.cpus) out.cpusetCpus = r.cpu.cpus;
  if (r.cpu?.mems) out.cpusetMems = r.cpu.mems;
  if (r.pids?.limit) out.pidsLimit = r.pids.limit;
  if (body.shm_size) out.shmSize = body.shm_size;
  return out;
}

/** `--device host[:container][:perms]` as podman sends it in `path`. */
function device(path: string): DeviceSpec {
  const [host = '', ...rest] = path.split(':');
  const perms = rest.length && /^[rwm]+$/.test(rest[rest.length - 1]!) ? rest.pop()! : 'rwm';
  return { host, container: rest[0] || host, permissions: perms };
}

function healthcheck(h: SpecGenerator['healthconfig']): HealthcheckSpec | undefined {
  if (!h) return undefined;
  const out: HealthcheckSpec = {};
  if (h.Test) out.test = h.Test;
  if (h.Interval) out.interval = h.Interval;
  if (h.Timeout) out.timeout = h.Timeout;
  if (h.StartPeriod) out.startPeriod = h.StartPeriod;
  if (h.Retries) out.retries = h.Retries;
  return out;
}

/**
 * --userns as podman's client sends it (`{nsmode, value}`), back in the CLI's text; the engine checks it
 * (runtime/rootless/userns-modes.ts: rootless modes, podman's errors on a rootful engine). `default` is
 * containers.conf's default: host.
 */
function userNamespace(ns: SpecGenerator['userns']): string {
  const mode = ns?.nsmode ?? '';
  if (mode === '' || mode === 'default') return '';
  if (mode === 'no-map') return 'nomap'; // the client's name for it
  return ns?.value ? `${mode}:${ns.value}` : mode;
}

/** The body as a spec for `image` (the route's resolution of the name), and the libpod echo. */
export function toSpec(body: SpecGenerator, image: string): { spec: ContainerSpec; echo: LibpodEcho } {
  const userns = userNamespace(body.userns);
  if (body.image_volumes?.length) throw invalid('image volumes are not supported by berth yet');
  const env = Object.entries(body.env ?? {}).map(([k, v]) => `${k}=${v}`);
  // podman's defaults (containers.conf's env, and libpod's own marker), unless the client set them.
  for (const [k, v] of [
    ['container', 'podman'],
    ['TERM', 'xterm'],
  ] as const)
    if (!(k in (body.env ?? {}))) env.unshift(`${k}=${v}`);
  // podman closes the container's stdin when the attached client's input ends (its inspect says
  // StdinOnce false all the same: the view shows the client's value).
  const process: ProcessSpec = { env, tty: !!body.terminal, stdin: !!body.stdin, stdinOnce: !!body.stdin };
  if (body.entrypoint) process.entrypoint = body.entrypoint;
  if (body.command) process.command = body.command;
  if (body.work_dir) process.workdir = body.work_dir;
  if (body.user) process.user = body.user;
  if (body.groups?.length) process.groups = body.groups;
  if (body.init) process.init = true;
  if (body.stop_signal) process.stopSignal = SIGNAL_NAMES.get(body.stop_signal) ?? String(body.stop_signal);
  if (body.stop_timeout !== undefined) process.stopTimeout = body.stop_timeout;
  if (body.r_limits?.length) process.rlimits = body.r_limits.map((l) => ({ name: l.type.toLowerCase().replace(/^rlimit_/, ''), soft: l.soft, hard: l.hard }));
  if (body.oom_score_adj !== undefined) process.oomScoreAdj = body.oom_score_adj;
  if (body.umask) process.umask = body.umask;
  if (body.timezone) process.timezone = body.timezone;
  const net = network(body);
  const security: SecuritySpec = { privileged: !!body.privileged, readonlyRootfs: !!body.read_only_filesystem };
  if (body.cap_add?.length) security.capAdd = body.cap_add;
  if (body.cap_drop?.length) security.capDrop = body.cap_drop;
  const options = [
    ...(body.no_new_privileges ? ['no-new-privileges'] : []),
    ...(body.seccomp_profile_path ? [`seccomp=${body.seccomp_profile_path}`] : []),
    ...(body.apparmor_profile ? [`apparmor=${body.apparmor_profile}`] : []),
  ];
  if (options.length) security.options = options;
  if (body.sysctl && Object.keys(body.sysctl).length) security.sysctls = body.sysctl;
  const networkSpec: NetworkSpec = { mode: net.mode, hostname: body.hostname ?? '', domainname: '' };
  if (net.endpoints) networkSpec.endpoints = net.endpoints;
  if (body.dns_server?.length) networkSpec.dns = body.dns_server;
  if (body.dns_search?.length) networkSpec.dnsSearch = body.dns_search;
  if (body.dns_option?.length) networkSpec.dnsOptions = body.dns_option;
  if (body.hostadd?.length) networkSpec.hosts = body.hostadd;
  const policy = body.restart_policy ?? '';
  const spec: ContainerSpec = {
    image,
    process,
    namespaces: {
      pid: namespace(body.pidns, 'pid'),
      ipc: namespace(body.ipcns, 'ipc'),
      uts: namespace(body.utsns, 'uts'),
      network: net.ns,
      ...(userns && { user: userns }),
    },
    mounts: mounts(body),
    ports: ports(body),
    network: networkSpec,
    resources: resources(body),
    security,
    restart: { policy: policy === 'no' ? '' : policy, maxRetries: body.restart_tries ?? 0, autoRemove: !!body.remove },
    labels: body.labels ?? {},
  };
  if (body.pod) spec.pod = body.pod;
  const health = healthcheck(body.healthconfig);
  if (health) spec.healthcheck = health;
  if (body.annotations && Object.keys(body.annotations).length) spec.annotations = body.annotations;
  const log = body.log_configuration;
  if (log?.driver === 'none') spec.log = { driver: 'none' };
  else if (log?.driver && log.driver !== 'k8s-file' && log.driver !== 'json-file') throw invalid(`log driver ${log.driver} is not supported by berth`);
  else if (log?.size && log.size > 0) spec.log = { driver: 'json-file', options: { 'max-size': String(log.size) } };
  if (body.devices?.length) spec.devices = body.devices.map((d) => device(d.path));
  if (body.overlay_volumes?.length)
    spec.overlays = body.overlay_volumes.map((o) => {
      if (!o.source.startsWith('/')) throw invalid(`overlay volume source ${o.source} must be an absolute path`);
      return { source: o.source, target: o.destination };
    });
  const echo = Object.fromEntries(Object.entries(body).filter(([k]) => !MODELED.has(k)));
  return { spec, echo };
}
