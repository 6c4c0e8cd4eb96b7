// The engine: state DB, stores and services for one root. The API server holds one of these.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { openDatabase, type DB } from './state/db.js';
import { LayerStore } from './storage/layers.js';
import { ImageStore } from './images/store.js';
import { ImageService } from './images/service.js';
import { hostFacts, type HostFacts } from './system/host.js';

export interface EngineOptions {
  root: string; // persistent state: DB, blobs, layers
  runRoot: string; // state that dies with the machine: sockets, pid files
  defaultRuntime?: string;
}

export class Engine {
  private constructor(
    readonly options: EngineOptions,
    readonly id: string,
    readonly db: DB,
    readonly images: ImageService,
    readonly host: HostFacts,
  ) {}

  static async open(options: EngineOptions): Promise<Engine> {
    await mkdir(options.root, { recursive: true, mode: 0o700 });
    await mkdir(options.runRoot, { recursive: true, mode: 0o700 });
    // Staging for loads and layer imports: whatever is here is the leftover of a crash.
    const tmpDir = join(options.root, 'tmp');
    await rm(tmpDir, { recursive: true, force: true });
    await mkdir(tmpDir);
    const db = openDatabase(join(options.root, 'berth.db'));
    const layers = new LayerStore(db, options.root, tmpDir);
    await layers.init();
    const images = new ImageService(new ImageStore(db), layers, tmpDir);
    // Reconcile: layers that no image uses (a load killed before its commit) and files no row owns.
    await images.lock.run(() => layers.gc());
    const host = await hostFacts(options.defaultRuntime);
    return new Engine(options, await engineId(options.root), db, images, host);
  }

  close(): void {
    if (this.db.open) {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.db.close();
    }
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
