// The system verbs the server may call: options in, results out; no store, path or process leaks out.
import type { Engine } from '../engine.js';
import { invalid } from '../errors.js';
import { pruneFilter } from '../containers/list.js';
import type { Filters } from '../filters.js';
import { DISK_USAGE_TYPES, type DiskUsageType } from '../system/df.js';
import { liveDetails, readStaticDetails } from '../system/details.js';
import { systemPrune, type SystemPruneOptions } from '../system/prune.js';
import { networkApi } from './networks.js';
import { volumeApi } from './volumes.js';
import { DEFAULT_REGISTRY_OPTIONS } from '../registry/endpoints.js';

export function systemApi(engine: Engine) {
  const diskUsage = (types: readonly string[] = []) => {
    for (const t of types) if (!(DISK_USAGE_TYPES as readonly string[]).includes(t)) throw invalid(`unknown object type: ${t}`);
    return engine.diskUsage.report(types as DiskUsageType[]);
  };
  return {
    /** The engine's ID (`/info` ID), stable across restarts of one root. */
    id: engine.id,
    /** Where the engine keeps its state (`DockerRootDir`). */
    root: engine.options.root,
    /** Where its state that dies with the machine is (sockets, pid files). */
    runRoot: engine.options.runRoot,
    /** The host and runtime facts `/version` and `/info` report, read once at start. */
    host: engine.host,
    /** Packages and full versions of conmon and the runtime, the distribution, cgroup controllers (read once). */
    details: () => readStaticDetails(engine.host, engine.host.conmonPath),
    /** Memory, swap, uptime, CPU use and the root's file system, now. */
    liveDetails: () => liveDetails(engine.options.root),
    /** registries.conf as the engine read it at start: unqualified-search registries and [[registry]] entries. */
    registries: () => (engine.options.registry ?? DEFAULT_REGISTRY_OPTIONS).conf,
    /** How many containers are in each state, and how many images there are. */
    counts: () => ({ containers: engine.containers.store.count(), images: engine.images.store.count() }),
    /** `docker system df`: the kinds asked (names as dockerd takes them; unknown ones refused), all when none. */
    diskUsage,
    /** `podman system df`: all kinds, each image with its stored (fully qualified) names. */
    libpodDiskUsage: async () => {
      const usage = await diskUsage();
      return { ...usage, images: usage.images?.map((i) => ({ ...i, names: engine.images.store.tagsOf(i.image.id) })) };
    },
    /** `podman system prune`: containers, networks, volumes when asked, images; what each freed. */
    prune: (o: SystemPruneOptions) => {
      const volumes = volumeApi(engine);
      const networks = networkApi(engine);
      return systemPrune(
        {
          containers: async (filters: Filters) => {
            const sizes = new Map<string, number>();
            const sizeOf = async (c: Parameters<typeof engine.diskUsage.containerSize>[0]) => {
              const { sizeRw } = await engine.diskUsage.containerSize(c);
              sizes.set(c.id, sizeRw);
              return sizeRw;
            };
            const { removed } = await engine.containers.prune(pruneFilter(filters), sizeOf);
            return removed.map((id) => ({ id, size: sizes.get(id) ?? 0 }));
          },
          networks: (filters) => networks.prune(filters),
          volumes: async (filters) => (await volumes.prune(filters, true)).removed.map((v) => ({ id: v.name, size: v.size })),
          images: async (all, filters) => {
            const sizes = new Map(engine.images.store.all().map((i) => [i.id, i.size]));
            const { records } = await engine.images.prune({ dangling: !all, label: filters.label, until: filters.until?.[0] });
            return records.flatMap((r) => ('deleted' in r && sizes.has(r.deleted) ? [{ id: r.deleted, size: sizes.get(r.deleted)! }] : []));
          },
        },
        o,
      );
    },
  };
}
