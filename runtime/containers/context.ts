// What the container verbs (create.ts, start.ts, stop.ts, exit.ts, remove.ts, reconcile.ts, update.ts)
// work with: the container records and paths, the narrow parts of the other services they use, and the
// few verbs they call on each other (through here, so that no verb module imports another).
import type { EventEmitter } from 'node:events';
import type { EventLog } from '../events/log.js';
import type { ExecStore } from '../exec/store.js';
import type { ImageService } from '../images/service.js';
import type { Attachments } from '../network/attachments.js';
import type { OciRuntime } from '../oci/runtime.js';
import type { VolumeService } from '../volumes/service.js';
import type { SecretSource } from '../secrets/container.js';
import type { ContainerPaths } from './paths.js';
import type { Rootfs } from './rootfs.js';
import type { Container, ContainerStore } from './store.js';

export interface ContainerServiceOptions {
  runtimes: Map<string, OciRuntime>;
  defaultRuntime: string;
  /** argv of `berth cleanup` without the container ID: conmon runs it when a container exits. */
  exitCommand: string[];
  initBinary?: string;
  nofileLimit: number;
  /** Where a container's secrets (libpod) are read at start; without it a container with secrets does not start. */
  secrets?: SecretSource;
}

/** The images a container is made from and committed to. */
export type ContainerImages = Pick<ImageService, 'store' | 'layers' | 'tmpDir' | 'lock'>;
/** Volumes as containers use them: made at create, activated at start, released at exit, removed with `rm -v`. */
export type ContainerVolumes = Pick<
  VolumeService,
  'find' | 'users' | 'remove' | 'forMount' | 'activate' | 'unstage' | 'release' | 'mountpoint' | 'openBindSource' | 'holdForCopy' | 'claimChown'
>;
/** Exec sessions, whose records and attach links go with their container. */
export type ContainerExecs = Pick<ExecStore, 'ofContainer' | 'removeOfContainer'>;
/** Networks: endpoints planned at create, set up at start, released at exit. */
export type ContainerNetwork = Pick<Attachments, 'store' | 'plan' | 'addPlanned' | 'replacePlanned' | 'prepare' | 'setup' | 'release' | 'holdsResources'>;

/** What a container service is built from, in the engine's order. */
export interface ContainerDeps {
  store: ContainerStore;
  paths: ContainerPaths;
  images: ContainerImages;
  volumes: ContainerVolumes;
  network: Attachments;
  execs: ContainerExecs;
  eventLog: EventLog;
}

export interface ContainerContext {
  readonly store: ContainerStore;
  readonly paths: ContainerPaths;
  readonly images: ContainerImages;
  readonly volumes: ContainerVolumes;
  readonly network: ContainerNetwork;
  readonly execs: ContainerExecs;
  readonly options: ContainerServiceOptions;
  readonly rootfs: Rootfs;
  /** 'changed' (id) whenever this process changes a container's state. */
  readonly events: EventEmitter;
  /** Exits being settled in this process: a start waits for the last run's cleanup. */
  readonly exiting: Map<string, Promise<Container | undefined>>;
  runtimeOf(c: Container): OciRuntime;
  /** Tells this process's listeners (wait, health, logs) that a container's state changed. */
  changed(id: string): void;
  /** Records a container event (the row as it is now, or as given when it is gone). */
  record(c: Container, action: string, extra?: Record<string, string>): void;
  // Verbs that other verbs call.
  run(c: Container): Promise<void>;
  handleExit(id: string): Promise<void>;
  exitedWithin(id: string, ms: number): Promise<boolean>;
  settled(id: string): Promise<void>;
  removeFiles(c: Container, runtimeState?: boolean, anonymousVolumes?: boolean): Promise<void>;
  deleteRuntimeContainer(c: Container): Promise<void>;
}

/** The states in which a container's process exists (or is about to again). */
export const RUNNING = new Set(['running', 'paused', 'restarting']);
export const now = () => new Date().toISOString();
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
