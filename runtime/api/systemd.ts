// The systemd verbs (libpod's generate systemd): units for a container or a pod, from their records.
import type { Engine } from '../engine.js';
import type { Container } from '../containers/store.js';
import { invalid, notFound } from '../errors.js';
import { containerUnits, podUnits, UnitError, type SystemdOptions, type UnitContainer, type UnitContext } from '../systemd/generate.js';

export type { SystemdOptions } from '../systemd/generate.js';

const strings = (v: unknown): string[] | undefined => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined);

function unitContainer(c: Container): UnitContainer {
  // The client's argv as podman recorded it in the create body (libpod only: a Docker-made container has none).
  return { id: c.id, name: c.name, createCommand: strings(c.echo.libpod?.containerCreateCommand), stopTimeout: c.spec.process.stopTimeout ?? 10 };
}

export function systemdApi(engine: Engine) {
  const { containers, pods } = engine;
  const findContainer = (ref: string): Container | undefined => {
    try {
      return containers.store.resolve(ref);
    } catch {
      return undefined;
    }
  };
  return {
    /**
     * Units by name (no `.service`) for the container or pod `ref` (a pod first, as podman looks),
     * driving the engine at `ctx.url`. Throws `invalid` with podman's words for what podman refuses,
     * `notFound` for an unknown ref.
     */
    generate(ref: string, o: SystemdOptions, ctx: UnitContext): Record<string, string> {
      try {
        const pod = pods.store.find(ref);
        if (pod) {
          const members = pods.members(pod).map(unitContainer);
          const infra = members.find((m) => m.id === pod.infraId);
          return podUnits({ id: pod.id, name: pod.name, createCommand: strings(pod.echo.createCommand), infra, members }, o, ctx);
        }
        const c = findContainer(ref);
        if (!c)
          throw notFound(
            `${ref} does not refer to a container or pod: no pod with name or ID ${ref} found: no such pod: no container with name or ID "${ref}" found: no such container`,
          );
        return containerUnits(unitContainer(c), o, ctx);
      } catch (err) {
        if (err instanceof UnitError) throw invalid(err.message);
        throw err;
      }
    },
  };
}
