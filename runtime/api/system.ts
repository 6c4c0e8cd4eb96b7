// The system verbs the server may call: options in, results out; no store, path or process leaks out.
import type { Engine } from '../engine.js';
import { invalid } from '../errors.js';
import { DISK_USAGE_TYPES, type DiskUsageType } from '../system/df.js';

export function systemApi(engine: Engine) {
  return {
    /** The engine's ID (`/info` ID), stable across restarts of one root. */
    id: engine.id,
    /** Where the engine keeps its state (`DockerRootDir`). */
    root: engine.options.root,
    /** Where its state that dies with the machine is (sockets, pid files). */
    runRoot: engine.options.runRoot,
    /** The host and runtime facts `/version` and `/info` report, read once at start. */
    host: engine.host,
    /** How many containers are in each state, and how many images there are. */
    counts: () => ({ containers: engine.containers.store.count(), images: engine.images.store.count() }),
    /** `docker system df`: the kinds asked (names as dockerd takes them; unknown ones refused), all when none. */
    diskUsage: (types: readonly string[] = []) => {
      for (const t of types) if (!(DISK_USAGE_TYPES as readonly string[]).includes(t)) throw invalid(`unknown object type: ${t}`);
      return engine.diskUsage.report(types as DiskUsageType[]);
    },
  };
}
