// A container's root filesystem: the overlay of its image's layers and its upper dir, mounted for a run
// or held for a reader or writer from outside (cp, export, a build step's WORKDIR), and what docker cp
// sees mounted over it.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { makeMappedLayer } from '../rootless/mapped-layer.js';
import { addKeepIdUser, userNamespaceOf } from '../rootless/userns-modes.js';
import type { LayerStore } from '../storage/layers.js';
import { mountOverlay, unmountOwn } from '../storage/rootfs.js';
import { resolveUser } from '../oci/user.js';
import type { ExtractOwner } from './archive.js';
import { CpMounts } from './cp-mounts.js';
import type { ContainerVolumes } from './context.js';
import { RUNNING } from './context.js';
import type { ContainerPaths } from './paths.js';
import type { Container, ContainerStore } from './store.js';

/** How long an unmount waits for the copies holding a rootfs. */
const HOLD_WAIT_MS = 10_000;

export class Rootfs {
  /** Mounts in flight (one per container): a start, a copy or a removal waits for the same one. */
  private readonly mounting = new Map<string, Promise<boolean>>();
  /** Mapped layers being made (one per container): a mount, a diff or a removal waits for the same one. */
  private readonly mapping = new Map<string, Promise<void>>();
  private readonly holds = new Map<string, { count: number; released: Promise<void>; release: () => void }>();

  constructor(
    private readonly store: ContainerStore,
    private readonly paths: ContainerPaths,
    private readonly layers: Pick<LayerStore, 'diffDirs'>,
    private readonly volumes: Pick<ContainerVolumes, 'mountpoint' | 'openBindSource' | 'holdForCopy'>,
    /** The exit being settled now for a container, if any: a hold waits for its unmount first. */
    private readonly settling: (id: string) => Promise<unknown> | undefined,
  ) {}

  /**
   * The image's layer dirs under a container, top first (an empty dir for an image without layers); for
   * a rootless container in a user namespace of its own, its mapped layer on top (made at the first call).
   */
  async lowerDirs(c: Container): Promise<string[]> {
    const lower = this.layers.diffDirs(c.top_layer);
    if (lower.length === 0) {
      const empty = `${this.paths.dir(c.id)}/empty`;
      await mkdir(empty, { recursive: true });
      lower.push(empty);
    }
    const ns = this.mappedNamespace(c);
    if (!ns) return lower;
    let making = this.mapping.get(c.id);
    if (!making) {
      making = makeMappedLayer(this.paths.mapped(c.id), lower, ns, (root) => addKeepIdUser(root, c.spec)).finally(() => this.mapping.delete(c.id));
      this.mapping.set(c.id, making);
    }
    await making;
    return [this.paths.mapped(c.id).layer, ...lower];
  }

  /** The image's layer dirs under a container as inspect shows them: its mapped layer on top where it has one (made or to be made). */
  shownLowerDirs(c: Container): string[] {
    const lower = this.layers.diffDirs(c.top_layer);
    return this.mappedNamespace(c) ? [this.paths.mapped(c.id).layer, ...lower] : lower;
  }

  /** The user namespace a container's mapped layer is shifted into; none for one whose rootfs an engine before mapped layers chowned in place. */
  private mappedNamespace(c: Container) {
    const ns = userNamespaceOf(c.spec);
    return ns && !existsSync(this.paths.legacyMapped(c.id)) ? ns : undefined;
  }

  /** Mounts the container's rootfs; returns whether it was mounted already. */
  mount(c: Container): Promise<boolean> {
    const inFlight = this.mounting.get(c.id);
    if (inFlight) return inFlight.then(() => true);
    const mounting = (async () => mountOverlay(await this.lowerDirs(c), this.paths.upper(c.id), this.paths.work(c.id), this.paths.merged(c.id)))().finally(() =>
      this.mounting.delete(c.id),
    );
    this.mounting.set(c.id, mounting);
    return mounting;
  }

  /**
   * Mounts the rootfs for a reader or writer from outside: an exit being settled unmounts first, and an
   * unmount waits for the hold (up to a bound) so a copy never sees the mount go under it. Pair with release.
   */
  async hold(c: Container): Promise<boolean> {
    await this.settling(c.id)?.catch(() => undefined);
    let hold = this.holds.get(c.id);
    if (!hold) {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      hold = { count: 0, released, release };
      this.holds.set(c.id, hold);
    }
    hold.count++;
    try {
      return await this.mount(c);
    } catch (err) {
      this.dropHold(c.id);
      throw err;
    }
  }

  private dropHold(id: string): void {
    const hold = this.holds.get(id);
    if (!hold || --hold.count > 0) return;
    this.holds.delete(id);
    hold.release();
  }

  /** Releases a rootfs held for a copy, unmounting it unless the container is running off it. */
  async release(c: Container, wasMounted: boolean): Promise<void> {
    this.dropHold(c.id);
    const now = this.store.get(c.id);
    if (!wasMounted && (!now || !RUNNING.has(now.state))) await this.unmount(c.id);
  }

  /**
   * docker cp: the rootfs held (hold) and the volumes with driver options mounted, as dockerd mounts them
   * for a copy (a never-started container would show an empty volume dir otherwise). Returns the release.
   */
  async holdForCopy(c: Container): Promise<() => Promise<void>> {
    const wasMounted = await this.hold(c);
    let volumes: () => Promise<void>;
    try {
      volumes = await this.volumes.holdForCopy(c);
    } catch (err) {
      await this.release(c, wasMounted);
      throw err;
    }
    return async () => {
      await volumes();
      await this.release(c, wasMounted);
    };
  }

  /** Unmounts the container's rootfs (and its /dev/shm), after a mount still in flight (one made ahead at create) and the holds. */
  async unmount(id: string): Promise<void> {
    await this.mounting.get(id)?.catch(() => undefined);
    await this.mapping.get(id)?.catch(() => undefined);
    const held = this.holds.get(id)?.released;
    // Bounded: a client that stops reading an export must not keep a removal waiting for ever.
    if (held) await Promise.race([held, new Promise((resolve) => setTimeout(resolve, HOLD_WAIT_MS).unref())]);
    // The mapped layer's shifting mount too: an engine killed while it made one left it mounted.
    await Promise.all([unmountOwn(this.paths.merged(id)), unmountOwn(this.paths.shm(id)), unmountOwn(this.paths.mapped(id).mount)]);
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
    return CpMounts.of({
      mounts: c.mounts,
      volumePath: this.volumes.mountpoint,
      openBind: (source) => this.volumes.openBindSource(source),
      etcDir: this.paths.bundle(etcOwner),
      readonlyRootfs: c.spec.security.readonlyRootfs,
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
}
