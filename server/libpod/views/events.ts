// An event as podman's service writes it: Docker's message shape (podman's client decodes it as one)
// with libpod's status names. `id` and `from` only when set (Go's omitempty: a pull or a volume event
// has no ID, and only container events name an image); HealthStatus beside a health_status.
import type { LibpodEvent } from '../../../runtime/api.js';

export function libpodEventMessage(e: LibpodEvent) {
  const image = e.attributes.image;
  return {
    status: e.action,
    ...(e.actorId ? { id: e.actorId } : {}),
    ...(image ? { from: image } : {}),
    Type: e.type,
    Action: e.action,
    Actor: { ID: e.actorId, Attributes: e.attributes },
    scope: 'local',
    time: Number(e.timeNano / 1_000_000_000n),
    timeNano: Number(e.timeNano),
    ...(e.healthStatus ? { HealthStatus: e.healthStatus } : {}),
  };
}
