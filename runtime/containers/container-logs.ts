// docker logs: a container's log as batches of entries, its rotated files first, filtered as asked, and
// followed while the container may still write. What file, what rotation and what "still running" means
// stay here; the caller frames the entries.
import { invalid } from '../errors.js';
import { assertReadableLogs, logLimitsOf } from './log-driver.js';
import { rotatedLogs } from './log-rotation.js';
import { readLogBatches, type LogEntry } from './logs.js';
import type { ContainerService } from './service.js';

export interface LogsOptions {
  stdout: boolean;
  stderr: boolean;
  /** Unix seconds (fractions allowed) or RFC 3339. */
  since?: string;
  until?: string;
  /** The last N lines; undefined for all. */
  tail?: number;
  follow: boolean;
  /** Each entry keeps its line and its time; otherwise a read's lines of one stream come merged. */
  timestamps: boolean;
  signal?: AbortSignal;
}

/** The entries in batches (one read of the file each), and whether the container has a TTY. */
export interface ContainerLogs extends AsyncIterable<LogEntry[]> {
  readonly tty: boolean;
}

const LIVE = ['running', 'paused', 'restarting'];

/** Refuses (a driver that keeps no log, no stream chosen, a bad time) before anything is read. */
export function containerLogs(containers: ContainerService, nameOrId: string, o: LogsOptions): ContainerLogs {
  const c = containers.store.resolve(nameOrId);
  assertReadableLogs(c.spec.log);
  if (!o.stdout && !o.stderr) throw invalid('You must choose at least one stream');
  const since = parseLogTime(o.since);
  const until = parseLogTime(o.until);
  const log = containers.paths.log(c.id);
  const batches = readLogBatches(log, {
    history: rotatedLogs(log, logLimitsOf(c.spec.log).maxFile),
    stdout: o.stdout,
    stderr: o.stderr,
    tail: o.tail,
    since,
    until,
    follow: o.follow,
    signal: o.signal,
    coalesce: !o.timestamps,
    running: () => LIVE.includes(containers.store.get(c.id)?.state ?? ''),
  });
  return { tty: c.spec.process.tty, [Symbol.asyncIterator]: () => batches };
}

/** `since`/`until`: Unix seconds (fractions allowed) or RFC 3339, as Unix seconds. */
function parseLogTime(value: string | undefined): number | undefined {
  if (!value) return undefined;
  if (/^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw invalid(`invalid time value: ${value}`);
  return t / 1000;
}
