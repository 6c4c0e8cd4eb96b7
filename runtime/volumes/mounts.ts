// A container's mount points, decided once at create and stored with it (anonymous volumes keep their
// generated names): Binds, Mounts (volume, bind, tmpfs), VolumesFrom (another container's mount
// points) and the image's VOLUMEs not otherwise covered (anonymous volumes). Checked as moby's Linux
// mount parser checks them (volume/mounts/linux_parser.go), with its messages.
import { existsSync } from 'node:fs';
import { posix } from 'node:path';
import { invalid } from '../errors.js';
import type { MountsSpec } from '../containers/spec.js';

export interface MountPoint {
  type: 'volume' | 'bind' | 'tmpfs';
  destination: string;
  name?: string; // volume
  source?: string; // bind
  rw: boolean;
  mode: string; // as shown in inspect: a Binds entry's mode text (ro, z, nocopy, rslave...)
  propagation: string;
  anonymous?: boolean;
  noCopy?: boolean;
  /** A volume's subdirectory to mount instead of its root (VolumeOptions.Subpath). */
  subpath?: string;
  /** A bind source made when missing, at start: Binds entries, and BindOptions.CreateMountpoint. */
  createSource?: boolean;
  /** BindOptions.NonRecursive: a plain bind, without the submounts under the source. */
  nonRecursive?: boolean;
  tmpfs?: { size?: number; mode?: number; options?: string[] };
  /**
   * How a volume that does not exist yet is made (VolumeOptions.DriverConfig, Labels): used once at
   * create by VolumeService.forMount, which drops it before the mount point is stored.
   */
  create?: { driver?: string; labels?: Record<string, string>; options?: Record<string, string> };
}

/** HostConfig.Mounts[] as the API sends it. */
export interface MountRequest {
  Type?: string;
  Source?: string | null;
  Target?: string;
  ReadOnly?: boolean | null;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean } | null;
  VolumeOptions?: {
    NoCopy?: boolean;
    Labels?: Record<string, string> | null;
    Subpath?: string;
    DriverConfig?: { Name?: string; Options?: Record<string, string> | null } | null;
  } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number; Options?: string[][] | null } | null;
}

const PROPAGATIONS = new Set(['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared']);
const MODE_GROUPS: Set<string>[] = [
  new Set(['rw', 'ro']),
  new Set(['z', 'Z']),
  PROPAGATIONS,
  new Set(['nocopy']),
  new Set(['consistent', 'cached', 'delegated']),
];

/** moby's linuxValidMountMode: known flags only, at most one of each group. */
function validMode(mode: string): boolean {
  if (mode === '') return true;
  const counts = MODE_GROUPS.map(() => 0);
  for (const o of mode.split(',')) {
    const group = MODE_GROUPS.findIndex((g) => g.has(o));
    if (group < 0) return false;
    counts[group]!++;
  }
  return counts.every((n) => n <= 1);
}

class MountConfigError extends Error {}

const configError = (type: string | undefined, message: string) => new MountConfigError(`invalid mount config for type "${type ?? ''}": ${message}`);

function checkAbsolute(type: string | undefined, path: string): void {
  if (!posix.isAbsolute(path.replace(/\\/g, '/'))) throw configError(type, `invalid mount path: '${path}' mount path must be absolute`);
}

/** moby's validateMountConfigImpl. `bindSourceMustExist`: Mounts entries (Binds make the source at start). */
function validate(m: MountRequest, bindSourceMustExist: boolean): void {
  const type = m.Type;
  const target = m.Target ?? '';
  if (!target) throw configError(type, 'field Target must not be empty');
  if (posix.normalize(target.replace(/\\/g, '/')).replace(/(.)\/+$/, '$1') === '/') throw configError(type, "invalid specification: destination can't be '/'");
  checkAbsolute(type, target);
  switch (type) {
    case 'bind': {
      if (!m.Source) throw configError(type, 'field Source must not be empty');
      const propagation = m.BindOptions?.Propagation;
      if (propagation && !PROPAGATIONS.has(propagation)) throw configError(type, `invalid propagation mode: ${propagation}`);
      if (m.VolumeOptions) throw configError(type, 'field VolumeOptions must not be specified');
      checkAbsolute(type, m.Source);
      if (bindSourceMustExist && !m.BindOptions?.CreateMountpoint && !existsSync(m.Source))
        throw configError(type, `bind source path does not exist: ${m.Source}`);
      return;
    }
    case 'volume': {
      if (m.BindOptions) throw configError(type, 'field BindOptions must not be specified');
      const anonymous = !m.Source;
      const subpath = m.VolumeOptions?.Subpath;
      if (subpath) {
        if (anonymous) throw configError(type, 'must not set Subpath when using anonymous volumes');
        const clean = posix.normalize(subpath);
        if (posix.isAbsolute(subpath) || clean === '..' || clean.startsWith('../'))
          throw configError(type, 'subpath must be a relative path within the volume');
      }
      if (m.ReadOnly && anonymous) throw configError(type, 'must not set ReadOnly mode when using anonymous volumes');
      return;
    }
    case 'tmpfs':
      if (m.BindOptions) throw configError(type, 'field BindOptions must not be specified');
      if (m.Source) throw configError(type, 'field Source must not be specified');
      for (const [field, goType] of [
        ['SizeBytes', 'int64'],
        ['Mode', 'fs.FileMode'],
      ] as const) {
        const value = m.TmpfsOptions?.[field];
        if (value != null && typeof value !== 'number')
          throw invalid(`json: cannot unmarshal ${typeof value} into Go struct field TmpfsOptions.HostConfig.Mounts.TmpfsOptions.${field} of type ${goType}`);
      }
      tmpfsOptions(m);
      return;
    default:
      throw configError(type, 'mount type unknown');
  }
}

/** TmpfsOptions.Options: only exec and noexec, as moby's validateTmpfsOptions. */
function tmpfsOptions(m: MountRequest): string[] {
  const out: string[] = [];
  for (const opt of m.TmpfsOptions?.Options ?? []) {
    if (!Array.isArray(opt) || opt.length < 1 || opt.length > 2) throw configError(m.Type, 'invalid option array length');
    if (opt[0] !== 'exec' && opt[0] !== 'noexec') throw configError(m.Type, `invalid option: ${opt[0]}`);
    out.push(opt.length === 1 ? opt[0] : `${opt[0]}=${opt[1]}`);
  }
  return out;
}

/** path.Clean of a container path. */
export const cleanTarget = (p: string) => posix.normalize(p.replace(/\\/g, '/')).replace(/(.)\/+$/, '$1');

/** A validated mount request as a mount point. `mode`: a Binds entry's mode text. */
function toMountPoint(m: MountRequest, mode?: string): MountPoint {
  const destination = cleanTarget(m.Target!);
  const rw = !m.ReadOnly;
  const fromBinds = mode !== undefined;
  switch (m.Type) {
    case 'bind':
      return {
        type: 'bind',
        source: posix.normalize(m.Source!).replace(/(.)\/+$/, '$1'),
        destination,
        rw,
        mode: mode ?? '',
        propagation: m.BindOptions?.Propagation || 'rprivate',
        ...(fromBinds || m.BindOptions?.CreateMountpoint ? { createSource: true } : {}),
        ...(m.BindOptions?.NonRecursive ? { nonRecursive: true } : {}),
      };
    case 'volume': {
      const vo = m.VolumeOptions;
      const create =
        vo && (vo.DriverConfig?.Name || vo.DriverConfig?.Options || vo.Labels)
          ? { driver: vo.DriverConfig?.Name || undefined, labels: vo.Labels ?? undefined, options: vo.DriverConfig?.Options ?? undefined }
          : undefined;
      return {
        type: 'volume',
        destination,
        rw,
        mode: mode || 'z',
        propagation: '',
        noCopy: !!vo?.NoCopy,
        ...(m.Source ? { name: m.Source } : { anonymous: true }),
        ...(vo?.Subpath ? { subpath: posix.normalize(vo.Subpath) } : {}),
        ...(create ? { create } : {}),
      };
    }
    default:
      return {
        type: 'tmpfs',
        destination,
        rw,
        mode: '',
        propagation: '',
        tmpfs: { size: m.TmpfsOptions?.SizeBytes || undefined, mode: m.TmpfsOptions?.Mode || undefined, options: tmpfsOptions(m) },
      };
  }
}

/** A Binds entry: `source:destination[:mode]`, or `destination` alone (an anonymous volume); moby's ParseMountRaw. */
function fromBind(raw: string): MountPoint {
  const spec = `invalid volume specification: '${raw}'`;
  const parts = raw.split(':');
  const arr = parts.length > 4 ? [...parts.slice(0, 3), parts.slice(3).join(':')] : parts;
  if (arr[0] === '') throw invalid(spec);
  let source = '';
  let target: string;
  let mode = '';
  switch (arr.length) {
    case 1:
      target = arr[0]!;
      break;
    case 2:
      if (validMode(arr[1]!)) throw invalid(spec); // `/foo:rw`: a volume cannot have a mode alone
      [source, target] = arr as [string, string];
      break;
    case 3:
      [source, target, mode] = arr as [string, string, string];
      break;
    default:
      throw invalid(spec);
  }
  if (!validMode(mode)) throw invalid(`invalid mode: ${mode}`);
  const modes = mode.split(',');
  const request: MountRequest = {
    Type: source.startsWith('/') ? 'bind' : 'volume',
    Source: source,
    Target: target,
    ReadOnly: modes.includes('ro'),
    ...(modes.includes('nocopy') ? { VolumeOptions: { NoCopy: true } } : {}),
  };
  const propagation = modes.find((o) => PROPAGATIONS.has(o));
  if (propagation) request.BindOptions = { Propagation: propagation };
  try {
    validate(request, false);
  } catch (err) {
    throw invalid(`${spec}: ${(err as Error).message}`);
  }
  return toMountPoint(request, mode);
}

function fromMount(m: MountRequest): MountPoint {
  try {
    validate(m, true);
  } catch (err) {
    if (err instanceof MountConfigError) throw invalid(err.message);
    throw err;
  }
  return toMountPoint(m);
}

/** HostConfig.Tmpfs destinations, checked as moby's ValidateTmpfsMountDestination. */
function tmpfsDestinations(m: MountsSpec): string[] {
  return Object.keys(m.tmpfs ?? {}).map((dest) => {
    if (cleanTarget(dest) === '/') throw invalid("invalid specification: destination can't be '/'");
    if (!posix.isAbsolute(dest)) throw invalid(`invalid mount path: '${dest}' mount path must be absolute`);
    return cleanTarget(dest);
  });
}

/**
 * The mount points of a new container. `imageVolumes`: the image config's Volumes; `from`: the mount
 * points of each VolumesFrom container (with its `:ro`/`:rw`). Binds and Mounts may not share a
 * destination with each other or with HostConfig.Tmpfs (Duplicate mount point); VolumesFrom and image
 * volumes fill the destinations left.
 */
export function planMounts(spec: MountsSpec, from: { mounts: MountPoint[]; mode: string }[]): MountPoint[] {
  const out: MountPoint[] = [];
  const tmpfs = new Set(tmpfsDestinations(spec));
  const taken = new Set<string>();
  const add = (m: MountPoint, shown = m.destination) => {
    if (taken.has(m.destination) || tmpfs.has(m.destination)) throw invalid(`Duplicate mount point: ${shown}`);
    taken.add(m.destination);
    out.push(m);
  };
  for (const b of spec.volumes ?? []) add(fromBind(b));
  for (const m of spec.mounts ?? []) add(fromMount(m), m.Target);
  for (const f of from) {
    for (const m of f.mounts) {
      if (taken.has(m.destination) || tmpfs.has(m.destination)) continue;
      add({ ...m, rw: m.rw && f.mode !== 'ro', anonymous: false });
    }
  }
  for (const v of spec.anonymous) {
    const dest = cleanTarget(v);
    if (!taken.has(dest) && !tmpfs.has(dest)) add({ type: 'volume', destination: dest, rw: true, mode: '', propagation: '', anonymous: true });
  }
  return out;
}

/** TmpfsOptions.SizeBytes as moby writes it: the largest of g, m, k that divides it, else bytes. */
function tmpfsSize(bytes: number): string {
  for (const [suffix, divisor] of [
    ['g', 2 ** 30],
    ['m', 2 ** 20],
    ['k', 2 ** 10],
  ] as const) {
    if (bytes % divisor === 0) return `${bytes / divisor}${suffix}`;
  }
  return String(bytes);
}

/** The OCI mount of a mount point. `staged`: its source pinned at a staging mount point (volumes/staging.ts). */
export function ociMount(m: MountPoint, volumePath: (name: string) => string, staged?: string): object {
  if (m.type === 'tmpfs') {
    const extra = m.tmpfs?.options ?? [];
    const options = ['nosuid', 'nodev', ...(extra.includes('exec') ? [] : ['noexec'])];
    if (m.tmpfs?.size) options.push(`size=${tmpfsSize(m.tmpfs.size)}`);
    if (m.tmpfs?.mode) options.push(`mode=${m.tmpfs.mode.toString(8)}`);
    options.push(...extra.filter((o) => o !== 'noexec'));
    if (!m.rw) options.push('ro');
    return { destination: m.destination, type: 'tmpfs', source: 'tmpfs', options };
  }
  // A subpath is container-controlled: never handed to runc by name.
  if (m.subpath && !staged) throw new Error(`volume ${m.name}: subpath ${m.subpath} not staged`);
  const source = staged ?? (m.type === 'volume' ? volumePath(m.name!) : m.source!);
  return { destination: m.destination, type: 'bind', source, options: [m.nonRecursive ? 'bind' : 'rbind', m.rw ? 'rw' : 'ro', m.propagation || 'rprivate'] };
}
