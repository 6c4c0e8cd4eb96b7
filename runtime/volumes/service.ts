// Local volumes: a directory per volume under <root>/volumes/<name>/_data, recorded in the DB (the row
// last on create, first on remove: a crash leaves at most a directory without a row). A volume with
// driver options (type/device/o, volumes/local.ts) is a mount of that directory while running
// containers use it: mounted by the first one's start, unmounted when the last one has exited, at
// engine start when none runs, and before its removal. Whether it is mounted is read from
// /proc/self/mountinfo, who uses it from the containers' records: nothing is kept in memory but the
// starts in flight, so `berth cleanup` (another process) releases it as the server does.
import { existsSync, openSync, realpathSync } from 'node:fs';
import { mkdir, readFile, realpath, rm } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { DB } from '../state/db.js';
import { conflict, EngineError, invalid, notFound } from '../errors.js';
import type { EventLog } from '../events/log.js';
import { isMounted, unmount } from '../storage/rootfs.js';
import { KeyedMutex } from '../util/lock.js';
import { isErrno, O_PATH, openInRoot } from '../util/in-root.js';
import { mountLocal, needsMount, validateOptions } from './local.js';
import { locateInRoot, openSubpath, SubpathStaging } from './staging.js';
import { mkdirInRoot } from '../util/in-root.js';
import type { MountPoint } from './mounts.js';
import { freeingSpace } from '../state/reserve.js';
import { isUp } from '../containers/state.js';

export interface Volume {
  name: string;
  driver: string;
  labels: Record<string, string>;
  options: Record<string, string>;
  anonymous: boolean;
  createdAt: string;
  mountpoint: string;
  /** No libpod container has mounted it yet (podman's NeedsChown: first-owner.ts). */
  needsChown: boolean;
}

interface VolumeRow {
  name: string;
  driver: string;
  labels: string;
  options: string;
  anonymous: number;
  created_at: string;
  needs_chown: number;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** The containers' records, as far as volumes care (the container store). */
export interface VolumeHolders {
  all(): { id: string; state: string; mounts: MountPoint[] }[];
}

/** A container as activate/release see it. */
type Holder = { id: string; mounts: MountPoint[] };

export class VolumeService {
  /** Starts in flight in this process (volume → container IDs): their volume stays mounted though they are not running yet. */
  private readonly starting = new Map<string, Set<string>>();
  private readonly lock = new KeyedMutex();
  private copies = 0;

  /** Staging mount points of pinned mount sources (staging.ts). */
  private readonly staging: SubpathStaging;
  /** The engine root as given and resolved: where volumes and rootfs dirs are. */
  private readonly roots: string[];

  constructor(
    private readonly db: DB,
    private readonly root: string,
    private readonly events: EventLog,
    runRoot: string,
    /** Who mounts what: the containers' records. */
    private readonly holders: VolumeHolders,
  ) {
    this.staging = new SubpathStaging(join(runRoot, 'subpaths'));
    this.roots = [...new Set([root, realpathSync(root)])];
  }

  mountpoint = (name: string) => join(this.root, 'volumes', name, '_data');

  private parse = (r: VolumeRow): Volume => ({
    name: r.name,
    driver: r.driver,
    labels: JSON.parse(r.labels) as Record<string, string>,
    options: JSON.parse(r.options) as Record<string, string>,
    anonymous: r.anonymous === 1,
    createdAt: r.created_at,
    mountpoint: this.mountpoint(r.name),
    needsChown: r.needs_chown === 1,
  });

  find(name: string): Volume | undefined {
    const row = this.db.prepare('SELECT * FROM volumes WHERE name = ?').get(name) as VolumeRow | undefined;
    return row && this.parse(row);
  }

  get(name: string): Volume {
    const v = this.find(name);
    if (!v) throw notFound(`get ${name}: no such volume`);
    return v;
  }

  all(): Volume[] {
    return (this.db.prepare('SELECT * FROM volumes ORDER BY name').all() as VolumeRow[]).map(this.parse);
  }

  /** Creates a volume (a generated name when none); an existing one with that name is returned as is, as dockerd does. */
  async create(
    o: { name?: string; driver?: string; labels?: Record<string, string>; options?: Record<string, string>; anonymous?: boolean } = {},
  ): Promise<Volume> {
    const name = o.name || randomBytes(32).toString('hex');
    if (name.length === 1) throw invalid(`create ${name}: volume name is too short, names should be at least two alphanumeric characters`);
    if (!NAME.test(name))
      throw invalid(
        `create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
      );
    const driver = o.driver || 'local';
    if (driver !== 'local') throw notFound(`create ${name}: error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    try {
      validateOptions(o.options ?? {});
    } catch (err) {
      throw err instanceof EngineError ? new EngineError(err.kind, `create ${name}: ${err.message}`) : err;
    }
    const existing = this.find(name);
    if (existing) return existing;
    await mkdir(this.mountpoint(name), { recursive: true, mode: 0o755 });
    this.db
      .prepare('INSERT OR IGNORE INTO volumes (name, driver, labels, options, anonymous, created_at, needs_chown) VALUES (?, ?, ?, ?, ?, ?, 1)')
      .run(name, driver, JSON.stringify(o.labels ?? {}), JSON.stringify(o.options ?? {}), o.anonymous ? 1 : 0, new Date().toISOString());
    this.events.record('volume', 'create', name, { driver });
    return this.get(name);
  }

  /** Whether this is the volume's first chown (libpod's NeedsChown), which it then is no more. */
  claimChown(name: string): boolean {
    return this.db.prepare('UPDATE volumes SET needs_chown = 0 WHERE name = ? AND needs_chown = 1').run(name).changes === 1;
  }

  /** Removes a volume; `users` are the containers that mount it (409 unless there are none). */
  /** Removal frees space: on a full disk its DB write may use the space reserve. */
  remove(name: string, users: string[], force = false): Promise<void> {
    return freeingSpace(() => this.removeNow(name, users, force));
  }

  private async removeNow(name: string, users: string[], force: boolean): Promise<void> {
    const v = this.find(name);
    if (!v) {
      if (force) return;
      throw notFound(`get ${name}: no such volume`);
    }
    if (users.length) throw conflict(`remove ${name}: volume is in use - [${users.join(', ')}]`);
    // Never delete through a mount (a bind volume's device is the user's own directory).
    if (needsMount(v.options)) {
      await this.lock.run(name, async () => {
        await unmount(v.mountpoint);
        if (await isMounted(v.mountpoint)) throw new EngineError('internal', `remove ${name}: ${v.mountpoint} is still mounted`);
      });
    }
    // A plain volume's row goes in the caller's tick: a container removal takes its anonymous volumes along at once.
    this.db.prepare('DELETE FROM volumes WHERE name = ?').run(name);
    this.events.record('volume', 'destroy', name, { driver: v.driver });
    // Something mounted over a plain volume is not berth's: its files stay then.
    if (!(await isMounted(v.mountpoint))) await rm(join(this.root, 'volumes', name), { recursive: true, force: true });
  }

  /** The containers (IDs) that mount a volume; with `running`, only those running (or paused, restarting). */
  users(name: string, running = false): string[] {
    return this.holders
      .all()
      .filter((c) => (!running || isUp(c)) && c.mounts.some((m) => m.type === 'volume' && m.name === name))
      .map((c) => c.id);
  }

  /**
   * The volume of a new container's mount point: made when missing (with the mount's driver, options
   * and labels), as dockerd does at create. The creation details are not kept with the mount point.
   */
  async forMount(m: MountPoint): Promise<void> {
    const { create } = m;
    delete m.create;
    await this.create({ ...create, name: m.name, anonymous: m.anonymous });
  }

  /**
   * Before a container starts: its volumes with driver options mounted, missing bind sources made
   * (Binds, CreateMountpoint), bind propagation checked — in dockerd's words — and the sources a
   * container controls (volume subpaths, binds inside a volume or a rootfs) pinned at staging mount
   * points (staging.ts): what runc must mount instead, by mount point. unstage() once runc has mounted.
   */
  async activate(c: Holder): Promise<Map<MountPoint, string>> {
    const staged = new Map<MountPoint, string>();
    try {
      for (const [index, m] of c.mounts.entries()) {
        if (m.type === 'bind' && m.source) {
          const inside = locateInRoot(m.source, this.controlledRoot);
          if (inside) {
            staged.set(m, await this.stageBind(c.id, index, m, inside));
            continue;
          }
          if (m.createSource && !existsSync(m.source)) await mkdir(m.source, { recursive: true, mode: 0o755 });
          await checkPropagation(m.source, m.propagation);
        }
        if (m.type !== 'volume' || !m.name) continue;
        const v = this.find(m.name);
        if (v && needsMount(v.options)) await this.pinMounted(v, c.id);
        if (m.subpath) {
          const fd = openSubpath(this.mountpoint(m.name), m.subpath);
          try {
            staged.set(m, await this.staging.stage(c.id, index, fd));
          } finally {
            fd.close();
          }
        }
      }
    } catch (err) {
      await this.staging.release(c.id);
      throw err;
    }
    return staged;
  }

  /** Mounts a volume with driver options unless it is, pinned by `holder` (a starting container, a copy) so it stays. */
  private async pinMounted(v: Volume, holder: string): Promise<void> {
    await this.lock.run(v.name, async () => {
      let pins = this.starting.get(v.name);
      if (!pins) this.starting.set(v.name, (pins = new Set()));
      pins.add(holder);
      if (await isMounted(v.mountpoint)) return;
      await mkdir(v.mountpoint, { recursive: true, mode: 0o755 });
      await mountLocal(v.options, v.mountpoint);
    });
  }

  /**
   * docker cp on a container that may not run: its volumes with driver options mounted for the copy, as
   * dockerd mounts them, then unmounted unless a container runs on them. Returns the release.
   */
  async holdForCopy(c: Holder): Promise<() => Promise<void>> {
    const holder = `copy:${c.id}:${++this.copies}`;
    const held: string[] = [];
    const release = async () => {
      for (const name of held) {
        const pins = this.starting.get(name);
        pins?.delete(holder);
        if (pins?.size === 0) this.starting.delete(name);
        await this.settle(name);
      }
    };
    try {
      for (const m of c.mounts) {
        const v = m.type === 'volume' && m.name ? this.find(m.name) : undefined;
        if (!v || !needsMount(v.options) || held.includes(v.name)) continue;
        held.push(v.name);
        await this.pinMounted(v, holder);
      }
    } catch (err) {
      await release();
      throw err;
    }
    return release;
  }

  /** A bind source inside a volume or a rootfs: made (Binds) and opened inside that root, then staged. */
  private async stageBind(id: string, index: number, m: MountPoint, at: { root: string; rest: string }): Promise<string> {
    if (m.createSource) mkdirInRoot(at.root, at.rest).close();
    let fd;
    try {
      fd = openInRoot(at.root, at.rest);
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) throw invalid(`invalid mount config for type "bind": bind source path does not exist: ${m.source}`);
      throw err;
    }
    try {
      return await this.staging.stage(id, index, fd);
    } finally {
      fd.close();
    }
  }

  /**
   * An O_PATH descriptor of a bind's source for docker cp: by name when it is the host's, resolved by
   * descriptor inside the volume or rootfs holding it when a container controls that (as activate pins it).
   */
  openBindSource(source: string): number {
    const inside = locateInRoot(source, this.controlledRoot);
    if (!inside) return openSync(source, O_PATH);
    return openInRoot(inside.root, inside.rest).fd;
  }

  /**
   * The directory a container controls that holds `path`, if any: a volume's data, a container's
   * rootfs or upper dir. Matched on the engine root as given and as resolved.
   */
  private controlledRoot = (path: string): string | undefined => {
    for (const root of this.roots) {
      const rel = relative(root, path);
      if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) continue;
      const [top, name, sub] = rel.split('/');
      if (top === 'volumes' && name && sub === '_data') return join(root, top, name, sub);
      if (top === 'containers' && name && (sub === 'merged' || sub === 'diff')) return join(root, top, name, sub);
    }
    return undefined;
  };

  /**
   * At engine start, before any container is started again: the staging mounts a killed engine left
   * (none outlives a `runc create`, so every one there is a leftover).
   */
  releaseStaging(): Promise<void> {
    return this.staging.releaseAll();
  }

  /** Drops a container's staging mounts: runc has made its own (or the start failed). */
  unstage(id: string): Promise<void> {
    return this.staging.release(id);
  }

  /** After a container's run (exited, or a start that failed): its option volumes that nothing else runs on are unmounted. */
  async release(c: Holder): Promise<void> {
    await this.staging.release(c.id);
    for (const m of c.mounts) {
      if (m.type !== 'volume' || !m.name) continue;
      const pins = this.starting.get(m.name);
      pins?.delete(c.id);
      if (pins?.size === 0) this.starting.delete(m.name);
      await this.settle(m.name, c.id);
    }
  }

  /** At engine start: option volumes left mounted with no running container (a crash, a reboot of the engine only). */
  async reconcile(): Promise<void> {
    for (const v of this.all()) if (needsMount(v.options)) await this.settle(v.name);
  }

  /** Unmounts a volume with driver options unless a container runs on it or is starting on it (`except`: the one just ended). */
  private async settle(name: string, except?: string): Promise<void> {
    const v = this.find(name);
    if (!v || !needsMount(v.options)) return;
    await this.lock.run(name, async () => {
      if (this.starting.get(name)?.size) return;
      if (this.users(name, true).some((id) => id !== except)) return;
      await unmount(v.mountpoint);
    });
  }
}

/** Optional fields of the mount that holds `path`: its mount point and propagation tags (shared:N, master:N). */
async function mountOf(path: string): Promise<{ point: string; tags: string[] }> {
  const real = await realpath(path);
  let best = { point: '/', tags: [] as string[] };
  for (const line of (await readFile('/proc/self/mountinfo', 'utf8')).split('\n')) {
    const fields = line.split(' ');
    const point = fields[4];
    if (!point) continue;
    const inside = point === '/' || real === point || real.startsWith(point + '/');
    if (inside && point.length >= best.point.length) best = { point, tags: fields.slice(6, fields.indexOf('-')) };
  }
  return best;
}

/** dockerd refuses shared/slave propagation from a mount that cannot give it (daemon/oci_linux.go). */
async function checkPropagation(source: string, propagation: string): Promise<void> {
  const shared = propagation === 'shared' || propagation === 'rshared';
  const slave = propagation === 'slave' || propagation === 'rslave';
  if (!shared && !slave) return;
  const { point, tags } = await mountOf(source);
  if (shared && !tags.some((t) => t.startsWith('shared:')))
    throw new EngineError('internal', `path ${source} is mounted on ${point} but it is not a shared mount`);
  if (slave && !tags.some((t) => t.startsWith('shared:') || t.startsWith('master:')))
    throw new EngineError('internal', `path ${source} is mounted on ${point} but it is not a shared or slave mount`);
}
