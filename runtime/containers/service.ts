// The container service: create, start, stop, kill, wait, remove... Podman's shape: SQLite records what
// exists, conmon + the OCI runtime run it, exit files and `runtime state` say what runs.
import { EventEmitter } from 'node:events';
import type { EventLog } from '../events/log.js';
import type { ExecStore } from '../exec/store.js';
import type { VolumeService } from '../volumes/service.js';
import { planMounts, type MountPoint } from '../volumes/mounts.js';
import { copyUp as copyVolumeUp } from '../volumes/copy-up.js';
import { makeWorkingDir } from './workdir.js';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, watch } from 'node:fs';
import { conflict, EngineError, invalid, notFound } from '../errors.js';
import { joinedRef, namespacesOf, type Namespaces } from '../oci/namespaces.js';
import { validateLogDriver } from './log-driver.js';
import { linkEnv, linkHostsLine, linksOf, liveLinks, renameLinkTarget } from './links.js';
import type { ImageService } from '../images/service.js';
import { parseConfig } from '../images/store.js';
import { parseTaggedReference, referenceString } from '../images/reference.js';
import { chainIds, sha256 } from '../util/digest.js';
import { applyChanges, tempDir, writeUpperAsLayer } from './commit.js';
import { join } from 'node:path';
import type { ContainerSpec, ContainerUpdate, LogSpec, StartChanges } from './spec.js';
import type { ContainerConfig as ImageContainerConfig } from '../images/config.js';
import { buildResources, buildSpec, securityOf } from '../oci/spec.js';
import { resolveUser } from '../oci/user.js';
import type { OciRuntime } from '../oci/runtime.js';
import { isMounted, mountOverlay, mountTmpfs, unmount } from '../storage/rootfs.js';
import { DEFAULT_SHM_SIZE } from '../oci/defaults.js';
import { commandOf, completeSpec } from './config.js';
import { validateCreate, validateStart, validateUpdate } from './validate.js';
import { wantedPorts } from '../network/ports.js';
import { awaitConmonGone, startConmon } from './conmon.js';
import { rotateIfNeeded, type LogLimits } from './log-rotation.js';
import { etcFilesIn, writeEtcFiles, writeEtcPlaceholder } from './etc-files.js';
import { CpMounts } from './cp-mounts.js';
import type { ExtractOwner } from './archive.js';
import { networkMode, type Attachments } from '../network/attachments.js';
import { crashPoint } from '../util/crash.js';
import { freeingSpace } from '../state/reserve.js';
import { generateName, validateName } from './names.js';
import type { ContainerPaths } from './paths.js';
import { parseSignal } from './signals.js';
import type { ClientEcho, Container, ContainerStore } from './store.js';
import { startingHealth, stoppedHealth } from './health-state.js';

export interface ContainerServiceOptions {
  runtimes: Map<string, OciRuntime>;
  defaultRuntime: string;
  /** argv of `berth cleanup` without the container ID: conmon runs it when a container exits. */
  exitCommand: string[];
  initBinary?: string;
  nofileLimit: number;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

const RUNNING = new Set(['running', 'paused', 'restarting']);
const now = () => new Date().toISOString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


/** How long an unmount waits for the copies holding a rootfs. */
const HOLD_WAIT_MS = 10_000;

export class ContainerService {
  /** 'changed' (id) whenever this process changes a container's state. */
  readonly events = new EventEmitter();
  /** Exits being settled in this process: a start waits for the last run's cleanup. */
  private readonly exiting = new Map<string, Promise<Container | undefined>>();
  /** Rootfs mounts in flight (one per container): a start, a copy or a removal waits for the same one. */
  private readonly mounting = new Map<string, Promise<boolean>>();
  private readonly rootfsHolds = new Map<string, { count: number; released: Promise<void>; release: () => void }>();
  /** Exec sessions, whose records go with their container. */
  execStore?: ExecStore;
  /** Named volumes that Binds refer to (made at create when missing, as dockerd does). */
  volumes?: VolumeService;
  /** Networks: endpoints, addresses and ports, netavark setup and teardown. */
  network?: Attachments;

  constructor(
    readonly store: ContainerStore,
    private readonly images: ImageService,
    readonly paths: ContainerPaths,
    private readonly options: ContainerServiceOptions,
    private readonly eventLog: EventLog,
  ) {
    this.events.setMaxListeners(0);
  }

  async init(): Promise<void> {
    for (const dir of [this.paths.exitDir(), this.paths.socketDir()]) await mkdir(dir, { recursive: true });
    for (const runtime of this.options.runtimes.values()) await mkdir(runtime.stateRoot, { recursive: true });
  }

  /**
   * In the API server: handle exits as soon as conmon writes them (conmon's exit command defers to a
   * running server). A sweep every few seconds catches what a coalesced watch event might miss.
   */
  watchExits(): () => void {
    const watcher = watch(this.paths.exitDir(), (_event, file) => {
      if (file) void this.handleExit(String(file)).catch(() => undefined);
    });
    const sweep = setInterval(() => {
      for (const c of this.store.all()) {
        if (c.state !== 'running' && c.state !== 'paused') continue;
        if (existsSync(this.paths.exitFile(c.id))) void this.handleExit(c.id).catch(() => undefined);
        else void rotateIfNeeded(this.paths, c.id, logLimits(c.spec.log)).catch(() => undefined);
      }
    }, 500);
    return () => {
      watcher.close();
      clearInterval(sweep);
    };
  }

  runtimeOf(c: Container): OciRuntime {
    const name = c.spec.runtime || this.options.defaultRuntime;
    const runtime = this.options.runtimes.get(name);
    if (!runtime) throw invalid(`unknown or invalid runtime name: ${name}`);
    return runtime;
  }

  private changed(id: string) {
    this.events.emit('changed', id);
  }

  /** Actor attributes of a container's events, as dockerd gives them: its labels, image and name. */
  private eventAttributes(c: Container): Record<string, string> {
    return { ...c.spec.labels, image: c.image_name, name: c.name };
  }

  /** Records a container event (the row as it is now, or as given when it is gone). */
  record(c: Container, action: string, extra: Record<string, string> = {}): void {
    this.eventLog.record('container', action, c.id, { ...this.eventAttributes(c), ...extra });
  }

  /**
   * `spec`: the request's, completed here with the image's defaults; `echo`: the creating API's own
   * fields, stored for its views.
   */
  async create(request: ContainerSpec, echo: ClientEcho, name?: string): Promise<{ id: string; warnings: string[] }> {
    if (!request.image) throw invalid('config cannot be empty in order to create a container');
    // What dockerd refuses before it looks at the image; security options as start would apply them.
    const workdir = validateCreate(request);
    securityOf(request.security);
    validateLogDriver(request.log);
    const references = this.recordReferences(request);
    const image = this.images.store.resolve(request.image);
    const runtime = request.runtime || this.options.defaultRuntime;
    if (!this.options.runtimes.has(runtime)) throw invalid(`unknown or invalid runtime name: ${runtime}`);
    const id = randomBytes(32).toString('hex');
    const finalName = name ? validateName(name) : generateName((n) => !!this.store.byName(n));
    const holder = this.store.byName(finalName);
    if (holder) {
      throw conflict(`Conflict. The container name "/${finalName}" is already in use by container "${holder.id}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    // API ≥ 1.44 clients (docker CLI 28) give the MAC address per network: the primary one's is the container's.
    const spec = completeSpec({ ...request, ...references }, parseConfig(image), id, { workdir, mac: primaryEndpoint(request)?.mac });
    logLimits(spec.log); // refuse bad --log-opt values now, not at start
    if (commandOf(spec).length === 0) throw invalid('no command specified');
    const imageName = request.image;
    const endpoints = this.network?.plan(spec);
    const mounts = await this.planMounts(spec);
    // Files first, the row last: a crash in between leaves a directory that reconcile() removes.
    // One level at a time: a recursive mkdir on a full disk reports ENOENT, not ENOSPC.
    await mkdir(this.paths.containersDir(), { recursive: true });
    await mkdir(this.paths.dir(id));
    await mkdir(this.paths.bundle(id));
    await writeEtcPlaceholder(this.paths.bundle(id));
    try {
      // The row and its networks together: a container is never half on its networks.
      this.store.transaction(() => {
        this.store.insert({
          id, name: finalName, image_id: image.id, image_name: imageName, top_layer: image.top_layer, spec, echo,
          created: now(), state: 'created', pid: 0, exit_code: 0, error: '', oom_killed: 0, started_at: null, finished_at: null,
          restart_count: 0, stopped_by_user: 0, run_id: 0, mounts, ports: [], health: null,
        });
        if (endpoints) this.network?.addPlanned(id, endpoints);
      });
    } catch (err) {
      await rm(this.paths.dir(id), { recursive: true, force: true });
      if (String(err).includes('UNIQUE constraint failed: containers.name')) {
        throw conflict(`Conflict. The container name "/${finalName}" is already in use. You have to remove (or rename) that container to be able to reuse that name.`);
      }
      throw err;
    }
    this.changed(id);
    const created = this.store.get(id)!;
    this.record(created, 'create');
    // Mounted ahead: `docker run` starts it right after, and the mount is a process spawn it need not wait on then.
    void this.mountRootfs(created).catch(() => undefined);
    return { id, warnings: [] };
  }

  /**
   * What a create names of other containers, recorded as dockerd echoes it: container:<id> modes, and
   * legacy links by the linked container's own name (renames follow). A missing one is the request's fault (400).
   */
  private recordReferences(spec: ContainerSpec): Pick<ContainerSpec, 'namespaces' | 'network'> {
    const namespaces = { ...spec.namespaces };
    for (const key of ['ipc', 'pid'] as const) {
      const ref = joinedRef(namespaces[key]);
      if (ref !== undefined) namespaces[key] = `container:${this.resolveReferenced(ref).id}`;
    }
    const network = { ...spec.network };
    // Legacy links (not on user-defined networks, where dockerd makes them aliases): by the name it has.
    const linkMode = networkMode(spec.network.mode).kind;
    if (network.links?.length && (linkMode === 'host' || linkMode === 'container')) {
      throw invalid(`conflicting options: ${linkMode === 'host' ? 'host type networking' : 'container type network'} can't be used with links. This would result in undefined behavior`);
    }
    if (network.links?.length && linkMode !== 'user') {
      network.links = linksOf(spec).map(({ target, alias }) => {
        try {
          return `${this.store.resolve(target).name}:${alias}`;
        } catch (err) {
          throw err instanceof EngineError && err.kind === 'not-found' ? invalid(`could not get container for ${target}: ${err.message}`) : err;
        }
      });
    }
    return { namespaces, network };
  }

  /** A container's address on the default bridge (where legacy links reach it). */
  private bridgeIp(c: Container): string | undefined {
    const store = this.network?.store;
    return store?.endpointsOf(c.id).find((e) => e.ip && store.get(e.networkId)?.name === 'bridge')?.ip ?? undefined;
  }

  /**
   * Links on user-defined networks (compose v1's `links:`): dockerd's DNS answers the alias to the
   * linking container only; a hosts line for each running target on a shared network does the same.
   */
  private userNetworkLinkLines(c: Container): string[] {
    const store = this.network?.store;
    if (!store) return [];
    const mine = new Set(store.endpointsOf(c.id).map((e) => e.networkId));
    return linksOf(c.spec).flatMap(({ target, alias }) => {
      const t = this.store.byName(target) ?? this.store.get(target);
      const ip = t && RUNNING.has(t.state) ? store.endpointsOf(t.id).find((e) => e.ip && mine.has(e.networkId))?.ip : undefined;
      return ip ? [`${ip}\t${alias}\n`] : [];
    });
  }

  /**
   * `docker rm --link /parent/alias`: the parent forgets that link; a running parent's /etc/hosts loses
   * its line, as dockerd rewrites it.
   */
  async removeLink(name: string): Promise<void> {
    const full = name.startsWith('/') ? name : `/${name}`;
    const at = full.lastIndexOf('/');
    if (at === 0) throw new EngineError('internal', 'Conflict, cannot remove the default link name of the container');
    const parent = this.store.byName(full.slice(1, at));
    const alias = full.slice(at + 1);
    const links = parent ? linksOf(parent.spec) : [];
    const gone = links.find((l) => l.alias === alias);
    if (!parent || !gone) throw notFound(`No such container: ${name}`);
    const kept = (parent.spec.network.links ?? []).filter((_, i) => links[i] !== gone);
    this.store.setSpec(parent.id, { ...parent.spec, network: { ...parent.spec.network, links: kept } });
    this.changed(parent.id);
    const target = this.store.byName(gone.target);
    const ip = target && this.bridgeIp(target);
    if (target && ip && (parent.state === 'running' || parent.state === 'paused')) {
      const file = etcFilesIn(this.paths.bundle(parent.id)).hosts;
      const line = linkHostsLine({ alias, container: target, ip });
      const hosts = await readFile(file, 'utf8').catch(() => undefined);
      if (hosts?.includes(line)) await writeFile(file, hosts.replace(line, ''));
    }
  }

  /** A container another one's create names (VolumesFrom, container:<id> modes): dockerd answers 400 when missing. */
  private resolveReferenced(ref: string): Container {
    try {
      return this.store.resolve(ref);
    } catch (err) {
      throw err instanceof EngineError && err.kind === 'not-found' ? invalid(err.message) : err;
    }
  }

  /** The PID/IPC/UTS namespaces a run joins: those of the containers its modes name, running. */
  private namespacesOf(c: Container): Namespaces {
    return namespacesOf(c.spec.namespaces, (id) => {
      const d = this.store.get(id);
      if (!d) throw notFound(`No such container: ${id}`);
      return { id: d.id, pid: d.pid, running: d.state === 'running' || d.state === 'paused', ipcMode: d.spec.namespaces.ipc, shm: this.paths.shm(d.id) };
    });
  }

  /**
   * The mount points of a new container (volumes/mounts.ts), with its volumes made: named ones that do
   * not exist yet, and a generated name for each anonymous one, as dockerd does at create (with
   * the spec's volume driver as their driver).
   */
  private async planMounts(spec: ContainerSpec): Promise<MountPoint[]> {
    const from = (spec.mounts.volumesFrom ?? []).map((entry) => {
      const [ref = '', mode = 'rw'] = entry.split(':');
      return { mounts: this.resolveReferenced(ref).mounts, mode };
    });
    const mounts = planMounts(spec.mounts, from);
    const driver = spec.mounts.volumeDriver;
    for (const m of mounts) {
      if (m.type !== 'volume') continue;
      if (!this.volumes) throw invalid('volumes are not available');
      if (m.anonymous) m.name = randomBytes(32).toString('hex');
      // --volume-driver: the driver of the volumes this create makes (a plugin berth has not, unless local).
      if (driver && !m.create?.driver && !this.volumes.find(m.name!)) m.create = { ...m.create, driver };
      await this.volumes.forMount(m);
    }
    return mounts;
  }

  /**
   * A volume still empty when first mounted over a directory of the image gets that directory's
   * content (owners, modes and all), as dockerd does — unless the mount said nocopy.
   */
  private async copyUp(c: Container): Promise<void> {
    if (!this.volumes) return;
    for (const m of c.mounts) {
      if (m.type !== 'volume' || m.noCopy || !m.name) continue;
      // Both sides are containers' (another one may share the volume): copied by descriptors (copy-up.ts).
      await copyVolumeUp(this.paths.merged(c.id), m.destination, this.volumes.mountpoint(m.name));
    }
  }

  /** Starts a created or exited container; false when it was running already (Docker's 304). */
  /**
   * `changes`: what a Docker client before API 1.24 gives start (its host config). dockerd then replaces
   * the container's host config; berth applies what start reads (ports, restart policy, privileges),
   * checked as create checks them. Mounts and networks were fixed at create.
   */
  async start(nameOrId: string, changes?: StartChanges): Promise<boolean> {
    let c = this.store.resolve(nameOrId);
    if (c.state === 'running' || c.state === 'paused') return false;
    if (c.state === 'removing') throw conflict(`container is marked for removal and cannot be started`);
    if (changes) {
      const next = withStartChanges(c.spec, changes);
      validateStart(next);
      securityOf(next.security);
      wantedPorts(next.ports); // malformed port specs are the request's fault (400), as at create
      this.store.setSpec(c.id, next);
      this.changed(c.id);
      c = this.store.get(c.id)!;
    }
    await this.run(c);
    return true;
  }

  /** One run of a container: rootfs, spec, conmon, runtime start. */
  private async run(c: Container): Promise<void> {
    const runtime = this.runtimeOf(c);
    const id = c.id;
    const bundle = this.paths.bundle(id);
    await this.exiting.get(id);
    // What another process (`berth cleanup`) or a crash left of the last run's network.
    if (c.run_id > 0 && this.network?.holdsResources(c)) await this.network.release(c);
    if (c.run_id > 0) await this.deleteRuntimeContainer(c); // a leftover of a previous run
    await rm(this.paths.exitFile(id), { force: true });
    try {
      const namespaces = this.namespacesOf(c);
      const mode = networkMode(c.spec.network.mode).kind;
      const links = mode === 'bridge' ? liveLinks(c, (ref) => this.store.byName(ref), (t) => this.bridgeIp(t)) : [];
      const linkLines = mode === 'user' ? this.userNetworkLinkLines(c) : links.map(linkHostsLine);
      // Addresses, ports and the namespace first (recorded), so a failure below knows what to undo.
      const net = this.network ? await this.network.prepare(c) : { hostNetwork: mode === 'host', nameservers: [] };
      crashPoint('start:prepared');
      // Independent steps at once: each is a process or a few syscalls, and `docker run` waits on them.
      const [, etcFiles] = await Promise.all([
        this.mountRootfs(c),
        // container:<id> shares that container's /etc files, as its network.
        'joined' in net && net.joined ? etcFilesIn(this.paths.bundle(net.joined.id)) : writeEtcFiles(bundle, c.spec, { ...net, links: linkLines }),
        // The log exists before the container does, so attached clients hold it open from the first byte.
        writeFile(this.paths.log(id), '', { flag: 'a' }),
      ]);
      const merged = this.paths.merged(id);
      if (c.spec.namespaces.ipc === 'shareable') {
        await mountTmpfs(this.paths.shm(id), `nosuid,nodev,noexec,mode=1777,size=${c.spec.resources.shmSize || DEFAULT_SHM_SIZE}`);
        namespaces.shm = { bind: this.paths.shm(id) };
      }
      // Option volumes mounted, bind sources made, container-controlled sources pinned (staged).
      const staged = await this.volumes?.activate(c);
      crashPoint('start:staged');
      await this.copyUp(c);
      const p = c.spec.process;
      const user = await resolveUser(merged, p.user ?? '', p.groups ?? []);
      // Links' variables first; the container's own replace them (moby's ReplaceOrAppendEnvValues).
      const own = new Set(p.env.map((e) => e.split('=')[0]));
      const env = [...links.flatMap((l) => linkEnv(c.name, l)).filter((e) => !own.has(e.split('=')[0])), ...p.env];
      if (c.spec.network.mode !== 'host' && !env.some((e) => e.startsWith('HOSTNAME='))) env.push(`HOSTNAME=${c.spec.network.hostname}`);
      if (p.tty && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm');
      if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home || '/'}`);
      if (p.workdir) makeWorkingDir(merged, p.workdir);
      const spec = buildSpec({
        id, spec: c.spec, env, rootfs: merged, user, etcFiles,
        initBinary: this.options.initBinary, nofileLimit: this.options.nofileLimit, cgroupsPath: `/berth/${id}`,
        volumePath: this.volumes?.mountpoint, staged, mounts: c.mounts, network: { host: net.hostNetwork, netns: 'netns' in net ? net.netns : undefined }, namespaces,
      });
      await writeFile(`${bundle}/config.json`, JSON.stringify(spec));
      const limits = logLimits(c.spec.log);
      // One file: conmon bounds it. Several: the engine rotates (log-rotation.ts).
      const logSizeMax = limits.maxFile <= 1 ? limits.maxSize : undefined;
      // netavark's setup runs beside conmon's `runc create`: the process waits for `runc start`.
      const networkSetup = this.network?.setup(c);
      const conmon = startConmon({
        id, uuid: id.slice(0, 12), persistDir: bundle, name: c.name, bundle, runtimePath: runtime.path, runtimeRoot: runtime.stateRoot, exitDir: this.paths.exitDir(),
        logPath: this.paths.log(id), logSizeMax, socketDir: this.paths.socketDir(), conmonPidFile: this.paths.conmonPid(id),
        stdin: c.spec.process.stdin, leaveStdinOpen: c.spec.process.stdin && !c.spec.process.stdinOnce, tty: c.spec.process.tty,
        exitCommand: [...this.options.exitCommand, id],
      });
      const [pid] = await allOrFirstError([conmon, networkSetup]);
      await this.volumes?.unstage(id); // runc has mounted them in the container's namespace
      crashPoint('start:created');
      // Each run's health starts over (the probe log stays), as dockerd's; the monitor (health.ts) follows.
      const health = startingHealth(c.spec, c.health);
      this.store.update(id, {
        state: 'running', pid, started_at: now(), error: '', exit_code: 0, stopped_by_user: 0, run_id: c.run_id + 1, oom_killed: 0,
        health: health && JSON.stringify(health),
      });
      this.changed(id);
      crashPoint('start:recorded');
      await runtime.start(id);
      this.record(c, 'start');
    } catch (err) {
      const message = (err as Error).message;
      await this.deleteRuntimeContainer(c);
      await Promise.all([this.unmountRootfs(id), this.network?.release(c)]);
      await this.volumes?.release(c).catch(() => undefined);
      const exitCode = /no such file or directory|not found/i.test(message) ? 127 : /permission denied/i.test(message) ? 126 : 128;
      this.store.update(id, {
        state: c.run_id > 0 ? 'exited' : 'created', pid: 0, error: message, exit_code: exitCode, finished_at: c.run_id > 0 ? now() : null,
        health: c.health && JSON.stringify(c.health), // a run that never started has no health of its own
      });
      this.changed(id);
      // A container that cannot start has ended: --rm removes it (the CLI waits for condition=removed).
      if (c.spec.restart.autoRemove) await this.removeFiles(this.store.get(id)!).catch(() => undefined);
      throw err instanceof EngineError ? err : new EngineError('internal', message);
    }
  }

  /** Deletes the runtime's container and waits for its conmon, which must not report into the next run. */
  private async deleteRuntimeContainer(c: Container): Promise<void> {
    await this.runtimeOf(c).delete(c.id);
    await awaitConmonGone(c.id, this.paths.conmonPid(c.id));
  }

  /** The image's layer dirs under a container, top first (an empty dir for an image without layers). */
  async lowerDirs(c: Container): Promise<string[]> {
    const lower = this.images.layers.diffDirs(c.top_layer);
    if (lower.length === 0) {
      const empty = `${this.paths.dir(c.id)}/empty`;
      await mkdir(empty, { recursive: true });
      lower.push(empty);
    }
    return lower;
  }

  /** Mounts the container's rootfs; returns whether it was mounted already. */
  mountRootfs(c: Container): Promise<boolean> {
    const inFlight = this.mounting.get(c.id);
    if (inFlight) return inFlight.then(() => true);
    const mounting = (async () => {
      const merged = this.paths.merged(c.id);
      if (await isMounted(merged)) return true;
      await mountOverlay(await this.lowerDirs(c), this.paths.upper(c.id), this.paths.work(c.id), merged);
      return false;
    })().finally(() => this.mounting.delete(c.id));
    this.mounting.set(c.id, mounting);
    return mounting;
  }

  /**
   * Mounts the rootfs for a reader or writer from outside (cp, export, a build step's WORKDIR): an exit
   * being settled unmounts first, and an unmount waits for the hold (up to a bound) so a copy never sees
   * the mount go under it. Pair with releaseRootfs.
   */
  async holdRootfs(c: Container): Promise<boolean> {
    await this.exiting.get(c.id)?.catch(() => undefined);
    let hold = this.rootfsHolds.get(c.id);
    if (!hold) {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      hold = { count: 0, released, release };
      this.rootfsHolds.set(c.id, hold);
    }
    hold.count++;
    try {
      return await this.mountRootfs(c);
    } catch (err) {
      this.dropHold(c.id);
      throw err;
    }
  }

  private dropHold(id: string): void {
    const hold = this.rootfsHolds.get(id);
    if (!hold || --hold.count > 0) return;
    this.rootfsHolds.delete(id);
    hold.release();
  }

  /** What docker cp sees mounted in the container: its volumes and binds, and its network files once written. */
  cpMounts(c: Container): CpMounts {
    const mode = c.spec.network.mode;
    let etcOwner = c.id;
    if (mode.startsWith('container:')) {
      try {
        etcOwner = this.store.resolve(mode.slice('container:'.length)).id;
      } catch {
        // gone: the rootfs's own files answer
      }
    }
    const volumes = this.volumes;
    return CpMounts.of({
      mounts: c.mounts, volumePath: volumes?.mountpoint, openBind: volumes ? (source) => volumes.openBindSource(source) : undefined,
      etcDir: this.paths.bundle(etcOwner), readonlyRootfs: c.spec.security.readonlyRootfs,
    });
  }

  /**
   * Who owns what docker cp extracts: the archive's owners, as dockerd keeps them; with copyUIDGID and a
   * configured user, that user (dockerd looks it up on the host; here in the container's own passwd file).
   */
  async cpOwner(c: Container, copyUidGid: boolean): Promise<ExtractOwner> {
    if (!copyUidGid || !c.spec.process.user) return undefined;
    const user = await resolveUser(this.paths.merged(c.id), c.spec.process.user);
    return { uid: user.uid, gid: user.gid };
  }

  /** Unmounts the container's rootfs, after a mount still in flight (one made ahead at create) and the holds. */
  private async unmountRootfs(id: string): Promise<void> {
    await this.mounting.get(id)?.catch(() => undefined);
    const held = this.rootfsHolds.get(id)?.released;
    // Bounded: a client that stops reading an export must not keep a removal waiting for ever.
    if (held) await Promise.race([held, new Promise((resolve) => setTimeout(resolve, HOLD_WAIT_MS).unref())]);
    await Promise.all([unmount(this.paths.merged(id)), unmount(this.paths.shm(id))]);
  }

  /** Releases a rootfs held for a copy, unmounting it unless the container is running off it. */
  async releaseRootfs(c: Container, wasMounted: boolean): Promise<void> {
    this.dropHold(c.id);
    const now = this.store.get(c.id);
    if (!wasMounted && (!now || !RUNNING.has(now.state))) await this.unmountRootfs(c.id);
  }

  /**
   * What happens when a container's process has ended: record the exit, release the rootfs, then
   * --rm or the restart policy. Runs in the API server and in `berth cleanup` (conmon's exit command);
   * whichever comes first does the work, the other finds nothing to do.
   */
  async handleExit(id: string): Promise<void> {
    // A second caller (the exit-dir watcher beside `stop`) waits for the first one's cleanup.
    const inFlight = this.exiting.get(id);
    if (inFlight) return void (await inFlight);
    // A full disk must not keep an exit unrecorded: settling may use the space reserve (a restart may not).
    const settling = freeingSpace(() => this.settleExit(id)).finally(() => this.exiting.delete(id));
    this.exiting.set(id, settling);
    const after = await settling;
    if (after && !after.spec.restart.autoRemove) await this.maybeRestart(after);
  }

  /** Records the exit and undoes the run (runtime state, rootfs, network); the container if this call claimed it. */
  private async settleExit(id: string): Promise<Container | undefined> {
    const c = this.store.get(id);
    if (!c || !RUNNING.has(c.state) || c.state === 'restarting') return undefined;
    const runtime = this.runtimeOf(c);
    const code = await readExitCode(this.paths.exitFile(id));
    if (code === undefined) {
      const state = await runtime.state(id);
      if (state && state.status !== 'stopped') return undefined; // still running
    }
    const oom = existsSync(`${this.paths.bundle(id)}/oom`);
    // Health as of now (a probe may have recorded meanwhile): no monitor runs any more, so "unhealthy".
    const health = stoppedHealth(this.store.get(id)?.health ?? null);
    const claimed = this.store.transition(id, c.run_id, {
      state: 'exited', pid: 0, exit_code: code ?? 255, finished_at: now(), oom_killed: oom ? 1 : 0, health,
    });
    if (!claimed) return undefined;
    this.changed(id);
    const after = this.store.get(id)!;
    if (oom) this.record(after, 'oom');
    const ranFor = after.started_at ? (Date.now() - Date.parse(after.started_at)) / 1000 : 0;
    this.record(after, 'die', { exitCode: String(code ?? 255), execDuration: String(Math.max(0, Math.round(ranFor))) });
    await this.volumes?.release(after).catch(() => undefined); // option volumes nothing else runs on are unmounted
    if (after.spec.restart.autoRemove) {
      await this.removeFiles(after);
      return after;
    }
    await Promise.all([runtime.delete(id), this.unmountRootfs(id), this.network?.release(after)]);
    return after;
  }

  /** Docker's restart policies, with its back-off: 100 ms doubling per restart, reset after 10 s up. */
  private async maybeRestart(c: Container): Promise<void> {
    const { policy, maxRetries: max } = c.spec.restart;
    if (c.stopped_by_user || policy === 'no' || policy === '') return;
    if (policy === 'on-failure') {
      if (c.exit_code === 0 || (max > 0 && c.restart_count >= max)) return;
    }
    const ranFor = c.started_at ? Date.now() - Date.parse(c.started_at) : 0;
    const count = ranFor > 10_000 ? 0 : c.restart_count;
    const delay = Math.min(100 * 2 ** count, 60_000);
    this.store.update(c.id, { state: 'restarting' });
    this.changed(c.id);
    await sleep(delay);
    const fresh = this.store.get(c.id);
    if (!fresh || fresh.state !== 'restarting' || fresh.stopped_by_user) return;
    // Still `restarting` until run() moves it to running (or, failing, to exited): never a false "exited".
    this.store.update(c.id, { restart_count: count + 1 });
    await this.run({ ...fresh, restart_count: count + 1 }).catch(() => undefined);
  }

  /** Kill, stop and rm free space: on a full disk their DB writes use the reserve (state/reserve.ts). */
  kill(nameOrId: string, signal?: string): Promise<void> {
    return freeingSpace(() => this.signal(nameOrId, signal));
  }

  private async signal(nameOrId: string, signal?: string): Promise<void> {
    const c = this.store.resolve(nameOrId);
    if (!RUNNING.has(c.state)) throw conflict(`Cannot kill container: ${nameOrId}: Container ${c.id} is not running`);
    const sig = parseSignal(signal);
    if (sig === 9 || sig === 15) this.store.update(c.id, { stopped_by_user: 1 });
    this.record(c, 'kill', { signal: String(sig) });
    if (c.state === 'restarting') {
      this.store.update(c.id, { state: 'exited' });
      return this.changed(c.id);
    }
    await this.runtimeOf(c).kill(c.id, sig);
    // As dockerd: a SIGKILL answers once the container is stopped and its exit recorded, so a `rm` or
    // `commit` right after sees it stopped; other signals answer at once.
    if (sig === 9) await this.exitedWithin(c.id, 30_000);
  }

  /** StopSignal (or the given one), then SIGKILL after the timeout; returns once the exit is recorded. */
  stop(nameOrId: string, timeout?: number, signal?: string): Promise<boolean> {
    return freeingSpace(() => this.stopNow(nameOrId, timeout, signal));
  }

  private async stopNow(nameOrId: string, timeout?: number, signal?: string): Promise<boolean> {
    const c = this.store.resolve(nameOrId);
    if (c.state === 'restarting') {
      this.store.update(c.id, { state: 'exited', stopped_by_user: 1 });
      this.changed(c.id);
      return true;
    }
    if (!RUNNING.has(c.state)) return false;
    this.store.update(c.id, { stopped_by_user: 1 });
    const runtime = this.runtimeOf(c);
    if (c.state === 'paused') await runtime.resume(c.id).catch(() => undefined);
    const wait = timeout ?? c.spec.process.stopTimeout ?? 10;
    const sig = parseSignal(signal || c.spec.process.stopSignal, 'SIGTERM');
    this.record(c, 'kill', { signal: String(sig) });
    await runtime.kill(c.id, sig).catch(() => undefined);
    if (!(await this.exitedWithin(c.id, wait < 0 ? Infinity : wait * 1000))) {
      this.record(c, 'kill', { signal: '9' });
      await runtime.kill(c.id, 9, true).catch(() => undefined);
      await this.exitedWithin(c.id, 30_000);
    }
    this.record(this.store.get(c.id) ?? c, 'stop');
    return true;
  }

  /** Resolves once an exit being handled now (its rootfs, network, runtime state) is done with. */
  private async settled(id: string): Promise<void> {
    await this.exiting.get(id)?.catch(() => undefined);
  }

  private async exitedWithin(id: string, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (existsSync(this.paths.exitFile(id))) {
        await this.handleExit(id);
        return true;
      }
      const c = this.store.get(id);
      if (!c || !RUNNING.has(c.state)) {
        await this.settled(id);
        return true;
      }
      await sleep(20);
    }
    return false;
  }

  async restart(nameOrId: string, timeout?: number, signal?: string): Promise<void> {
    const c = this.store.resolve(nameOrId);
    await this.stop(c.id, timeout, signal);
    const fresh = this.store.get(c.id)!;
    await this.run(fresh);
    this.record(fresh, 'restart');
  }

  async pause(nameOrId: string): Promise<void> {
    const c = this.store.resolve(nameOrId);
    if (c.state === 'paused') throw conflict(`Container ${c.id} is already paused`);
    if (c.state !== 'running') throw conflict(`Container ${c.id} is not running`);
    await this.runtimeOf(c).pause(c.id);
    // No probes while paused: dockerd then says unhealthy until the next probe after unpause.
    this.store.update(c.id, { state: 'paused', health: stoppedHealth(this.store.get(c.id)?.health ?? null) });
    this.changed(c.id);
    this.record(c, 'pause');
  }

  async unpause(nameOrId: string): Promise<void> {
    const c = this.store.resolve(nameOrId);
    if (c.state !== 'paused') throw conflict(`Container ${c.id} is not paused`);
    await this.runtimeOf(c).resume(c.id);
    this.store.update(c.id, { state: 'running' });
    this.changed(c.id);
    this.record(c, 'unpause');
  }

  rename(nameOrId: string, newName: string): void {
    const c = this.store.resolve(nameOrId);
    const name = validateName(newName);
    if (name === c.name) throw conflict(`Renaming a container with the same name as its current name`);
    const holder = this.store.byName(name);
    if (holder) throw conflict(`Conflict. The container name "/${name}" is already in use by container "${holder.id}". You have to remove (or rename) that container to be able to reuse that name.`);
    this.store.transaction(() => {
      this.store.update(c.id, { name });
      // Links name their container: they follow it, as dockerd's link graph does.
      for (const parent of this.store.all()) {
        const links = renameLinkTarget(parent.spec, c.name, name);
        if (links) this.store.setSpec(parent.id, { ...parent.spec, network: { ...parent.spec.network, links } });
      }
    });
    this.changed(c.id);
    this.record({ ...c, name }, 'rename', { oldName: `/${c.name}` });
  }

  /** docker rm [-f] [-v]: `volumes` also removes the container's anonymous volumes. */
  remove(nameOrId: string, force: boolean, volumes = false): Promise<void> {
    return freeingSpace(() => this.removeNow(nameOrId, force, volumes));
  }

  private async removeNow(nameOrId: string, force: boolean, volumes: boolean): Promise<void> {
    const c = this.store.resolve(nameOrId);
    if (RUNNING.has(c.state) && c.state !== 'restarting') {
      if (!force) {
        throw conflict(`You cannot remove a ${c.state} container ${c.id}. Stop the container before attempting removal or force remove`);
      }
      this.store.update(c.id, { stopped_by_user: 1 });
      this.record(c, 'kill', { signal: '9' });
      await this.runtimeOf(c).kill(c.id, 9, true).catch(() => undefined);
      await this.exitedWithin(c.id, 30_000);
    }
    const fresh = this.store.get(c.id);
    if (fresh) await this.removeFiles(fresh, true, volumes);
  }

  /**
   * Row first, files after: a `wait condition=removed` (docker run --rm) answers at once, and a crash
   * in between leaves a directory without a row, which reconcile() removes.
   */
  private async removeFiles(c: Container, runtimeState = true, anonymousVolumes = c.spec.restart.autoRemove): Promise<void> {
    const sessions = this.execStore?.ofContainer(c.id) ?? [];
    // Networking first, while the record still says what was set up (the row takes its endpoints along).
    if (this.network?.holdsResources(c)) await this.network.release(c);
    // rm -v, and --rm: the anonymous volumes go too, unless another container mounts them (VolumesFrom).
    // Their rows go in the same tick as the container's, so whoever sees it removed sees them removed too.
    const anonymous = anonymousVolumes && this.volumes ? c.mounts.filter((m) => m.type === 'volume' && m.name && this.volumes!.find(m.name)?.anonymous) : [];
    const volumeNames = anonymous.map((m) => m.name!).filter((name) => this.volumes!.users(name).every((user) => user === c.id));
    this.store.remove(c.id);
    const volumesGone = Promise.all(volumeNames.map((name) => this.volumes!.remove(name, []).catch(() => undefined)));
    this.execStore?.removeOfContainer(c.id);
    this.changed(c.id);
    this.record(c, 'destroy');
    await Promise.all([runtimeState ? this.runtimeOf(c).delete(c.id) : undefined, this.unmountRootfs(c.id)]);
    await rm(this.paths.dir(c.id), { recursive: true, force: true });
    // conmon's links to the attach sockets (the container's, its exec sessions'), named by short IDs.
    for (const id of [c.id, ...sessions.map((s) => s.id)]) await rm(this.paths.attachLink(id), { force: true });
    await volumesGone;
    // The exit file stays (it is small, under the run root): a `wait` that sees the container gone reads its code there.
  }

  /** docker update: new limits (and restart policy) recorded, and applied at once to a running container. */
  async update(nameOrId: string, changes: ContainerUpdate): Promise<void> {
    const c = this.store.resolve(nameOrId);
    validateUpdate(changes);
    const LIMITS = ['memory', 'memorySwap', 'memoryReservation', 'nanoCpus', 'cpuShares', 'cpuPeriod', 'cpuQuota', 'cpusetCpus', 'cpusetMems', 'pidsLimit', 'blkioWeight'] as const;
    const resources = { ...c.spec.resources };
    for (const key of LIMITS) if (changes.resources[key] != null) Object.assign(resources, { [key]: changes.resources[key] });
    const next: ContainerSpec = { ...c.spec, resources };
    if (changes.restart?.policy) {
      if (next.restart.autoRemove && changes.restart.policy !== 'no') throw conflict('Restart policy cannot be updated because AutoRemove is enabled for the container');
      next.restart = { ...next.restart, ...changes.restart };
    }
    if (resources.memory && resources.memorySwap && resources.memorySwap > 0 && resources.memorySwap < resources.memory) {
      throw invalid('Minimum memoryswap limit should be larger than memory limit, see usage');
    }
    if (RUNNING.has(c.state) && c.state !== 'restarting') {
      // runc update takes limits only; device rules stay as the container started with them.
      const { devices: _devices, ...limits } = buildResources(resources, next.security.privileged) as { devices?: unknown };
      await this.runtimeOf(c).update(c.id, limits);
    }
    this.store.setSpec(c.id, next);
    this.changed(c.id);
    this.record(c, 'update');
  }

  /**
   * docker commit: the upper dir as a new layer over the container's image, with `o.config` (the
   * container's config in the image config's format, as the API shows it) as its config.
   */
  async commit(nameOrId: string, o: { repo?: string; tag?: string; author?: string; comment?: string; changes: string[]; pause: boolean; config: ImageContainerConfig }): Promise<string> {
    const c = this.store.resolve(nameOrId);
    const image = this.images.store.get(c.image_id);
    if (!image) throw invalid(`the image of container ${c.id} was removed: cannot commit`);
    const base = parseConfig(image);
    const config = applyChanges({ ...o.config, Hostname: '', Domainname: '' }, o.changes);
    const paused = o.pause && c.state === 'running';
    const runtime = this.runtimeOf(c);
    if (paused) await runtime.pause(c.id);
    crashPoint('commit:paused'); // frozen, the DB still says running: reconcile() thaws it
    const work = await tempDir(this.images.tmpDir);
    try {
      const layerFile = join(work.dir, 'layer.tar');
      let diffId: string;
      try {
        await mkdir(this.paths.upper(c.id), { recursive: true }); // a container never started has no upper dir yet
        ({ diffId } = await writeUpperAsLayer(this.paths.upper(c.id), layerFile));
      } finally {
        if (paused) await runtime.resume(c.id).catch(() => undefined);
      }
      const created = now();
      const diffIds = [...(base.rootfs?.diff_ids ?? []), diffId];
      const chains = chainIds(diffIds);
      const { Image: _image, ...imageConfig } = config;
      const newConfig = Buffer.from(JSON.stringify({
        ...base,
        created,
        author: o.author ?? '',
        comment: o.comment ?? '',
        container: c.id,
        config: imageConfig,
        container_config: imageConfig,
        rootfs: { type: 'layers', diff_ids: diffIds },
        history: [...(base.history ?? []), { created, author: o.author || undefined, comment: o.comment || undefined, created_by: commandOf(c.spec).join(' ') }],
      }));
      const id = sha256(newConfig);
      const tags = o.repo ? [referenceString(parseTaggedReference(o.tag ? `${o.repo}:${o.tag}` : o.repo))] : [];
      await this.images.lock.run(async () => {
        const layer = await this.images.layers.import(layerFile, diffId, chains.at(-1)!, chains.at(-2) ?? null);
        const below = this.images.layers.stack(image.top_layer).reduce((n, l) => n + l.size, 0);
        this.images.store.commit({ id, config: newConfig, topLayer: layer.chain_id, parent: image.id, size: below + layer.size }, tags);
      });
      this.record(c, 'commit', { comment: o.comment ?? '', imageID: id, imageRef: tags[0] ?? '' });
      return id;
    } finally {
      await work.done();
    }
  }

  /**
   * docker container prune: every container that is not running, with label and until filters.
   * `sizeOf` measures each one's writable layer before it goes: SpaceReclaimed, as dockerd counts it.
   */
  prune(filter: (c: Container) => boolean, sizeOf: (c: Container) => Promise<number>): Promise<{ removed: string[]; reclaimed: number }> {
    return freeingSpace(() => this.pruneNow(filter, sizeOf));
  }

  private async pruneNow(filter: (c: Container) => boolean, sizeOf: (c: Container) => Promise<number>): Promise<{ removed: string[]; reclaimed: number }> {
    const removed: string[] = [];
    let reclaimed = 0;
    for (const c of this.store.all()) {
      if (RUNNING.has(c.state) || !filter(c)) continue;
      const size = await sizeOf(c).catch(() => 0);
      await this.removeFiles(c);
      removed.push(c.id);
      reclaimed += size;
    }
    return { removed, reclaimed };
  }

  /** Resolves with the exit code once the condition holds; `removed` answers with the last exit code. */
  wait(nameOrId: string, condition: WaitCondition, signal?: AbortSignal): Promise<{ code: number; error?: string }> {
    const start = this.store.resolve(nameOrId);
    const startRun = start.run_id;
    let last = start;
    return new Promise((resolve, reject) => {
      let finished = false;
      const check = async () => {
        if (finished) return;
        const c = this.store.get(start.id);
        if (!c) {
          // Gone (--rm, or removed by another process): its exit code outlives it in the exit file.
          const code = RUNNING.has(last.state) || last.state === 'created' ? await readExitCode(this.paths.exitFile(start.id)) : undefined;
          return done({ code: code ?? last.exit_code, error: last.error || undefined });
        }
        last = c;
        const stopped = !RUNNING.has(c.state);
        if (condition === 'not-running' && stopped) return done({ code: c.exit_code, error: c.error || undefined });
        if (condition === 'next-exit' && stopped && (c.run_id > startRun || RUNNING.has(start.state))) return done({ code: c.exit_code, error: c.error || undefined });
      };
      const onChange = (id: string) => void (id === start.id && check());
      // Other processes (`berth cleanup`) change the DB too: look every so often besides the events.
      const timer = setInterval(() => void check(), 250);
      const stop = () => {
        finished = true;
        clearInterval(timer);
        this.events.off('changed', onChange);
      };
      // The answer goes once the exit is wholly handled: a client's next request (rm, commit) finds
      // the container settled, as after dockerd's wait.
      const done = (result: { code: number; error?: string }) => {
        if (finished) return;
        stop();
        void this.settled(start.id).then(() => resolve(result));
      };
      signal?.addEventListener('abort', () => {
        stop();
        reject(new Error('aborted'));
      });
      this.events.on('changed', onChange);
      void check();
    });
  }

  /**
   * Brings the record in line with what runs: containers that ended while no berth process was there
   * to see it are handled now; directories without a record (a crash mid-create) go.
   */
  async reconcile(): Promise<void> {
    // Directories without a row: a create or a removal that a crash cut short.
    const known = new Set(this.store.all().map((c) => c.id));
    for (const id of await readdir(this.paths.containersDir()).catch(() => [] as string[])) {
      if (known.has(id)) continue;
      process.stderr.write(`berth: removing container directory ${this.paths.dir(id)}: the state DB has no record of it\n`);
      for (const runtime of this.options.runtimes.values()) await runtime.delete(id);
      await this.unmountRootfs(id);
      await rm(this.paths.dir(id), { recursive: true, force: true });
    }
    // Attach socket links whose container is gone.
    for (const name of await readdir(this.paths.socketDir()).catch(() => [] as string[])) {
      const link = join(this.paths.socketDir(), name);
      if (!existsSync(link)) await rm(link, { force: true });
    }
    for (const c of this.store.all()) {
      if (c.state === 'removing') {
        await this.removeFiles(c);
        continue;
      }
      if (!RUNNING.has(c.state)) {
        // A start or an exit cut short: a created runtime container (and its conmon), the rootfs mount,
        // addresses, ports or a namespace may be left.
        if (this.runtimeOf(c).knows(c.id)) await this.deleteRuntimeContainer(c);
        await this.unmountRootfs(c.id);
        if (this.network?.holdsResources(c)) await this.network.release(c);
        continue;
      }
      const state = await this.runtimeOf(c).state(c.id);
      if (state?.status === 'paused' && c.state !== 'paused') {
        // Frozen, but nobody paused it (the DB would say so): a commit or a pause cut short by a crash.
        process.stderr.write(`berth: container ${c.id} was left frozen (paused by a commit or pause cut short): resuming it\n`);
        await this.runtimeOf(c).resume(c.id).catch((err: Error) => process.stderr.write(`berth: resuming ${c.id}: ${err.message}\n`));
        continue;
      }
      if (state?.status === 'running' && c.state === 'paused') {
        this.store.update(c.id, { state: 'running' }); // an unpause cut short between the runtime and the record
        continue;
      }
      if (state?.status === 'created') {
        // Recorded as started, but the engine died before `runc start`: it never ran; it ended.
        await this.deleteRuntimeContainer(c);
        await writeFile(this.paths.exitFile(c.id), '255').catch(() => undefined);
      } else if (state && state.status !== 'stopped') continue;
      if (c.state === 'restarting') this.store.update(c.id, { state: 'running' });
      if (!existsSync(this.paths.exitFile(c.id))) {
        // The runtime lost it (run root reset, host reboot): it ended without an exit code.
        await writeFile(this.paths.exitFile(c.id), '255').catch(() => undefined);
      }
      await this.handleExit(c.id);
    }
  }
}

/** The create request's settings for the network of its NetworkMode (the CLI may name it `default`). */
function primaryEndpoint(spec: ContainerSpec) {
  const endpoints = spec.network.endpoints ?? {};
  const mode = networkMode(spec.network.mode);
  return endpoints[mode.name] ?? endpoints[spec.network.mode] ?? (mode.kind === 'bridge' ? endpoints.default : undefined);
}

/** The spec with what a start before API 1.24 changed (absent: unchanged; null: cleared). */
function withStartChanges(spec: ContainerSpec, changes: StartChanges): ContainerSpec {
  const next: ContainerSpec = { ...spec, ports: { ...spec.ports }, restart: { ...spec.restart }, security: { ...spec.security } };
  if (changes.publish !== undefined) next.ports.publish = changes.publish ?? undefined;
  if (changes.publishAll !== undefined) next.ports.publishAll = changes.publishAll;
  if (changes.restart) next.restart = { ...next.restart, ...changes.restart };
  if (changes.privileged !== undefined) next.security.privileged = changes.privileged;
  if (changes.capAdd !== undefined) next.security.capAdd = changes.capAdd ?? undefined;
  if (changes.capDrop !== undefined) next.security.capDrop = changes.capDrop ?? undefined;
  return next;
}

/** Awaits every promise; rejects with the first failure only after all have settled (nothing left running). */
async function allOrFirstError<A, B>(promises: [Promise<A>, Promise<B> | undefined]): Promise<[A, B | undefined]> {
  const [a, b] = await Promise.allSettled(promises);
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') throw b.reason;
  return [a.value, b.value];
}

/** The exit code conmon wrote; undefined when there is no file. A file still being written is waited for. */
async function readExitCode(file: string): Promise<number | undefined> {
  for (let attempt = 0; attempt < 50; attempt++) {
    let text: string;
    try {
      text = (await readFile(file, 'utf8')).trim();
    } catch {
      return undefined;
    }
    if (text !== '') return Number(text);
    await sleep(10);
  }
  return undefined;
}

export function logLimits(log: LogSpec | undefined): LogLimits {
  const config = log?.options ?? {};
  const maxFile = config['max-file'] ? Number(config['max-file']) : 1;
  if (!Number.isInteger(maxFile) || maxFile < 1) throw invalid(`invalid value for max-file: ${config['max-file']}`);
  return { maxSize: parseSize(config['max-size']), maxFile };
}

/** `10m`, `1g`, `512k`, `1000` in bytes (Docker's log-opt max-size). */
function parseSize(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)b?$/i.exec(value.trim());
  if (!m) throw invalid(`invalid max-size: ${value}`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '']!;
  return Math.floor(Number(m[1]) * unit);
}
