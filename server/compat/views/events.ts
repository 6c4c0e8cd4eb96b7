// An engine event in dockerd's JSON: Type/Action/Actor/scope/time/timeNano, plus the legacy
// status/id/from fields on container and image events.
import type { EngineEvent } from '../../../runtime/api.js';

export function eventMessage(e: EngineEvent) {
  const legacy =
    e.type === 'container'
      ? { status: e.action, id: e.actorId, from: e.attributes.image ?? '' }
      : e.type === 'image'
        ? { status: e.action, id: e.actorId }
        : {};
  return {
    ...legacy,
    Type: e.type,
    Action: e.action,
    Actor: { ID: e.actorId, Attributes: e.attributes },
    scope: 'local',
    time: Number(e.timeNano / 1_000_000_000n),
    timeNano: Number(e.timeNano), // JSON number, as dockerd writes it (precision beyond 2^53 is lost there too)
  };
}
