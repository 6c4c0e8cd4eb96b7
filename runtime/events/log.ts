// The engine's event log: every event is a DB row (so `docker events --since` works across restarts,
// and `berth cleanup` — another process — records exits too), and is pushed to this process's
// listeners at once. Rows written by other processes reach listeners through a short poll.
import { EventEmitter } from 'node:events';
import type { DB } from '../state/db.js';

/** Docker's event types, and libpod's own (`pod`, `system`), which the Docker view hides. */
export type EventType = 'container' | 'image' | 'volume' | 'network' | 'daemon' | 'plugin' | 'node' | 'service' | 'secret' | 'config' | 'pod' | 'system';

export interface EngineEvent {
  seq: number;
  timeNano: bigint;
  type: EventType;
  action: string;
  actorId: string;
  attributes: Record<string, string>;
}

interface EventRow {
  seq: number;
  time_nano: bigint;
  type: EventType;
  action: string;
  actor_id: string;
  attributes: string;
}

/** How many events the DB keeps (dockerd keeps 256 in memory; a restart does not lose these). */
const KEEP = 10_000;
const POLL_MS = 200;

const toEvent = (r: EventRow): EngineEvent => ({
  seq: r.seq,
  timeNano: BigInt(r.time_nano),
  type: r.type,
  action: r.action,
  actorId: r.actor_id,
  attributes: JSON.parse(r.attributes) as Record<string, string>,
});

/** Unix nanoseconds now, from the wall clock (hrtime for the digits below the millisecond). */
function nowNano(): bigint {
  const ms = BigInt(Date.now());
  return ms * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
}

export class EventLog {
  private readonly emitter = new EventEmitter();
  private lastSeen = 0;
  private poll?: NodeJS.Timeout;
  private lastTime = 0n;

  constructor(private readonly db: DB) {
    this.emitter.setMaxListeners(0);
  }

  record(type: EventType, action: string, actorId: string, attributes: Record<string, string> = {}): void {
    let time = nowNano();
    if (time <= this.lastTime) time = this.lastTime + 1n; // strictly increasing within this process
    this.lastTime = time;
    const insert = this.db.prepare('INSERT INTO events (time_nano, type, action, actor_id, attributes) VALUES (?, ?, ?, ?, ?)');
    const { lastInsertRowid } = insert.run(time, type, action, actorId, JSON.stringify(attributes));
    if (Number(lastInsertRowid) % 500 === 0) this.db.prepare('DELETE FROM events WHERE seq <= ?').run(Number(lastInsertRowid) - KEEP);
    this.deliver();
  }

  /** Events with time in [since, until] (unix ns), oldest first. */
  history(since: bigint, until?: bigint): EngineEvent[] {
    const rows = this.db
      .prepare('SELECT * FROM events WHERE time_nano >= ? AND time_nano <= ? ORDER BY seq')
      .safeIntegers(true)
      .all(since, until ?? 9_000_000_000_000_000_000n) as EventRow[];
    return rows.map((r) => toEvent({ ...r, seq: Number(r.seq) }));
  }

  latestSeq(): number {
    const row = this.db.prepare('SELECT MAX(seq) AS seq FROM events').get() as { seq: number | null };
    return row.seq ?? 0;
  }

  /** Calls `listener` with every event recorded after now; returns the unsubscribe function. */
  subscribe(listener: (e: EngineEvent) => void): () => void {
    if (this.emitter.listenerCount('event') === 0) {
      this.lastSeen = this.latestSeq();
      this.poll = setInterval(() => this.deliver(), POLL_MS);
      this.poll.unref();
    }
    this.emitter.on('event', listener);
    return () => {
      this.emitter.off('event', listener);
      if (this.emitter.listenerCount('event') === 0) clearInterval(this.poll);
    };
  }

  /** Pushes rows not yet delivered (ours and other processes') to listeners, in order. */
  private deliver(): void {
    if (this.emitter.listenerCount('event') === 0) return;
    const rows = this.db.prepare('SELECT * FROM events WHERE seq > ? ORDER BY seq').safeIntegers(true).all(this.lastSeen) as EventRow[];
    for (const r of rows) {
      this.lastSeen = Number(r.seq);
      this.emitter.emit('event', toEvent({ ...r, seq: Number(r.seq) }));
    }
  }
}
