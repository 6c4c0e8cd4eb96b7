// Quadlet files (podman 4.4+'s format; `.pod` as podman 5 has it) → systemd units that run under
// berth. A user writes `web.container` (Image=, PublishPort=, Volume=...) and gets `web.service`,
// whose commands are podman --remote's against berth's socket. What differs from podman's quadlet,
// on purpose (the same reasons as generate.ts's):
// - every command is `podman --remote --url <berth's socket>`; units need berth.socket (Requires=,
//   After=) instead of podman's storage (RequiresMountsFor=);
// - a container runs as a foreground client (`run` without -d, Type=exec), not `--sdnotify=conmon`
//   with Type=notify (no NOTIFY_SOCKET reaches a remote engine), and with no `--cgroups=split` or
//   Delegate= (the container is in berth's cgroup tree, not the unit's); its output reaches the
//   journal through the attached client, so no `--log-driver passthrough` either;
// - `Notify=true` is refused for that reason, and a `.kube` unit is a oneshot (`kube play` then
//   `kube down`) without podman's service container;
// - `.volume`/`.network` units create with `-` (failure allowed: it exists already) then check that
//   the object exists: the 4.3.1 client has no `create --ignore`;
// - a `.pod` unit is a oneshot with no PIDFile (nothing of the pod's runs on the unit's side).
import { basename, dirname, extname, isAbsolute, join } from 'node:path';
import { escapeUnitWord } from './argv.js';
import { formatUnitFile, parseUnitFile, splitWords, UnitSyntaxError, type UnitEntry, type UnitFile } from './unit-file.js';

export const QUADLET_KINDS = ['.container', '.volume', '.network', '.kube', '.pod'] as const;
type Kind = (typeof QUADLET_KINDS)[number];

export interface QuadletSource {
  /** Absolute path (it names the unit, `SourcePath=`, and anchors a .kube's relative Yaml=). */
  path: string;
  text: string;
}

export interface QuadletOptions {
  /** The engine's socket URL (`unix:///run/berth/berth.sock`). */
  url: string;
  /** The podman client on this host. */
  executable: string;
}

export interface QuadletUnit {
  /** `web.service`. */
  name: string;
  text: string;
  source: string;
  /** [Install]'s WantedBy=/RequiredBy= targets: a generator links the unit into `<target>.wants`/`.requires`. */
  wantedBy: string[];
  requiredBy: string[];
}

export class QuadletError extends Error {}

const SECTION: Record<Kind, string> = { '.container': 'Container', '.volume': 'Volume', '.network': 'Network', '.kube': 'Kube', '.pod': 'Pod' };
const KEYS: Record<Kind, string[]> = {
  '.container': [
    'Image',
    'ContainerName',
    'Exec',
    'Entrypoint',
    'Environment',
    'EnvironmentFile',
    'PublishPort',
    'Volume',
    'Network',
    'Label',
    'Annotation',
    'User',
    'Group',
    'HostName',
    'WorkingDir',
    'AddCapability',
    'DropCapability',
    'ReadOnly',
    'RunInit',
    'NoNewPrivileges',
    'Timezone',
    'Secret',
    'Tmpfs',
    'LogDriver',
    'Pod',
    'Notify',
    'PodmanArgs',
  ],
  '.volume': ['VolumeName', 'Label', 'Driver', 'Device', 'Type', 'Options', 'User', 'Group', 'PodmanArgs'],
  '.network': ['NetworkName', 'Label', 'Driver', 'Subnet', 'Gateway', 'IPRange', 'IPv6', 'Internal', 'DisableDNS', 'Options', 'PodmanArgs'],
  '.kube': ['Yaml', 'PublishPort', 'Network', 'ConfigMap', 'LogDriver', 'PodmanArgs'],
  '.pod': ['PodName', 'PublishPort', 'Network', 'Volume', 'Label', 'PodmanArgs'],
};

export const kindOf = (path: string): Kind | undefined => QUADLET_KINDS.find((k) => extname(path) === k);
const stem = (path: string) => basename(path, extname(path));

/** The unit a quadlet file becomes: `web.container` → `web.service`, `data.volume` → `data-volume.service`. */
export function serviceOf(path: string): string {
  const kind = kindOf(path);
  const suffix = kind === '.volume' ? '-volume' : kind === '.network' ? '-network' : kind === '.pod' ? '-pod' : '';
  return `${stem(path)}${suffix}.service`;
}

/** A word of the converter's own, with systemd specifiers meant as such. */
class Own {
  constructor(readonly word: string) {}
}
type Word = string | Own;
const render = (argv: Word[]) => argv.map((w) => (w instanceof Own ? w.word : escapeUnitWord(w))).join(' ');

const bool = (v: string) => ['1', 'yes', 'true', 'on'].includes(v.toLowerCase());

class Group {
  constructor(private readonly entries: UnitEntry[]) {}
  all = (key: string) => this.entries.filter((e) => e.key === key).map((e) => e.value);
  /** The last value (a later line overrides, as systemd reads single-valued keys). */
  one = (key: string) => this.all(key).at(-1);
  words = (key: string) => this.all(key).flatMap(splitWords);
}

/** Names the other files give the objects they make (VolumeName=, NetworkName=, PodName=). */
type Names = Map<string, string>;

function objectName(names: Names, ref: string, kind: '.volume' | '.network' | '.pod'): string {
  return names.get(`${stem(ref)}${kind}`) ?? `systemd-${stem(ref)}`;
}

/**
 * Each source's unit, all sources read together (a .volume's VolumeName= names what a .container's
 * `Volume=x.volume:` mounts; a .container's Pod= makes the pod's unit want it). A file that fails
 * is an error of its own: the others are still converted.
 */
export function convertQuadlets(sources: QuadletSource[], o: QuadletOptions): { units: QuadletUnit[]; errors: string[] } {
  const errors: string[] = [];
  const parsed = sources.flatMap((s) => {
    const kind = kindOf(s.path);
    if (!kind) {
      errors.push(`${s.path}: not a quadlet file (${QUADLET_KINDS.join(', ')})`);
      return [];
    }
    try {
      return [{ ...s, kind, file: parseUnitFile(s.text) }];
    } catch (err) {
      errors.push(`${s.path}: ${(err as Error).message}`);
      return [];
    }
  });
  const names: Names = new Map();
  const members = new Map<string, string[]>();
  for (const p of parsed) {
    const section = p.file.find((s) => s.name === SECTION[p.kind])?.entries ?? [];
    const last = (key: string) => section.filter((e) => e.key === key).at(-1)?.value;
    const nameKey = { '.volume': 'VolumeName', '.network': 'NetworkName', '.pod': 'PodName' }[p.kind as string];
    const named = nameKey && last(nameKey);
    if (named) names.set(basename(p.path), named);
    const pod = p.kind === '.container' && last('Pod');
    if (pod) members.set(pod, [...(members.get(pod) ?? []), serviceOf(p.path)]);
  }
  const units: QuadletUnit[] = [];
  for (const p of parsed) {
    try {
      units.push(convertOne(p.path, p.kind, p.file, o, names, members.get(basename(p.path)) ?? []));
    } catch (err) {
      if (err instanceof QuadletError) errors.push(err.message);
      else if (err instanceof UnitSyntaxError) errors.push(`${p.path}: ${err.message}`);
      else throw err;
    }
  }
  return { units, errors };
}

function convertOne(path: string, kind: Kind, file: UnitFile, o: QuadletOptions, names: Names, podMembers: string[]): QuadletUnit {
  const sectionName = SECTION[kind];
  const own = file.find((s) => s.name === sectionName);
  if (!own) throw new QuadletError(`${path}: no [${sectionName}] section`);
  for (const e of own.entries) if (!KEYS[kind].includes(e.key)) throw new QuadletError(`${path}: unsupported key '${e.key}' in group '${sectionName}'`);
  const g = new Group(own.entries);
  const client = (...words: string[]) => [o.executable, '--remote', '--url', o.url, ...words];
  const unit: UnitEntry[] = [
    { key: 'SourcePath', value: path },
    { key: 'Requires', value: 'berth.socket' },
    { key: 'After', value: 'berth.socket' },
  ];
  const needs = (service: string) => unit.push({ key: 'Requires', value: service }, { key: 'After', value: service });
  const service: UnitEntry[] = [];
  /** An Exec line: the user's words escaped for systemd, the converter's own (`Own`: %t, %N specifiers) as they are. */
  const exec = (key: string, argv: Word[], prefix = '') => service.push({ key, value: prefix + render(argv) });
  const raw = (key: string, value: string) => service.push({ key, value });
  const refVolume = (spec: string) => {
    const [src, ...rest] = spec.split(':');
    if (!src?.endsWith('.volume')) return spec;
    needs(serviceOf(src));
    return [objectName(names, src, '.volume'), ...rest].join(':');
  };
  const refNetwork = (net: string) => {
    const [name, ...rest] = net.split(':');
    if (!name?.endsWith('.network')) return net;
    needs(serviceOf(name));
    return [objectName(names, name, '.network'), ...rest].join(':');
  };
  const each = (key: string, flag: string, map = (v: string) => v) => g.all(key).map((v) => `${flag}=${map(v)}`);
  const eachWord = (key: string, flag: string) => g.words(key).map((v) => `${flag}=${v}`);

  switch (kind) {
    case '.container': {
      const image = g.one('Image');
      if (!image) throw new QuadletError(`${path}: no Image key specified`);
      if (g.one('Notify') && bool(g.one('Notify')!))
        throw new QuadletError(`${path}: Notify=true needs conmon to reach systemd's notify socket, which a remote engine cannot`);
      const flags: Word[] = [
        g.one('ContainerName') ? `--name=${g.one('ContainerName')}` : new Own('--name=systemd-%N'),
        new Own('--cidfile=%t/%N.cid'),
        '--replace',
        '--rm',
        ...eachWord('Environment', '--env'),
        ...each('EnvironmentFile', '--env-file'),
        ...eachWord('PublishPort', '--publish'),
        ...each('Volume', '--volume', refVolume),
        ...each('Network', '--network', refNetwork),
        ...eachWord('Label', '--label'),
        ...eachWord('Annotation', '--annotation'),
        ...(g.one('User') ? [`--user=${g.one('User')}${g.one('Group') ? `:${g.one('Group')}` : ''}`] : []),
        ...(g.one('HostName') ? [`--hostname=${g.one('HostName')}`] : []),
        ...(g.one('WorkingDir') ? [`--workdir=${g.one('WorkingDir')}`] : []),
        ...(g.one('Entrypoint') ? [`--entrypoint=${g.one('Entrypoint')}`] : []),
        ...eachWord('AddCapability', '--cap-add'),
        ...eachWord('DropCapability', '--cap-drop'),
        ...(g.one('ReadOnly') && bool(g.one('ReadOnly')!) ? ['--read-only'] : []),
        ...(g.one('RunInit') && bool(g.one('RunInit')!) ? ['--init'] : []),
        ...(g.one('NoNewPrivileges') && bool(g.one('NoNewPrivileges')!) ? ['--security-opt=no-new-privileges'] : []),
        ...(g.one('Timezone') ? [`--tz=${g.one('Timezone')}`] : []),
        ...each('Secret', '--secret'),
        ...each('Tmpfs', '--tmpfs'),
        ...(g.one('LogDriver') ? [`--log-driver=${g.one('LogDriver')}`] : []),
      ];
      const pod = g.one('Pod');
      if (pod) {
        if (!pod.endsWith('.pod')) throw new QuadletError(`${path}: Pod= must name a .pod file, got ${pod}`);
        const podService = serviceOf(pod);
        flags.push(new Own(`--pod-id-file=%t/${podService.replace(/\.service$/, '')}.pod-id`));
        unit.push({ key: 'BindsTo', value: podService }, { key: 'After', value: podService });
      }
      raw('Environment', 'PODMAN_SYSTEMD_UNIT=%n');
      raw('ExecStartPre', '/bin/rm -f %t/%N.cid');
      exec('ExecStart', [...client('run'), ...flags, ...g.words('PodmanArgs'), image, ...g.words('Exec')]);
      // Stopped first (the attached client then exits with the container), removed after.
      exec('ExecStop', [...client('stop', '--ignore'), new Own('--cidfile=%t/%N.cid')]);
      exec('ExecStopPost', [...client('rm', '-f', '--ignore'), new Own('--cidfile=%t/%N.cid')], '-');
      raw('ExecStopPost', '-/bin/rm -f %t/%N.cid');
      raw('Type', 'exec');
      raw('SuccessExitStatus', '137 143');
      raw('SyslogIdentifier', '%N');
      break;
    }
    case '.volume': {
      const name = g.one('VolumeName') ?? `systemd-${stem(path)}`;
      const opts = [
        ...(g.one('Type') ? [`--opt=type=${g.one('Type')}`] : []),
        ...(g.one('Device') ? [`--opt=device=${g.one('Device')}`] : []),
        ...(g.one('Options') ? [`--opt=o=${g.one('Options')}`] : []),
        ...(g.one('User') ? [`--opt=uid=${g.one('User')}`] : []),
        ...(g.one('Group') ? [`--opt=gid=${g.one('Group')}`] : []),
        ...(g.one('Driver') ? [`--driver=${g.one('Driver')}`] : []),
        ...eachWord('Label', '--label'),
        ...g.words('PodmanArgs'),
      ];
      exec('ExecStart', client('volume', 'create', ...opts, name), '-');
      exec('ExecStart', client('volume', 'exists', name));
      raw('Type', 'oneshot');
      raw('RemainAfterExit', 'yes');
      raw('SyslogIdentifier', '%N');
      break;
    }
    case '.network': {
      const name = g.one('NetworkName') ?? `systemd-${stem(path)}`;
      const flags = [
        ...(g.one('Driver') ? [`--driver=${g.one('Driver')}`] : []),
        ...each('Subnet', '--subnet'),
        ...each('Gateway', '--gateway'),
        ...each('IPRange', '--ip-range'),
        ...(g.one('IPv6') && bool(g.one('IPv6')!) ? ['--ipv6'] : []),
        ...(g.one('Internal') && bool(g.one('Internal')!) ? ['--internal'] : []),
        ...(g.one('DisableDNS') && bool(g.one('DisableDNS')!) ? ['--disable-dns'] : []),
        ...each('Options', '--opt'),
        ...eachWord('Label', '--label'),
        ...g.words('PodmanArgs'),
      ];
      exec('ExecStart', client('network', 'create', ...flags, name), '-');
      exec('ExecStart', client('network', 'exists', name));
      raw('Type', 'oneshot');
      raw('RemainAfterExit', 'yes');
      raw('SyslogIdentifier', '%N');
      break;
    }
    case '.kube': {
      const yaml = g.one('Yaml');
      if (!yaml) throw new QuadletError(`${path}: no Yaml key specified`);
      const yamlPath = isAbsolute(yaml) ? yaml : join(dirname(path), yaml);
      const flags = [
        '--replace',
        ...each('Network', '--network', refNetwork),
        ...eachWord('PublishPort', '--publish'),
        ...each('ConfigMap', '--configmap', (v) => (isAbsolute(v) ? v : join(dirname(path), v))),
        ...(g.one('LogDriver') ? [`--log-driver=${g.one('LogDriver')}`] : []),
        ...g.words('PodmanArgs'),
      ];
      exec('ExecStart', client('kube', 'play', ...flags, yamlPath));
      exec('ExecStop', client('kube', 'down', yamlPath));
      raw('Type', 'oneshot');
      raw('RemainAfterExit', 'yes');
      raw('SyslogIdentifier', '%N');
      break;
    }
    case '.pod': {
      const name = g.one('PodName') ?? `systemd-${stem(path)}`;
      const idFile = new Own('--pod-id-file=%t/%N.pod-id');
      const flags = [
        ...eachWord('PublishPort', '--publish'),
        ...each('Network', '--network', refNetwork),
        ...each('Volume', '--volume', refVolume),
        ...eachWord('Label', '--label'),
        ...g.words('PodmanArgs'),
      ];
      if (podMembers.length) unit.push({ key: 'Wants', value: podMembers.join(' ') }, { key: 'Before', value: podMembers.join(' ') });
      raw('ExecStartPre', '/bin/rm -f %t/%N.pod-id');
      exec('ExecStartPre', [...client('pod', 'create'), idFile, '--exit-policy=stop', '--replace', `--name=${name}`, ...flags]);
      exec('ExecStart', [...client('pod', 'start'), idFile]);
      exec('ExecStop', [...client('pod', 'stop', '--ignore'), idFile, '--time=10']);
      exec('ExecStopPost', [...client('pod', 'rm', '--ignore', '--force'), idFile]);
      raw('Type', 'oneshot');
      raw('RemainAfterExit', 'yes');
      raw('SyslogIdentifier', '%N');
      break;
    }
  }

  // The user's [Unit] and [Service] lines come after the converter's (a later line wins for a
  // single-valued key, so Restart=, TimeoutStartSec=... override); [Install] and others pass through.
  const user = (name: string) => file.find((s) => s.name === name)?.entries ?? [];
  const out: UnitFile = [
    { name: 'Unit', entries: [...unit, ...user('Unit')] },
    { name: `X-${sectionName}`, entries: own.entries },
    { name: 'Service', entries: [...service, ...user('Service')] },
    ...file.filter((s) => s.name !== 'Unit' && s.name !== 'Service' && s.name !== sectionName),
  ];
  const install = user('Install');
  return {
    name: serviceOf(path),
    text: `# Automatically generated by berth quadlet from ${path}\n${formatUnitFile(out)}`,
    source: path,
    wantedBy: install.filter((e) => e.key === 'WantedBy').flatMap((e) => splitWords(e.value)),
    requiredBy: install.filter((e) => e.key === 'RequiredBy').flatMap((e) => splitWords(e.value)),
  };
}
