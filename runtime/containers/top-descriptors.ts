// podman top: the container's processes described by psgo's descriptors (`user,pid,ppid,pcpu,etime,tty,
// time,args` by default, or their AIX codes `%U %p ...`), read from /proc on the host and shown as seen
// inside the container (its PIDs, its /etc/passwd and /etc/group). Arguments that are not all descriptors
// are ps(1)'s: libpod then runs `ps` in the container and returns its lines whole (topFallback).
import { readFile, readlink } from 'node:fs/promises';
import { goDuration } from '../build/gofmt.js';
import { type IdKind, ownIdMap } from '../rootless/idmap.js';
import { toNs } from '../rootless/userns-modes.js';
import { rootless } from '../rootless/mode.js';
import type { TopResult } from './top.js';

/** sysconf(_SC_CLK_TCK): 100 on every Linux. */
const USER_HZ = 100;

interface Proc {
  hostPid: number;
  /** The PID in the container's namespace (the last of NSpid). */
  pid: number;
  ppidHost: number;
  pgidHost: number;
  comm: string;
  state: string;
  nice: string;
  ttyNr: number;
  /** utime + stime, clock ticks. */
  cpuTicks: number;
  /** Start time since boot, clock ticks. */
  startTicks: number;
  vsizeKiB: number;
  rssKiB: number;
  uid: { real: string; effective: string };
  gid: { real: string; effective: string };
  groups: string[];
  seccomp: string;
  /** Capability sets as /proc/<pid>/status writes them (hex masks). */
  caps: Record<'CapAmb' | 'CapBnd' | 'CapEff' | 'CapInh' | 'CapPrm', string>;
  /** The LSM label; `?` where the system has none. */
  label: string;
  args: string;
}

interface Context {
  procs: Map<number, Proc>;
  bootTime: number;
  nowMs: number;
  names: { users: Map<string, string>; groups: Map<string, string> };
  /** An engine-namespace id as the host names it (huser, hgroup, hgroups). */
  host: Record<IdKind, (id: string) => string>;
}

type Describe = (p: Proc, ctx: Context) => string;

const nsPid = (ctx: Context, hostPid: number) => String(ctx.procs.get(hostPid)?.pid ?? 0);
/** The start, whole seconds since the epoch (psgo drops the ticks' fraction). */
const startSeconds = (p: Proc, ctx: Context) => ctx.bootTime + Math.floor(p.startTicks / USER_HZ);
/** Milliseconds since the start (an integer: Go prints the duration exactly). */
const elapsedMs = (p: Proc, ctx: Context) => Math.max(0, ctx.nowMs - startSeconds(p, ctx) * 1000);
/** CPU time, whole seconds (as psgo counts it). */
const cpuSeconds = (p: Proc) => Math.floor(p.cpuTicks / USER_HZ);
const SECCOMP = ['disabled', 'strict', 'filter'];

/** Linux capabilities by bit (capability.h), as psgo names them: without `CAP_`. */
const CAPABILITIES = [
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'KILL',
  'SETGID',
  'SETUID',
  'SETPCAP',
  'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_ADMIN',
  'NET_RAW',
  'IPC_LOCK',
  'IPC_OWNER',
  'SYS_MODULE',
  'SYS_RAWIO',
  'SYS_CHROOT',
  'SYS_PTRACE',
  'SYS_PACCT',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_NICE',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'MKNOD',
  'LEASE',
  'AUDIT_WRITE',
  'AUDIT_CONTROL',
  'SETFCAP',
  'MAC_OVERRIDE',
  'MAC_ADMIN',
  'SYSLOG',
  'WAKE_ALARM',
  'BLOCK_SUSPEND',
  'AUDIT_READ',
  'PERFMON',
  'BPF',
  'CHECKPOINT_RESTORE',
];

/** A capability mask as psgo shows it: `full` (every capability), `none`, or the names sorted. */
function capabilityNames(hex: string): string {
  const mask = BigInt(`0x${hex || '0'}`);
  if (mask === (1n << BigInt(CAPABILITIES.length)) - 1n) return 'full';
  const names = CAPABILITIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n).sort();
  return names.length ? names.join(',') : 'none';
}
const nameOf = (names: Map<string, string>, id: string) => names.get(id) ?? id;

/** psgo's descriptors: header and value; the AIX code of each where it has one. */
const DESCRIPTORS: Record<string, { aix?: string; header: string; value: Describe }> = {
  args: { aix: '%a', header: 'COMMAND', value: (p) => p.args || `[${p.comm}]` },
  capamb: { header: 'AMBIENT CAPS', value: (p) => capabilityNames(p.caps.CapAmb) },
  capbnd: { header: 'BOUNDING CAPS', value: (p) => capabilityNames(p.caps.CapBnd) },
  capeff: { header: 'EFFECTIVE CAPS', value: (p) => capabilityNames(p.caps.CapEff) },
  capinh: { header: 'INHERITED CAPS', value: (p) => capabilityNames(p.caps.CapInh) },
  capprm: { header: 'PERMITTED CAPS', value: (p) => capabilityNames(p.caps.CapPrm) },
  comm: { aix: '%c', header: 'COMMAND', value: (p) => p.comm },
  etime: { aix: '%t', header: 'ELAPSED', value: (p, ctx) => goDuration(elapsedMs(p, ctx) * 1e6) },
  group: { aix: '%G', header: 'GROUP', value: (p, ctx) => nameOf(ctx.names.groups, p.gid.effective) },
  groups: { header: 'GROUPS', value: (p, ctx) => p.groups.map((g) => nameOf(ctx.names.groups, g)).join(',') },
  hgroup: { header: 'HGROUP', value: (p, ctx) => ctx.host.gid(p.gid.effective) },
  hgroups: { header: 'HGROUPS', value: (p, ctx) => (rootless() ? p.groups.map(ctx.host.gid) : p.groups).join(',') },
  hpid: { header: 'HPID', value: (p) => String(p.hostPid) },
  huser: { header: 'HUSER', value: (p, ctx) => ctx.host.uid(p.uid.effective) },
  label: { header: 'LABEL', value: (p) => p.label },
  nice: { aix: '%n', header: 'NI', value: (p) => p.nice },
  pcpu: {
    aix: '%C',
    header: '%CPU',
    value: (p, ctx) => {
      const elapsed = elapsedMs(p, ctx) / 1000;
      return (elapsed > 0 ? (100 * cpuSeconds(p)) / elapsed : 0).toFixed(3);
    },
  },
  pgid: { aix: '%r', header: 'PGID', value: (p, ctx) => nsPid(ctx, p.pgidHost) },
  pid: { aix: '%p', header: 'PID', value: (p) => String(p.pid) },
  ppid: { aix: '%P', header: 'PPID', value: (p, ctx) => nsPid(ctx, p.ppidHost) },
  rgroup: { aix: '%g', header: 'RGROUP', value: (p, ctx) => nameOf(ctx.names.groups, p.gid.real) },
  rss: { header: 'RSS', value: (p) => String(p.rssKiB) },
  seccomp: { header: 'SECCOMP', value: (p) => SECCOMP[Number(p.seccomp)] ?? '?' },
  ruser: { aix: '%u', header: 'RUSER', value: (p, ctx) => nameOf(ctx.names.users, p.uid.real) },
  state: { header: 'STATE', value: (p) => p.state },
  stime: { header: 'STIME', value: (p, ctx) => goTime(startSeconds(p, ctx)) },
  time: { aix: '%x', header: 'TIME', value: (p) => goDuration(cpuSeconds(p) * 1e9) },
  tty: { aix: '%y', header: 'TTY', value: (p) => ttyName(p.ttyNr) },
  user: { aix: '%U', header: 'USER', value: (p, ctx) => nameOf(ctx.names.users, p.uid.effective) },
  vsz: { aix: '%z', header: 'VSZ', value: (p) => String(p.vsizeKiB) },
};
const AIX = new Map(Object.entries(DESCRIPTORS).flatMap(([name, d]) => (d.aix ? [[d.aix, name] as const] : [])));

export const DEFAULT_DESCRIPTORS = ['user', 'pid', 'ppid', 'pcpu', 'etime', 'tty', 'time', 'args'];

/** The descriptor names of psgo's arguments (comma-separated too), or undefined when one is not psgo's. */
export function parseDescriptors(args: string[]): string[] | undefined {
  const given = args.flatMap((a) => a.split(',')).filter(Boolean);
  const names = given.map((d) => (DESCRIPTORS[d] ? d : AIX.get(d)));
  if (names.some((n) => n === undefined)) return undefined;
  return names.length ? (names as string[]) : DEFAULT_DESCRIPTORS;
}

/** Go's time.Time String() in UTC, to the second: `2026-12-06 09:57:27 +0000 UTC`. */
function goTime(seconds: number): string {
  return `${new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}

/** A tty_nr as psgo names it: `?` for none, `pts/N`, `ttyN`. */
function ttyName(ttyNr: number): string {
  if (ttyNr === 0) return '?';
  const major = (ttyNr >> 8) & 0xfff;
  const minor = (ttyNr & 0xff) | ((ttyNr >> 12) & 0xfff00);
  if (major >= 136 && major <= 143) return `pts/${minor + (major - 136) * 256}`;
  if (major === 4) return `tty${minor}`;
  return '?';
}

async function readProc(hostPid: number): Promise<Proc | undefined> {
  const dir = `/proc/${hostPid}`;
  const [stat, status, cmdline, label] = await Promise.all([
    readFile(`${dir}/stat`, 'utf8').catch(() => undefined),
    readFile(`${dir}/status`, 'utf8').catch(() => undefined),
    readFile(`${dir}/cmdline`).catch(() => undefined),
    readFile(`${dir}/attr/current`, 'utf8').catch(() => undefined),
  ]);
  if (!stat || !status) return undefined; // ended meanwhile
  // comm is in parentheses and may hold spaces and parentheses: the fields follow the last `)`.
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(stat.indexOf('(') + 1, close);
  const f = stat
    .slice(close + 2)
    .trim()
    .split(' ');
  // f[0] is field 3 (state) of proc(5).
  const field = (n: number) => f[n - 3] ?? '0';
  const lines = new Map(
    status.split('\n').map(
      (l) =>
        [
          l.slice(0, l.indexOf(':')),
          l
            .slice(l.indexOf(':') + 1)
            .trim()
            .split(/\s+/),
        ] as const,
    ),
  );
  const nspid = lines.get('NSpid') ?? [String(hostPid)];
  const uid = lines.get('Uid') ?? ['0', '0'];
  const gid = lines.get('Gid') ?? ['0', '0'];
  const args = (cmdline ?? Buffer.alloc(0)).toString('utf8').replace(/\0+$/, '').split('\0').join(' ');
  return {
    hostPid,
    pid: Number(nspid.at(-1)),
    ppidHost: Number(field(4)),
    pgidHost: Number(field(5)),
    comm,
    state: field(3),
    nice: field(19),
    ttyNr: Number(field(7)),
    cpuTicks: Number(field(14)) + Number(field(15)),
    startTicks: Number(field(22)),
    vsizeKiB: Math.floor(Number(field(23)) / 1024),
    rssKiB: Number((lines.get('VmRSS') ?? ['0'])[0]),
    uid: { real: uid[0] ?? '0', effective: uid[1] ?? '0' },
    gid: { real: gid[0] ?? '0', effective: gid[1] ?? '0' },
    groups: (lines.get('Groups') ?? []).filter(Boolean),
    seccomp: (lines.get('Seccomp') ?? ['?'])[0] ?? '?',
    caps: {
      CapAmb: lines.get('CapAmb')?.[0] ?? '0',
      CapBnd: lines.get('CapBnd')?.[0] ?? '0',
      CapEff: lines.get('CapEff')?.[0] ?? '0',
      CapInh: lines.get('CapInh')?.[0] ?? '0',
      CapPrm: lines.get('CapPrm')?.[0] ?? '0',
    },
    label: label?.replace(/\0/g, '').trim() || '?',
    args,
  };
}

/** `name:x:id:...` lines (passwd, group) as id → name; the first name of an id wins. */
async function idNames(path: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const line of ((await readFile(path, 'utf8').catch(() => '')) || '').split('\n')) {
    const [name, , id] = line.split(':');
    if (name && id !== undefined && !out.has(id)) out.set(id, name);
  }
  return out;
}

/**
 * Host names of ids. Rootful: the host's files. Rootless, as podman's psgo (FillMappings): the id mapped
 * through the engine's own namespace to the host's, then named from the container's files (psgo looks
 * it up in the container's mount namespace), so usually a number: HUSER `1002` for container root.
 */
function hostNamer(kind: IdKind, hostFile: Map<string, string>, containerFile: Map<string, string>): (id: string) => string {
  if (!rootless()) return (id) => nameOf(hostFile, id);
  const map = ownIdMap(kind);
  // The kernel's overflow id where the namespace maps none.
  return (id) => nameOf(containerFile, String(toNs(Number(id), map) ?? 65534));
}

async function bootTime(): Promise<number> {
  const stat = await readFile('/proc/stat', 'utf8');
  return Number(/^btime (\d+)$/m.exec(stat)?.[1] ?? 0);
}

/** The processes (host PIDs, the container's first) described by `descriptors` (parseDescriptors'). */
export async function describeProcesses(hostPids: number[], descriptors: string[]): Promise<TopResult> {
  const procs = new Map<number, Proc>();
  for (const p of await Promise.all(hostPids.map(readProc))) if (p) procs.set(p.hostPid, p);
  // The container's own names: those of the root its first process sees.
  const first = procs.values().next().value;
  const root = first
    ? await readlink(`/proc/${first.hostPid}/root`).then(
        () => `/proc/${first.hostPid}/root`,
        () => undefined,
      )
    : undefined;
  const [users, groups, hostUsers, hostGroups, boot] = await Promise.all([
    root ? idNames(`${root}/etc/passwd`) : new Map<string, string>(),
    root ? idNames(`${root}/etc/group`) : new Map<string, string>(),
    idNames('/etc/passwd'),
    idNames('/etc/group'),
    bootTime(),
  ]);
  const ctx: Context = {
    procs,
    bootTime: boot,
    nowMs: Date.now(),
    names: { users, groups },
    host: { uid: hostNamer('uid', hostUsers, users), gid: hostNamer('gid', hostGroups, groups) },
  };
  const chosen = descriptors.map((d) => DESCRIPTORS[d]!);
  return {
    titles: chosen.map((d) => d.header),
    processes: [...procs.values()].map((p) => chosen.map((d) => d.value(p, ctx))),
  };
}

/**
 * libpod's fallback: `ps` run in the container with the arguments as given; the header is the first
 * line, each other line one process (whole, as ps wrote it), minus the lines of that ps itself.
 */
export function psLines(stdout: string, args: string[]): TopResult {
  const own = args.join(' ');
  const [header, ...rest] = stdout
    .split('\n')
    .filter((l) => l !== '' && !l.includes(own))
    .map((l) => l.split('\t').map((f) => f.trim()));
  return { titles: header ?? [], processes: rest };
}
