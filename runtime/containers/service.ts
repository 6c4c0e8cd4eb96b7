// The container service: the one object the engine and the API hold for containers. Podman's shape:
// SQLite records what exists, conmon + the OCI runtime run it, exit files and `runtime state` say what
// runs. Each verb lives in its own module (create, start, stop, exit, remove, reconcile, update,
// rootfs), working on the narrow context (context.ts) this service builds once.
import { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { invalid } from '../errors.js';
import type { Attachments } from '../network/attachments.js';
import type { OciRuntime } from '../oci/runtime.js';
import type { ExtractOwner } from './archive.js';
import { commit, type CommitOptions } from './commit.js';
import type { ContainerContext, ContainerDeps, ContainerServiceOptions } from './context.js';
import type { CpMounts } from './cp-mounts.js';
import { create } from './create.js';
import { exitedWithin, handleExit, settled, wait, watchExits, type WaitCondition } from './exit.js';
import type { ContainerPaths } from './paths.js';
import { reconcile } from './reconcile.js';
import { prune, remove, removeFiles } from './remove.js';
import { Rootfs } from './rootfs.js';
import { deleteRuntimeContainer, init, run, start } from './start.js';
import { kill, pause, restart, stop, unpause } from './stop.js';
import type { ContainerSpec, ContainerUpdate, StartChanges } from './spec.js';
import type { ClientEcho, Container, ContainerStore } from './store.js';
import { removeLink, rename, update } from './update.js';

export type { ContainerServiceOptions } from './context.js';
export type { WaitCondition } from './exit.js';

export class ContainerService {
  /** 'changed' (id) whenever this process changes a container's state. */
  readonly events = new EventEmitter();
  readonly store: ContainerStore;
  readonly paths: ContainerPaths;
  /** Networks: endpoints, addresses and ports, netavark setup and teardown. */
  readonly network: Attachments;
  private readonly rootfs: Rootfs;
  private readonly ctx: ContainerContext;

  constructor(
    deps: ContainerDeps,
    private readonly options: ContainerServiceOptions,
  ) {
    this.events.setMaxListeners(0);
    const { store, paths, images, volumes, network, execs, eventLog } = deps;
    this.store = store;
    this.paths = paths;
    this.network = network;
    const exiting = new Map<string, Promise<Container | undefined>>();
    this.rootfs = new Rootfs(store, paths, images.layers, volumes, (id) => exiting.get(id));
    const ctx: ContainerContext = {
      store,
      paths,
      images,
      volumes,
      network,
      execs,
      options,
      exiting,
      rootfs: this.rootfs,
      events: this.events,
      runtimeOf: (c) => this.runtimeOf(c),
      changed: (id) => void this.events.emit('changed', id),
      // Actor attributes as dockerd gives them: the container's labels, image and name (and a pod
      // member's pod, which libpod reports and the Docker view drops).
      record: (c, action, extra = {}) =>
        eventLog.record('container', action, c.id, {
          ...c.spec.labels,
          image: c.image_name,
          name: c.name,
          ...(c.spec.pod ? { podId: c.spec.pod } : {}),
          ...extra,
        }),
      run: (c) => run(ctx, c),
      handleExit: (id) => handleExit(ctx, id),
      exitedWithin: (id, ms) => exitedWithin(ctx, id, ms),
      settled: (id) => settled(ctx, id),
      removeFiles: (c, runtimeState, anonymousVolumes) => removeFiles(ctx, c, runtimeState, anonymousVolumes),
      deleteRuntimeContainer: (c) => deleteRuntimeContainer(ctx, c),
    };
    this.ctx = ctx;
  }

  async init(): Promise<void> {
    for (const dir of [this.paths.exitDir(), this.paths.socketDir()]) await mkdir(dir, { recursive: true });
    for (const runtime of this.options.runtimes.values()) await mkdir(runtime.stateRoot, { recursive: true });
  }

  runtimeOf(c: Container): OciRuntime {
    const name = c.spec.runtime || this.options.defaultRuntime;
    const runtime = this.options.runtimes.get(name);
    if (!runtime) throw invalid(`unknown or invalid runtime name: ${name}`);
    return runtime;
  }

  /** Records a container event (the row as it is now, or as given when it is gone). */
  record(c: Container, action: string, extra: Record<string, string> = {}): void {
    this.ctx.record(c, action, extra);
  }

  create = (spec: ContainerSpec, echo: ClientEcho, name?: string, o?: { singleCharName?: boolean }) => create(this.ctx, spec, echo, name, o);
  start = (nameOrId: string, changes?: StartChanges) => start(this.ctx, nameOrId, changes);
  initialize = (nameOrId: string) => init(this.ctx, nameOrId);
  kill = (nameOrId: string, signal?: string) => kill(this.ctx, nameOrId, signal);
  stop = (nameOrId: string, timeout?: number, signal?: string) => stop(this.ctx, nameOrId, timeout, signal);
  restart = (nameOrId: string, timeout?: number, signal?: string) => restart(this.ctx, nameOrId, timeout, signal);
  pause = (nameOrId: string) => pause(this.ctx, nameOrId);
  unpause = (nameOrId: string) => unpause(this.ctx, nameOrId);
  wait = (nameOrId: string, condition: WaitCondition, signal?: AbortSignal) => wait(this.ctx, nameOrId, condition, signal);
  remove = (nameOrId: string, force: boolean, volumes = false) => remove(this.ctx, nameOrId, force, volumes);
  prune = (filter: (c: Container) => boolean, sizeOf: (c: Container) => Promise<number>) => prune(this.ctx, filter, sizeOf);
  update = (nameOrId: string, changes: ContainerUpdate) => update(this.ctx, nameOrId, changes);
  rename = (nameOrId: string, newName: string) => rename(this.ctx, nameOrId, newName);
  removeLink = (name: string) => removeLink(this.ctx, name);
  handleExit = (id: string) => handleExit(this.ctx, id);
  watchExits = () => watchExits(this.ctx);
  reconcile = () => reconcile(this.ctx);

  // The rootfs, for readers and writers from outside (cp, export, diff, a build step).
  lowerDirs = (c: Container) => this.rootfs.lowerDirs(c);
  shownLowerDirs = (c: Container) => this.rootfs.shownLowerDirs(c);
  holdRootfs = (c: Container) => this.rootfs.hold(c);
  releaseRootfs = (c: Container, wasMounted: boolean) => this.rootfs.release(c, wasMounted);
  holdForCopy = (c: Container) => this.rootfs.holdForCopy(c);
  cpMounts = (c: Container): CpMounts => this.rootfs.cpMounts(c);
  cpOwner = (c: Container, copyUidGid: boolean): Promise<ExtractOwner> => this.rootfs.cpOwner(c, copyUidGid);

  commit = (nameOrId: string, o: CommitOptions) => commit(this.ctx, nameOrId, o);
}

/** A container's log bounds (its json-file max-size and max-file options). */
