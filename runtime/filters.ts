// Every list and prune filter in one place: the server parses a request's `filters` into a Filters map
// and the runtime decides what matches. Each resource has its filter function here; they share label
// matching and the time helpers. (The libpod API adds its own keys, such as `pod`, here too.)
import { invalid } from './errors.js';
import { HEALTH_FILTER_VALUES } from './containers/health-state.js';

/** A parsed `filters` parameter: key → the values given for it. */
export type Filters = Record<string, string[]>;

/** Labels `wanted` (each `key` or `key=value`) all present in `labels`. */
export function matchLabels(labels: Record<string, string>, wanted: readonly string[]): boolean {
  return wanted.every((l) => {
    const eq = l.indexOf('=');
    return eq < 0 ? l in labels : labels[l.slice(0, eq)] === l.slice(eq + 1);
  });
}

/** The `label` and `label!` filters of prunes: every `label` present and no `label!` one. */
export function labelFilter(labels: Record<string, string>, f: Filters): boolean {
  return matchLabels(labels, f.label ?? []) && !(f['label!'] ?? []).some((l) => matchLabels(labels, [l]));
}

/** moby's rule for a boolean value: false iff "", 0, no, false or none (any case). */
export const truthy = (value: string) => !['', '0', 'no', 'false', 'none'].includes(value.trim().toLowerCase());

/** True when the filter `key` is absent or one of its values passes `test`. */
export const anyOf = (f: Filters, key: string, test: (v: string) => boolean) => !f[key]?.length || f[key]!.some(test);

/**
 * moby's filters.Args.Match: a value matches when it equals the source or, read as a regular expression,
 * matches anywhere in it; a value that is no valid expression matches nothing (no error). Go's leading
 * `(?i)` is taken as JavaScript's `i` flag.
 */
export function filterMatch(value: string, source: string): boolean {
  if (value === source) return true;
  const insensitive = value.startsWith('(?i)');
  try {
    return new RegExp(insensitive ? value.slice(4) : value, insensitive ? 'i' : '').test(source);
  } catch {
    return false;
  }
}

/** A filter's `until` (images, containers, networks, build cache): Unix seconds, RFC 3339, or a Go duration before now. Milliseconds. */
export function parseUntil(value: string): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const duration = /^(\d+)(ns|us|ms|s|m|h)$/.exec(value);
  if (duration) {
    const unit = { ns: 1e-6, us: 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 }[duration[2] as 'ns'];
    return Date.now() - Number(duration[1]) * unit;
  }
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw invalid(`invalid filter 'until=${value}'`);
  return t;
}

/** The first `until` of a filter map in milliseconds, if any. */
export const untilOf = (f: Filters, key = 'until') => (f[key]?.[0] ? parseUntil(f[key]![0]!) : undefined);

/** `since`/`until` of logs: Unix seconds (fractions allowed) or RFC 3339; in seconds. */
export function parseLogTime(value: string | undefined): number | undefined {
  if (!value) return undefined;
  if (/^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw invalid(`invalid time value: ${value}`);
  return t / 1000;
}

/** Docker's event timestamps: Unix seconds with an optional fraction (to nanoseconds), RFC 3339, or a duration before now. Nanoseconds. */
export function parseEventTime(value: string, name: string, o: { durationAhead?: boolean } = {}): bigint {
  const unix = /^(\d+)(?:\.(\d{1,9}))?$/.exec(value);
  if (unix) return BigInt(unix[1]!) * 1_000_000_000n + BigInt((unix[2] ?? '').padEnd(9, '0') || '0');
  // A Go duration (time.ParseDuration: `90s`, `1h30m`, `1.5h`) before now; after it with `durationAhead`
  // (libpod's `until`: podman's ParseInputTime adds it to now).
  if (/^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/.test(value)) {
    let ms = 0;
    for (const [, n, unit] of value.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g))
      ms += Number(n) * { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 }[unit as 'ns'];
    return BigInt(Math.round(Date.now() + (o.durationAhead ? ms : -ms))) * 1_000_000n;
  }
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw invalid(`failed to parse value ${value} for ${name}: invalid timestamp`);
  return BigInt(t) * 1_000_000n;
}

// ---- containers

export const CONTAINER_LIST_FILTERS = [
  'id',
  'name',
  'label',
  'status',
  'ancestor',
  'exited',
  'before',
  'since',
  'health',
  'volume',
  'network',
  'is-task',
  'publish',
  'expose',
] as const;
export const CONTAINER_PRUNE_FILTERS = ['until', 'label', 'label!'] as const;

/** What a container filter reads of a container. */
export interface FilteredContainer {
  id: string;
  name: string;
  state: string;
  exit_code: number;
  created: string;
  image_id: string;
  labels: Record<string, string>;
  health: string;
  /** Names and IDs of the networks it is on (asked only by a network filter). */
  networks(): string[];
  published: { port: number; protocol: string }[];
  exposed: { port: number; protocol: string }[];
  /** Bind sources and destinations (volumes are host directories to this filter). */
  binds: string[];
}

/** What container filters look up once per list: images and containers named in the filter. */
export interface ContainerLookups {
  imageId(ref: string): string | undefined;
  /** The created time of the container `ref` (throws its not-found). */
  createdOf(ref: string): string;
}

/** `docker ps --filter`: a predicate over containers. Unknown values for `health` are refused, as dockerd. */
export function containerFilter(f: Filters, lookups: ContainerLookups): (c: FilteredContainer) => boolean {
  for (const v of f.health ?? []) if (!HEALTH_FILTER_VALUES.includes(v)) throw invalid(`Unrecognised filter value for health: ${v}`);
  const ancestors = f.ancestor?.length ? f.ancestor.map((a) => lookups.imageId(a)) : undefined;
  const before = f.before?.length ? lookups.createdOf(f.before[0]!) : undefined;
  const since = f.since?.length ? lookups.createdOf(f.since[0]!) : undefined;
  // publish/expose: a port ("80", "80/tcp") or a range, on the host side (publish) or the container's.
  const ports = (v: string, list: { port: number; protocol: string }[]) => {
    const [range = '', protocol] = v.split('/');
    const [from, to = from] = range.split('-').map(Number);
    return list.some((p) => p.port >= from! && p.port <= to! && (!protocol || p.protocol === protocol));
  };
  return (c) =>
    anyOf(f, 'id', (v) => c.id.startsWith(v)) &&
    anyOf(f, 'name', (v) => filterMatch(v, c.name) || filterMatch(v, `/${c.name}`)) &&
    anyOf(f, 'status', (v) => v === c.state) &&
    anyOf(f, 'exited', (v) => c.state === 'exited' && Number(v) === c.exit_code) &&
    matchLabels(c.labels, f.label ?? []) &&
    (!ancestors || ancestors.some((id) => id === c.image_id)) &&
    anyOf(f, 'health', (v) => v === c.health) &&
    // No container is a swarm task.
    anyOf(f, 'is-task', (v) => !truthy(v)) &&
    anyOf(f, 'network', (v) => c.networks().includes(v)) &&
    anyOf(f, 'publish', (v) => ports(v, c.published)) &&
    anyOf(f, 'expose', (v) => ports(v, c.exposed)) &&
    anyOf(f, 'volume', (v) => c.binds.includes(v)) &&
    (before === undefined || c.created < before) &&
    (since === undefined || c.created > since);
}

/** docker container prune: created before `until`, with the labels asked (only containers that are not up go: the service's rule). */
export function containerPruneFilter(f: Filters): (c: { created: string; labels: Record<string, string> }) => boolean {
  const until = untilOf(f);
  return (c) => (until === undefined || Date.parse(c.created) < until) && labelFilter(c.labels, f);
}

// ---- networks

export const NETWORK_LIST_FILTERS = ['name', 'id', 'driver', 'label', 'type', 'dangling', 'scope'] as const;
export const NETWORK_PRUNE_FILTERS = ['until', 'label', 'label!'] as const;

export interface FilteredNetwork {
  id: string;
  name: string;
  driver: string;
  labels: Record<string, string>;
  createdAt: string;
}

/** `docker network ls --filter`. `builtin`: bridge, host, none; `inUse`: has endpoints. */
export function networkFilter(f: Filters, builtin: (n: FilteredNetwork) => boolean, inUse: (n: FilteredNetwork) => boolean): (n: FilteredNetwork) => boolean {
  return (n) =>
    anyOf(f, 'name', (v) => filterMatch(v, n.name)) &&
    anyOf(f, 'id', (v) => n.id.includes(v)) &&
    anyOf(f, 'driver', (v) => v === n.driver) &&
    anyOf(f, 'scope', (v) => v === 'local') &&
    matchLabels(n.labels, f.label ?? []) &&
    anyOf(f, 'type', (v) => v === (builtin(n) ? 'builtin' : 'custom')) &&
    anyOf(f, 'dangling', (v) => truthy(v) === (!inUse(n) && !builtin(n)));
}

/** docker network prune: created before `until`, with the labels asked (unused and not builtin: the service's rule). */
export function networkPruneFilter(f: Filters): (n: FilteredNetwork) => boolean {
  const until = untilOf(f);
  return (n) => (until === undefined || Date.parse(n.createdAt) < until) && labelFilter(n.labels, f);
}

// ---- volumes

export const VOLUME_LIST_FILTERS = ['name', 'label', 'dangling', 'driver'] as const;

export interface FilteredVolume {
  name: string;
  driver: string;
  labels: Record<string, string>;
  anonymous: boolean;
}

/** `docker volume ls --filter`; `unused`: no container holds it. */
export function volumeFilter(f: Filters, unused: (v: FilteredVolume) => boolean): (v: FilteredVolume) => boolean {
  return (v) =>
    anyOf(f, 'name', (n) => filterMatch(n, v.name)) &&
    anyOf(f, 'driver', (d) => d === v.driver) &&
    matchLabels(v.labels, f.label ?? []) &&
    anyOf(f, 'dangling', (d) => truthy(d) === unused(v));
}

/** docker volume prune: anonymous volumes (every one with `all`), with the labels asked (unused: the caller's rule). */
export function volumePruneFilter(f: Filters, all: boolean): (v: FilteredVolume) => boolean {
  return (v) => (all || v.anonymous) && matchLabels(v.labels, f.label ?? []);
}

// ---- images

/** What an image filter reads of an image. */
export interface FilteredImage {
  created: string;
  labels: Record<string, string>;
}

/** The time and label part of image list and prune filters (`before`/`since` given as created times). */
export function imageTimeLabelFilter(f: { label?: string[]; before?: string; since?: string; until?: number }): (i: FilteredImage) => boolean {
  return (i) =>
    (!f.label?.length || matchLabels(i.labels, f.label)) &&
    (f.before === undefined || i.created < f.before) &&
    (f.since === undefined || i.created > f.since) &&
    (f.until === undefined || Date.parse(i.created) < f.until);
}

// ---- events

export const EVENT_FILTERS = [
  'container',
  'image',
  'event',
  'type',
  'label',
  'volume',
  'network',
  'daemon',
  'scope',
  'plugin',
  'node',
  'service',
  'secret',
  'config',
] as const;

/** What an event filter reads of an event. */
export interface FilteredEvent {
  type: string;
  action: string;
  actorId: string;
  attributes: Record<string, string>;
}

/** `docker events --filter`. */
export function eventFilter(f: Filters): (e: FilteredEvent) => boolean {
  return (e) => {
    const isActor = (type: string, v: string) => e.type === type && (e.actorId === v || e.actorId.startsWith(v) || e.attributes.name === v);
    if (!anyOf(f, 'type', (v) => v === e.type)) return false;
    if (!anyOf(f, 'event', (v) => v === e.action || v === e.action.split(':')[0])) return false;
    if (!anyOf(f, 'scope', (v) => v === 'local')) return false;
    if (!anyOf(f, 'daemon', (v) => e.type === 'daemon' && (v === e.actorId || v === e.attributes.name))) return false;
    if (!anyOf(f, 'container', (v) => isActor('container', v) || e.attributes.container === v)) return false;
    if (!anyOf(f, 'volume', (v) => isActor('volume', v) || e.attributes.volume === v)) return false;
    if (!anyOf(f, 'network', (v) => isActor('network', v))) return false;
    if (f.image?.length) {
      const imageOf = e.type === 'container' ? e.attributes.image : e.type === 'image' ? e.actorId : undefined;
      const names = [imageOf, e.type === 'image' ? e.attributes.name : undefined].filter((n): n is string => !!n);
      const ok = f.image.some((v) => names.some((n) => n === v || n === `${v}:latest` || n.replace(/^sha256:/, '').startsWith(v.replace(/^sha256:/, ''))));
      if (!ok) return false;
    }
    return matchLabels(e.attributes, f.label ?? []);
  };
}

/** The filters libpod's events take (podman 4.3); another key is refused as podman refuses it. */
export const LIBPOD_EVENT_FILTERS = ['container', 'event', 'status', 'image', 'pod', 'volume', 'type', 'label'] as const;

/**
 * `podman events --filter` over libpod-named events: values of one key are alternatives, keys all
 * apply. container/image/pod/volume match that type's events by name or ID prefix (podman 4.3 matched
 * volumes by ID only, and its volume events have none: newer podman matches the name, as here);
 * `label` needs key=value.
 */
export function libpodEventFilter(f: Filters): (e: FilteredEvent) => boolean {
  for (const key of Object.keys(f)) if (!(LIBPOD_EVENT_FILTERS as readonly string[]).includes(key)) throw invalid(`${key} is an invalid filter`);
  const actor = (type: string, e: FilteredEvent) => (v: string) =>
    e.type === type && (e.attributes.name === v || (e.actorId !== '' && e.actorId.startsWith(v)));
  return (e) =>
    anyOf(f, 'container', actor('container', e)) &&
    anyOf(f, 'image', actor('image', e)) &&
    anyOf(f, 'pod', actor('pod', e)) &&
    anyOf(f, 'volume', actor('volume', e)) &&
    anyOf(f, 'event', (v) => e.action === v) &&
    anyOf(f, 'status', (v) => e.action === v) &&
    anyOf(f, 'type', (v) => e.type === v) &&
    anyOf(f, 'label', (v) => {
      const eq = v.indexOf('=');
      return eq > 0 && e.attributes[v.slice(0, eq)] === v.slice(eq + 1);
    });
}

// ---- registry search

export const SEARCH_FILTERS = ['is-official', 'is-automated', 'stars'] as const;

/** `docker search --filter`: at least `stars`, official and automated as asked. */
export function searchFilter(f: Filters): (r: { star_count: number; is_official: boolean; is_automated: boolean }) => boolean {
  const stars = f.stars?.length ? Number(f.stars[0]) : 0;
  return (r) =>
    r.star_count >= stars &&
    (!f['is-official']?.length || String(r.is_official) === f['is-official'][0]) &&
    (!f['is-automated']?.length || String(r.is_automated) === f['is-automated'][0]);
}

// ---- build cache

export const BUILD_PRUNE_FILTERS = ['until', 'unused-for', 'type', 'id', 'description', 'inuse', 'shared', 'private'] as const;
