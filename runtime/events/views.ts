// One event log, two views. Rows are recorded with Docker's names (what dockerd's clients filter on);
// a few are libpod's only (a container's `init` and `cleanup`, pod and system events), which the
// Docker view hides. The libpod view renames and reshapes each event as podman's service reports it,
// and drops what podman 4.3 has no name for: its client cannot decode an unknown status or type
// (it dereferences a nil event and panics), so nothing outside its lists may reach it.
import { parseTaggedReference, referenceString } from '../images/reference.js';
import type { EngineEvent } from './log.js';

/** Recorded for the libpod view only: dockerd has no such events. */
const LIBPOD_ONLY_ACTIONS: Record<string, ReadonlySet<string>> = { container: new Set(['init', 'cleanup', 'restart-begin']) };
const LIBPOD_ONLY_TYPES: ReadonlySet<string> = new Set(['pod', 'system']);

/** The Docker API's view: every event but libpod's own. */
export function dockerView(e: EngineEvent): EngineEvent | undefined {
  if (LIBPOD_ONLY_TYPES.has(e.type) || LIBPOD_ONLY_ACTIONS[e.type]?.has(e.action)) return undefined;
  if (e.type === 'container' && e.attributes.podId !== undefined) {
    const { podId: _pod, ...attributes } = e.attributes;
    return { ...e, attributes };
  }
  return e;
}

/** An event as libpod reports it: its status names, IDs and attributes; the health status of a `health_status`. */
export interface LibpodEvent extends EngineEvent {
  healthStatus?: string;
}

/** Docker's container actions → libpod's statuses (podman 4.3's list); absent = not shown. */
const CONTAINER_ACTIONS: Record<string, string> = {
  create: 'create',
  init: 'init',
  start: 'start',
  attach: 'attach',
  die: 'died',
  cleanup: 'cleanup',
  kill: 'kill',
  stop: 'stop',
  // podman's restart event comes first; Docker's `restart` (recorded once the container runs again) it has not.
  'restart-begin': 'restart',
  pause: 'pause',
  unpause: 'unpause',
  rename: 'rename',
  commit: 'commit',
  export: 'export',
  destroy: 'remove',
  exec_start: 'exec',
  exec_die: 'exec_died',
};

/** Docker's image actions → libpod's. */
const IMAGE_ACTIONS: Record<string, string> = {
  pull: 'pull',
  push: 'push',
  tag: 'tag',
  untag: 'untag',
  delete: 'remove',
  load: 'loadfromarchive',
  save: 'save',
  import: 'import',
};

/** Attributes a Docker action adds beside the container's labels, which libpod does not report. */
const DOCKER_EXTRAS: Record<string, readonly string[]> = {
  die: ['exitCode', 'execDuration'],
  kill: ['signal'],
  rename: ['oldName'],
  commit: ['comment', 'imageID', 'imageRef'],
  exec_start: ['execID'],
  exec_die: ['execID', 'exitCode'],
};

const hexId = (id: string) => id.replace(/^sha256:/, '');
const looksLikeId = (s: string) => /^(sha256:)?[0-9a-f]{12,64}$/.test(s);

/** A name as libpod shows images: fully qualified with its tag (`docker.io/library/busybox:latest`). */
function qualified(name: string): string {
  if (!name || looksLikeId(name)) return name;
  try {
    return referenceString(parseTaggedReference(name));
  } catch {
    return name;
  }
}

/** What libpod always sends in Attributes (its client needs `containerExitCode` to parse an event). */
const base = (o: { image?: string; name?: string; exitCode?: string; podId?: string }) => ({
  containerExitCode: o.exitCode ?? '0',
  image: o.image ?? '',
  name: o.name ?? '',
  podId: o.podId ?? '',
});

export interface LibpodViewLookups {
  /** A container's name by ID, if it still exists (network events name the container). */
  containerName(id: string): string | undefined;
}

/** The libpod API's view of an event, or undefined when libpod does not report it. */
export function libpodView(e: EngineEvent, lookups: LibpodViewLookups): LibpodEvent | undefined {
  const a = e.attributes;
  switch (e.type) {
    case 'container': {
      const health = /^health_status: (.*)$/.exec(e.action);
      // Docker's exec actions carry the command (`exec_start: sh -c x`).
      const docker = health ? 'health_status' : e.action.split(':')[0]!;
      const action = health ? 'health_status' : CONTAINER_ACTIONS[docker];
      if (!action) return undefined;
      const labels = { ...a };
      for (const k of ['image', 'name', ...(DOCKER_EXTRAS[docker] ?? [])]) delete labels[k];
      const exitCode = docker === 'die' ? a.exitCode : undefined;
      const attributes = { ...labels, ...base({ image: qualified(a.image ?? ''), name: a.name, exitCode, podId: a.podId }) };
      return { ...e, action, attributes, ...(health ? { healthStatus: health[1] } : {}) };
    }
    case 'image': {
      const action = IMAGE_ACTIONS[e.action];
      if (!action) return undefined;
      // A pull names what was asked and has no ID yet (podman's); the others name the image by ID.
      const actorId = action === 'pull' || action === 'push' ? '' : hexId(e.actorId);
      const name = action === 'pull' || action === 'push' ? (a.name ?? e.actorId) : looksLikeId(a.name ?? '') ? '' : qualified(a.name ?? '');
      return { ...e, action, actorId, attributes: base({ name }) };
    }
    case 'volume': {
      const action = { create: 'create', destroy: 'remove', prune: 'prune' }[e.action];
      if (!action) return undefined;
      return { ...e, action, actorId: '', attributes: base({ name: e.actorId }) };
    }
    case 'network': {
      // podman 4.3 reports a container joining or leaving a network, by the container; nothing else.
      if (e.action !== 'connect' && e.action !== 'disconnect') return undefined;
      const container = a.container ?? '';
      return { ...e, actorId: container, attributes: base({ name: lookups.containerName(container) ?? '' }) };
    }
    case 'pod':
    case 'system':
      return { ...e, attributes: { ...a, ...base({ image: a.image, name: a.name, podId: a.podId }) } };
    default:
      return undefined;
  }
}
