// The engine: state DB, stores and services for one root. The API server holds one of these.
import { PodService } from './pods/service.js';
import { PodStore } from './pods/store.js';
import { access, constants, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase, type DB } from './state/db.js';
import { LayerStore } from './storage/layers.js';
import { ImageStore } from './images/store.js';
import { ImageService } from './images/service.js';
import { hostFacts, type HostFacts } from './system/host.js';
import { existsSync } from 'node:fs';
import { OciRuntime } from './oci/runtime.js';
import { ContainerService } from './containers/service.js';
import { ContainerStore } from './containers/store.js';
import { ContainerPaths } from './containers/paths.js';
import { EventLog } from './events/log.js';
import type { RegistryOptions } from './registry/endpoints.js';
import { BlobIndex } from './registry/blobs.js';
import { ExecStore } from './exec/store.js';
import { ExecService } from './exec/service.js';
import { HealthMonitor } from './containers/health.js';
import { VolumeService } from './volumes/service.js';
import { NetworkStore } from './network/store.js';
import { NetworkService } from './network/service.js';
import { Netavark } from './network/netavark.js';
import { Attachments } from './network/attachments.js';
import { DiskUsage } from './system/df.js';
import { Builder } from './build/builder.js';
import { DEFAULT_REGISTRY_OPTIONS } from './registry/endpoints.js';
import { SecretStore } from './secrets/store.js';
import { ownHardLimits } from './oci/own-limits.js';

/** Debian's tini-static: a static init that works in any image, run as PID 1 for `--init`. */
const INIT_BINARY = '/usr/bin/tini-static';
/** The default root: its networks take the pools' first subnets; other roots (tests) start elsewhere. */
export const DEFAULT_ROOT = '/var/lib/berth';
/** Docker's default RLIMIT_NOFILE for containers, capped by the engine's own (a runtime cannot raise it). */
const DEFAULT_NOFILE = 1048576;

export interface EngineOptions {
  root: string; // persistent state: DB, blobs, layers
  runRoot: string; // state that dies with the machine: sockets, pid files
  defaultRuntime?: string;
  /** argv that runs `berth cleanup` (the container ID is appended): conmon's exit command. */
  exitCommand: string[];
  /**
   * Reconcile at open: empty the staging dir, collect orphan layers, settle containers that ended
   * unseen. The API server does; `berth cleanup`, which runs beside it, must not.
   */
  reconcile?: boolean;
  /** Insecure registries and certs.d for pulls and pushes. */
  registry?: RegistryOptions;
  /**
   * Start even when the state DB is missing or empty over a root that holds layers or containers: the
   * start-up collection then deletes what no record owns. Without it such a start is refused.
   */
  acceptEmptyDb?: boolean;
  /** Bytes a layer, an import or a build context may expand to (`--max-layer-size`). */
  maxLayerSize?: number;
}

/** What a root holds that only its DB can vouch for: an empty DB over these has lost its state. */
const STATEFUL_DIRS = ['layers', 'blobs/sha256', 'containers', 'volumes'];

export class Engine {
  private constructor(
    readonly options: EngineOptions,
    readonly id: string,
    readonly db: DB,
    readonly events: EventLog,
    readonly images: ImageService,
    readonly volumes: VolumeService,
    readonly networks: NetworkService,
    readonly containers: ContainerService,
    readonly execs: ExecService,
    /** Healthcheck probes: the API server starts them (`health.start()`), `berth cleanup` does not. */
    readonly health: HealthMonitor,
    /** Builds from Dockerfiles (POST /build; any build endpoint uses the same builder). */
    readonly builder: Builder,
    /** `docker system df`. */
    readonly diskUsage: DiskUsage,
    readonly host: HostFacts,
    /** Pods (libpod): groups of containers around an infra container. */
    readonly pods: PodService,
  ) {}

  static async open(options: EngineOptions): Promise<Engine> {
    // The host's facts run processes (`runc --version`…): they come while the root is prepared.
    const hostFound = hostFacts(options.defaultRuntime);
    hostFound.catch(() => undefined); // awaited below; a failure before then must not go unhandled
    await makeWritableDir(options.root, 'root');
    await makeWritableDir(options.runRoot, 'run root');
    const reconcile = options.reconcile ?? true;
    const dbPath = join(options.root, 'berth.db');
    if (!options.acceptEmptyDb) await refuseLostState(options.root, dbPath);
    // Staging for loads and layer imports: whatever is here is the leftover of a crash.
    const tmpDir = join(options.root, 'tmp');
    if (reconcile) {
      await Builder.releaseMounts(tmpDir); // a build's overlays, if it was cut off
      await rm(tmpDir, { recursive: true, force: true });
    }
    await mkdir(tmpDir, { recursive: true });
    const db = openDatabase(dbPath, { reserveDir: options.root });
    const layers = new LayerStore(db, options.root, tmpDir, options.maxLayerSize);
    await layers.init();
    const host = await hostFound;
    const runtimes = new Map(host.runtimes.map((r) => [r.name, new OciRuntime(r.path, join(options.runRoot, r.name))]));
    if (!runtimes.has(host.defaultRuntime)) {
      db.close();
      throw new Error(`default runtime ${host.defaultRuntime} not found on PATH (found: ${[...runtimes.keys()].join(', ') || 'none'})`);
    }
    // Each service gets what it uses when it is made, in this order: nothing is wired afterwards.
    const events = new EventLog(db);
    const images = new ImageService(new ImageStore(db), layers, tmpDir, events, new BlobIndex(db));
    const containerStore = new ContainerStore(db);
    const volumes = new VolumeService(db, options.root, events, options.runRoot, containerStore);
    const networks = new NetworkService(new NetworkStore(db), events, options.root, options.root === DEFAULT_ROOT);
    const netavark = Netavark.find(join(options.runRoot, 'netavark'), join(options.runRoot, 'netns'));
    const network = new Attachments(networks.store, networks, containerStore, netavark);
    const execStore = new ExecStore(db);
    const containers = new ContainerService(
      { store: containerStore, paths: new ContainerPaths(options.root, options.runRoot), images, volumes, network, execs: execStore, eventLog: events },
      {
        runtimes,
        defaultRuntime: host.defaultRuntime,
        exitCommand: options.exitCommand,
        initBinary: existsSync(INIT_BINARY) ? INIT_BINARY : undefined,
        nofileLimit: nofileLimit(),
        secrets: new SecretStore(db, options.root),
      },
    );
    const execs = new ExecService(execStore, containers);
    const health = new HealthMonitor(containers, execs);
    const builder = new Builder(images, containers, db, {
      registry: options.registry ?? DEFAULT_REGISTRY_OPTIONS,
      platform: { os: 'linux', architecture: host.goArch },
    });
    const pods = new PodService(new PodStore(db), containers, images, events);
    const diskUsage = new DiskUsage(images, containers, volumes, () => builder.cacheRecords());
    if (reconcile) await networks.init();
    await containers.init();
    if (reconcile) {
      await volumes.releaseStaging(); // first: reconciling may restart containers, which stage afresh
      await containers.reconcile();
      await pods.reconcile(); // after containers: it looks at their records
      await volumes.reconcile(); // option volumes left mounted with no running container
      // Layers that nothing uses (a load killed before its commit) and files no row owns.
      await images.lock.run(() => layers.gc());
      await builder.removeLeftovers();
    }
    return new Engine(options, await engineId(options.root), db, events, images, volumes, networks, containers, execs, health, builder, diskUsage, host, pods);
  }

  close(): void {
    if (!this.db.open) return;
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // A full disk: the WAL stays, and the next open replays it.
    }
    this.db.close();
  }
}

/**
 * Makes the root (or run root) and checks that it can be written: one on a read-only filesystem fails
 * here with a message that says so (a recursive mkdir there reports ENOENT, and later writes EROFS).
 */
async function makeWritableDir(dir: string, what: string): Promise<void> {
  const made = await mkdir(dir, { recursive: true, mode: 0o700 }).then(
    () => undefined,
    (err: Error) => err,
  );
  let existing = dir;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  try {
    await access(existing, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EROFS') throw new Error(`the ${what} ${dir} is on a read-only filesystem: berth keeps its state there and must be able to write it`);
    throw new Error(`the ${what} ${dir} is not writable: ${(err as Error).message}`);
  }
  if (made) throw new Error(`cannot make the ${what} ${dir}: ${made.message}`);
}

/**
 * A DB that is missing or has no schema over a root with layers, blobs, containers or volumes: the
 * state was lost (a deleted or truncated berth.db), and starting would collect everything on disk as
 * ownerless. Refused, unless the caller accepts it (EngineOptions.acceptEmptyDb).
 */
async function refuseLostState(root: string, dbPath: string): Promise<void> {
  const held: string[] = [];
  for (const dir of STATEFUL_DIRS) {
    if ((await readdir(join(root, dir)).catch(() => [])).length > 0) held.push(`${dir}/`);
  }
  if (held.length === 0 || !dbIsEmpty(dbPath)) return;
  throw new Error(
    `the state DB ${dbPath} is missing or empty, but the root ${root} holds ${held.join(', ')} of an earlier state: ` +
      `starting would delete them. Restore the DB file, or start with --accept-empty-db (BERTH_ACCEPT_EMPTY_DB=1) to start empty and discard them.`,
  );
}

/** Whether the DB file is absent or has no schema (user_version 0). Nothing is created or written. */
function dbIsEmpty(dbPath: string): boolean {
  if (!existsSync(dbPath)) return true;
  let db: DB | undefined;
  try {
    db = new Database(dbPath, { fileMustExist: true });
    return db.pragma('user_version', { simple: true }) === 0;
  } catch (err) {
    throw new Error(`state DB ${dbPath}: ${(err as Error).message}`);
  } finally {
    db?.close();
  }
}

/** A stable identity for this engine's root, as dockerd's /info ID. */
async function engineId(root: string): Promise<string> {
  const file = join(root, 'engine-id');
  const existing = await readFile(file, 'utf8').catch(() => '');
  if (existing.trim()) return existing.trim();
  const id = randomBytes(32).toString('hex');
  await writeFile(file, id + '\n');
  return id;
}

function nofileLimit(): number {
  const hard = ownHardLimits().get('RLIMIT_NOFILE');
  return hard === undefined ? DEFAULT_NOFILE : Math.min(DEFAULT_NOFILE, hard);
}
