// A container's mount points, decided once at create and stored with it (anonymous volumes keep their
// generated names): Binds, Mounts (volume, bind, tmpfs), the image's VOLUMEs not otherwise covered
// (anonymous volumes), and VolumesFrom (another container's mount points).
import { invalid } from '../errors.js';
import { asList } from '../util/list.js';
import type { HostConfig } from '../../openapi/containers.js';

export interface MountPoint {
  type: 'volume' | 'bind' | 'tmpfs';
  destination: string;
  name?: string; // volume
  source?: string; // bind
  rw: boolean;
  mode: string; // Binds' mode flags other than ro/rw (z, Z, nocopy...)
  propagation: string;
  anonymous?: boolean;
  noCopy?: boolean;
  tmpfs?: { size?: number; mode?: number };
}

interface MountRequest {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  BindOptions?: { Propagation?: string };
  VolumeOptions?: { NoCopy?: boolean };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

const PROPAGATION = /^r?(shared|slave|private)$/;

/** `source:destination[:mode]`, or `/path` alone (an anonymous volume). */
function fromBind(spec: string): MountPoint {
  const parts = spec.split(':');
  if (parts.length === 1 && spec.startsWith('/')) return { type: 'volume', destination: spec, rw: true, mode: '', propagation: '', anonymous: true };
  if (parts.length < 2 || parts.length > 3 || !parts[0]) throw invalid(`invalid volume specification: '${spec}'`);
  const [source, destination, modeText = ''] = parts as [string, string, string?];
  if (!destination.startsWith('/')) throw invalid(`invalid mount config: mount path must be absolute: '${destination}'`);
  const modes = modeText.split(',').filter(Boolean);
  const rw = !modes.includes('ro');
  const mode = modes.filter((m) => m !== 'ro' && m !== 'rw').join(',');
  if (source.startsWith('/')) return { type: 'bind', source, destination, rw, mode, propagation: modes.find((m) => PROPAGATION.test(m)) ?? 'rprivate' };
  return { type: 'volume', name: source, destination, rw, mode: mode || 'z', propagation: '', noCopy: modes.includes('nocopy') };
}

function fromMount(m: MountRequest): MountPoint {
  const destination = m.Target ?? '';
  if (!destination.startsWith('/')) throw invalid(`invalid mount config for type "${m.Type}": invalid mount path: '${destination}' mount path must be absolute`);
  const rw = !m.ReadOnly;
  switch (m.Type) {
    case 'bind':
      if (!m.Source?.startsWith('/')) throw invalid(`invalid mount config for type "bind": invalid mount path: '${m.Source ?? ''}' mount path must be absolute`);
      return { type: 'bind', source: m.Source, destination, rw, mode: '', propagation: m.BindOptions?.Propagation || 'rprivate' };
    case 'volume':
      return m.Source
        ? { type: 'volume', name: m.Source, destination, rw, mode: '', propagation: '', noCopy: !!m.VolumeOptions?.NoCopy }
        : { type: 'volume', destination, rw, mode: '', propagation: '', anonymous: true, noCopy: !!m.VolumeOptions?.NoCopy };
    case 'tmpfs':
      if (m.Source) throw invalid('invalid mount config for type "tmpfs": source must not be specified');
      return { type: 'tmpfs', destination, rw, mode: '', propagation: '', tmpfs: { size: m.TmpfsOptions?.SizeBytes, mode: m.TmpfsOptions?.Mode } };
    default:
      throw invalid(`invalid mount config: mount type unknown: "${m.Type ?? ''}"`);
  }
}

/**
 * The mount points of a new container. `imageVolumes`: the image config's Volumes; `from`: the mount
 * points of each VolumesFrom container (with its `:ro`/`:rw`). Later entries for one destination lose.
 */
export function planMounts(hc: HostConfig, imageVolumes: string[], from: { mounts: MountPoint[]; mode: string }[]): MountPoint[] {
  const out: MountPoint[] = [];
  const taken = new Set<string>();
  const add = (m: MountPoint) => {
    const dest = m.destination.replace(/\/+$/, '') || '/';
    if (taken.has(dest)) throw invalid(`Duplicate mount point: ${dest}`);
    taken.add(dest);
    out.push({ ...m, destination: dest });
  };
  for (const b of asList(hc.Binds)) add(fromBind(b));
  for (const m of (hc.Mounts ?? []) as MountRequest[]) add(fromMount(m));
  for (const f of from) {
    for (const m of f.mounts) {
      if (taken.has(m.destination)) continue;
      add({ ...m, rw: f.mode === 'ro' ? false : m.rw, anonymous: false });
    }
  }
  for (const v of imageVolumes) {
    const dest = v.replace(/\/+$/, '') || '/';
    if (!taken.has(dest)) add({ type: 'volume', destination: dest, rw: true, mode: '', propagation: '', anonymous: true });
  }
  return out;
}

/** The OCI mount of a mount point. */
export function ociMount(m: MountPoint, volumePath: (name: string) => string): object {
  if (m.type === 'tmpfs') {
    const options = ['nosuid', 'nodev', 'noexec'];
    if (m.tmpfs?.size) options.push(`size=${m.tmpfs.size}`);
    if (m.tmpfs?.mode) options.push(`mode=${m.tmpfs.mode.toString(8)}`);
    if (!m.rw) options.push('ro');
    return { destination: m.destination, type: 'tmpfs', source: 'tmpfs', options };
  }
  const source = m.type === 'volume' ? volumePath(m.name!) : m.source!;
  return { destination: m.destination, type: 'bind', source, options: ['rbind', m.rw ? 'rw' : 'ro', m.propagation || 'rprivate'] };
}
