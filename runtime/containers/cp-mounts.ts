// What docker cp sees mounted in a container, as dockerd's archive code does (it mounts the container's
// volumes, binds and network files over the rootfs first): a table from in-container destination to the
// host source. The sources are the engine's own (a volume's _data, the bundle's /etc files) or given by
// whoever made the container (a bind's source): opened by name. A volume's subpath, and a bind source
// inside a volume or a rootfs, are a container's: opened inside it by descriptor. tmpfs mounts are left out, as dockerd leaves them out: they
// live only in the container's mount namespace, and cp sees the rootfs underneath.
import { constants, existsSync, openSync } from 'node:fs';
import { posix } from 'node:path';
import { EngineError } from '../errors.js';
import { openSubpath } from '../volumes/staging.js';
import { O_PATH, type MountLookup } from '../util/in-root.js';
import type { MountPoint } from '../volumes/mounts.js';
import { etcFilesIn, etcPlaceholderIn } from './etc-files.js';

export interface CpMount {
  destination: string;
  rw: boolean;
  /** A volume or bind (a mount point of the container's), not a network file. */
  volume: boolean;
  /** An O_PATH descriptor of the source (the caller closes it). */
  open(): number;
}

export interface CpMountSources {
  mounts: MountPoint[];
  /** A volume's _data directory. */
  volumePath: (name: string) => string;
  /** A bind source's descriptor: resolved by descriptor when a container controls where it lies. */
  openBind: (source: string) => number;
  /** The bundle holding the container's /etc files (its own, or that of the container whose network it joined). */
  etcDir?: string;
  readonlyRootfs: boolean;
}

export class CpMounts {
  private readonly byDestination: Map<string, CpMount>;

  constructor(entries: CpMount[]) {
    this.byDestination = new Map(entries.map((m) => [m.destination, m]));
  }

  static of(sources: CpMountSources): CpMounts {
    const entries: CpMount[] = [];
    for (const m of sources.mounts) {
      if (m.type === 'tmpfs') continue;
      const destination = posix.normalize(m.destination).replace(/(.)\/+$/, '$1');
      if (m.type === 'volume' && m.name) {
        const data = sources.volumePath(m.name);
        const subpath = m.subpath;
        // The subpath's descriptor is handed over as it is: the caller closes it.
        entries.push({ destination, rw: m.rw, volume: true, open: () => (subpath ? openSubpath(data, subpath).fd : openSync(data, O_PATH)) });
      } else if (m.type === 'bind' && m.source) {
        const source = m.source;
        entries.push({ destination, rw: m.rw, volume: true, open: () => sources.openBind(source) });
      }
    }
    // The network files, unless a mount point covers them: once written (at the first start), those;
    // before, the empty placeholder standing for dockerd's init layer's.
    if (sources.etcDir) {
      const files = etcFilesIn(sources.etcDir);
      const placeholder = etcPlaceholderIn(sources.etcDir);
      for (const [destination, written] of [
        ['/etc/resolv.conf', files.resolvConf],
        ['/etc/hostname', files.hostname],
        ['/etc/hosts', files.hosts],
      ] as const) {
        const source = existsSync(written) ? written : placeholder;
        if (entries.some((e) => e.destination === destination) || !existsSync(source)) continue;
        entries.push({ destination, rw: !sources.readonlyRootfs, volume: false, open: () => openSync(source, O_PATH | constants.O_NOFOLLOW) });
      }
    }
    return new CpMounts(entries);
  }

  /** For the descriptor walk (util/in-root.ts): the source mounted at an in-container path. */
  readonly lookup: MountLookup = (path) => this.byDestination.get(path)?.open();

  /**
   * For writing below a PUT's destination: the source of a writable mount; a read-only one refused, as
   * the mount would refuse the write in dockerd (the host's source itself is writable).
   */
  readonly writableLookup: MountLookup = (path) => {
    const m = this.byDestination.get(path);
    if (m && !m.rw) throw new EngineError('internal', 'mounted volume is marked read-only');
    return m?.open();
  };

  /** The mount destinations strictly below an in-container directory, outermost first. */
  below(path: string): string[] {
    const prefix = path === '/' ? '/' : path + '/';
    return [...this.byDestination.keys()].filter((d) => d.startsWith(prefix) && d !== path).sort((a, b) => a.length - b.length || a.localeCompare(b));
  }

  /** The volume or bind holding an in-container path (the deepest), if any: dockerd's checkIfPathIsInAVolume. */
  volumeHolding(path: string): CpMount | undefined {
    let best: CpMount | undefined;
    for (const m of this.byDestination.values()) {
      if (m.volume && (path === m.destination || path.startsWith(m.destination + '/')) && (!best || m.destination.length > best.destination.length)) best = m;
    }
    return best;
  }
}
