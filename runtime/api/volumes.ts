// The volumes verbs the server may call: options in, results out; no store, path or process leaks out.
import type { Engine } from '../engine.js';
import { volumeFilter, volumePruneFilter, type Filters } from '../filters.js';
import { directorySize } from '../system/df.js';

export interface VolumeCreateOptions {
  name?: string;
  driver?: string;
  options?: Record<string, string>;
  labels?: Record<string, string>;
  /** Created without a name (moby 23+): a plain prune takes it. */
  anonymous?: boolean;
}

export function volumeApi(engine: Engine) {
  const { volumes } = engine;
  const unused = (v: { name: string }) => volumes.users(v.name).length === 0;
  return {
    create: (o: VolumeCreateOptions) => volumes.create(o),
    /** `docker volume ls` with its filters (name, label, dangling, driver). */
    list: (filters: Filters = {}) => volumes.all().filter(volumeFilter(filters, unused)),
    inspect: (name: string) => volumes.get(name),
    /** Refused while a container uses it, unless `force`. */
    remove: (name: string, force = false) => volumes.remove(name, volumes.users(name), force),
    /** The containers (IDs) that mount it. */
    users: (name: string) => volumes.users(volumes.get(name).name),
    /** podman volume rm -f: the containers that mount it go first (forced, their anonymous volumes kept). */
    removeWithUsers: async (name: string) => {
      for (const id of volumes.users(volumes.get(name).name)) await engine.containers.remove(id, true, false);
      await volumes.remove(name, volumes.users(name));
    },
    /**
     * `docker volume prune`: unused volumes, anonymous ones only unless `all`, with the labels asked.
     * SpaceReclaimed is what each one's directory held (a volume with driver options is not mounted
     * while unused: its own dir).
     */
    prune: async (filters: Filters, all: boolean) => {
      const wanted = volumePruneFilter(filters, all);
      const deleted: string[] = [];
      /** Each one's size too (libpod reports them per volume). */
      const removed: { name: string; size: number }[] = [];
      let reclaimed = 0;
      for (const v of volumes.all()) {
        if (!wanted(v) || !unused(v)) continue;
        const size = await directorySize(v.mountpoint);
        await volumes.remove(v.name, []);
        deleted.push(v.name);
        removed.push({ name: v.name, size });
        reclaimed += size;
      }
      return { deleted, removed, reclaimed };
    },
  };
}
