// GET /events: the history from `since` (kept in the DB), then live events, until `until` or the
// client goes. Headers go out at once: clients wait for them before doing what they watch.
import type { FastifyPluginAsync } from 'fastify';
import type { Engine } from '../../../runtime/engine.js';
import type { EngineEvent } from '../../../runtime/events/log.js';
import { invalid } from '../../../runtime/errors.js';
import { EventsQuery } from '../../../openapi/events.js';
import { commonHeaders } from '../../app.js';
import { parseFilters } from '../../query.js';
import { eventMessage } from '../views/events.js';

const FILTERS = ['container', 'image', 'event', 'type', 'label', 'volume', 'network', 'daemon', 'scope', 'plugin', 'node', 'service', 'secret', 'config'];

/** Docker's timestamps: unix seconds with an optional fraction (up to nanoseconds), RFC 3339, or a duration before now. */
export function parseEventTime(value: string, name: string): bigint {
  const unix = /^(\d+)(?:\.(\d{1,9}))?$/.exec(value);
  if (unix) return BigInt(unix[1]!) * 1_000_000_000n + BigInt((unix[2] ?? '').padEnd(9, '0') || '0');
  const duration = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/.exec(value);
  if (duration) {
    const ms = Number(duration[1]) * { ns: 1e-6, us: 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 }[duration[2] as 'ns'];
    return BigInt(Math.round(Date.now() - ms)) * 1_000_000n;
  }
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw invalid(`failed to parse value ${value} for ${name}: invalid timestamp`);
  return BigInt(t) * 1_000_000n;
}

export function eventMatches(engine: Engine, e: EngineEvent, f: Record<string, string[]>): boolean {
  const any = (key: string, test: (v: string) => boolean) => !f[key]?.length || f[key]!.some(test);
  if (!any('type', (v) => v === e.type)) return false;
  if (!any('event', (v) => v === e.action || v === e.action.split(':')[0])) return false;
  if (!any('scope', (v) => v === 'local')) return false;
  if (!any('daemon', (v) => e.type === 'daemon' && (v === e.actorId || v === e.attributes.name))) return false;
  const isActor = (type: string, v: string) => e.type === type && (e.actorId === v || e.actorId.startsWith(v) || e.attributes.name === v);
  if (!any('container', (v) => isActor('container', v) || e.attributes.container === v)) return false;
  if (!any('volume', (v) => isActor('volume', v) || e.attributes.volume === v)) return false;
  if (!any('network', (v) => isActor('network', v))) return false;
  if (f.image?.length) {
    const imageOf = e.type === 'container' ? e.attributes.image : e.type === 'image' ? e.actorId : undefined;
    const names = [imageOf, e.type === 'image' ? e.attributes.name : undefined].filter((n): n is string => !!n);
    const ok = f.image.some((v) => names.some((n) => n === v || n === `${v}:latest` || n.replace(/^sha256:/, '').startsWith(v.replace(/^sha256:/, ''))));
    if (!ok) return false;
  }
  for (const l of f.label ?? []) {
    const eq = l.indexOf('=');
    if (eq < 0 ? !(l in e.attributes) : e.attributes[l.slice(0, eq)] !== l.slice(eq + 1)) return false;
  }
  return true;
}

export const eventRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  app.get('/events', { schema: { summary: 'Monitor events', querystring: EventsQuery } }, async (request, reply) => {
    const q = request.query as { since?: string; until?: string; filters?: string };
    const filters = parseFilters(q.filters, FILTERS);
    const now = BigInt(Date.now()) * 1_000_000n;
    const since = q.since ? parseEventTime(q.since, 'since') : undefined;
    const until = q.until ? parseEventTime(q.until, 'until') : undefined;
    if (since !== undefined && until !== undefined && until < since) throw invalid('`since` time must be before `until` time');
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { ...commonHeaders, 'Content-Type': 'application/json' });
    res.flushHeaders();
    const send = (e: EngineEvent) => {
      if (eventMatches(engine, e, filters)) res.write(JSON.stringify(eventMessage(e)) + '\n');
    };
    // Subscribe first, so nothing falls between the history and the live events.
    let lastSeq = 0;
    const queued: EngineEvent[] = [];
    let replaying = true;
    const unsubscribe = engine.events.subscribe((e) => (replaying ? queued.push(e) : e.seq > lastSeq && send(e)));
    if (since !== undefined) {
      for (const e of engine.events.history(since, until)) {
        lastSeq = e.seq;
        send(e);
      }
    }
    replaying = false;
    for (const e of queued) if (e.seq > lastSeq && (until === undefined || e.timeNano <= until)) send(e);
    const end = () => {
      unsubscribe();
      clearTimeout(timer);
      res.end();
    };
    let timer: NodeJS.Timeout | undefined;
    if (until !== undefined) {
      if (until <= now) return end();
      timer = setTimeout(end, Number((until - now) / 1_000_000n));
    }
    request.raw.socket.on('close', end);
  });
};
