// Container logs: conmon writes k8s-file lines (`<RFC3339Nano> <stdout|stderr> <F|P> <text>`); this reads
// them back with Docker's filters, and follows the file as it grows (for `logs -f` and attach).
import { open, stat, type FileHandle } from 'node:fs/promises';
import { watch } from 'node:fs';

export interface LogEntry {
  stream: 'stdout' | 'stderr';
  time: string; // RFC 3339 with nanoseconds, UTC ("...Z") as Docker prints it
  data: Buffer; // a whole line with its newline, or a partial line
}

export interface LogReadOptions {
  stdout: boolean;
  stderr: boolean;
  since?: number; // unix seconds (fractional)
  until?: number;
  tail?: number; // last N lines; undefined for all
  follow: boolean;
  fromEnd?: boolean; // attach: only what is written from now on
  signal?: AbortSignal;
  /** Rotated files of this log, oldest first: read before it (not when following from the end). */
  history?: string[];
  /** Whether the container may still write: following ends once it is false and the file is drained. */
  running: () => boolean;
  /** Subscribes to changes of `running()` (returns the unsubscribe), so a follower wakes at the end at once. */
  onStateChange?: (wake: () => void) => () => void;
  /**
   * Merge each read's consecutive lines of one stream into one entry (its `time` then empty): for
   * callers that need neither line times nor line counts beyond `tail`. A million short lines then
   * cost a few hundred objects, not millions.
   */
  coalesce?: boolean;
}

/** One log line, its newline included (kept for full lines: the payload is a view, not a copy). */
function parseLine(line: Buffer, withTime = true): LogEntry | undefined {
  // The header is text; the payload stays bytes (it need not be UTF-8).
  const s1 = line.indexOf(0x20);
  const s2 = line.indexOf(0x20, s1 + 1);
  if (s1 < 0 || s2 < 0) return undefined;
  const stream = line.subarray(s1 + 1, s2).toString();
  const tag = String.fromCharCode(line[s2 + 1] ?? 0);
  if ((stream !== 'stdout' && stream !== 'stderr') || (tag !== 'F' && tag !== 'P')) return undefined;
  const start = Math.min(line.length - 1, s2 + 3); // an empty full line is its newline
  return {
    stream,
    time: withTime ? toUtc(line.subarray(0, s1).toString()) : '',
    data: tag === 'F' ? line.subarray(start) : line.subarray(start, line.length - 1),
  };
}

/** conmon writes `...166+00:00`; Docker shows `...166Z`. */
const toUtc = (t: string) => t.replace(/\+00:00$/, 'Z');
const seconds = (t: string) => Date.parse(t) / 1000 + Number(`0.${(/\.(\d+)/.exec(t)?.[1] ?? '0').slice(3)}`) / 1000;

function wanted(e: LogEntry, o: LogReadOptions): boolean {
  if (e.stream === 'stdout' ? !o.stdout : !o.stderr) return false;
  if (o.since !== undefined && o.since > 0 && seconds(e.time) < o.since) return false;
  if (o.until !== undefined && o.until > 0 && seconds(e.time) > o.until) return false;
  return true;
}

/**
 * Opens files that a rotation renames into one another (log.1 → log.2, log → log.1): when one was
 * renamed while they were being opened, they are opened again, so the handles are one moment's set.
 */
async function openTogether(paths: string[]): Promise<(FileHandle | undefined)[]> {
  for (let attempt = 0; ; attempt++) {
    const handles = await Promise.all(paths.map((p) => open(p, 'r').catch(() => undefined)));
    const inodes = await Promise.all(
      paths.map((p) =>
        stat(p).then(
          (s) => s.ino,
          () => undefined,
        ),
      ),
    );
    const opened = await Promise.all(handles.map((h) => h?.stat().then((s) => s.ino)));
    if (attempt >= 50 || inodes.every((ino, i) => ino === opened[i])) return handles;
    await Promise.all(handles.map((h) => h?.close()));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Reads the log (then follows it, if asked) as entries. */
export async function* readLog(path: string, o: LogReadOptions): AsyncGenerator<LogEntry> {
  for await (const batch of readLogBatches(path, o)) yield* batch;
}

/**
 * The same, as the batches each read of the file gives (up to 1 MiB of it): a container that writes
 * a million short lines is sent in a few hundred writes, not a million.
 */
export async function* readLogBatches(path: string, o: LogReadOptions, opened?: FileHandle): AsyncGenerator<LogEntry[]> {
  let offset = 0;
  let pending = Buffer.alloc(0);
  // The rotated files and the log itself as one set, so a rotation meanwhile neither loses nor repeats lines.
  const history = o.fromEnd ? [] : (o.history ?? []);
  const files = history.length ? await openTogether([...history, path]) : [];
  // The file is held open once it exists: a --rm container's directory may go before we have read all.
  let handle: FileHandle | undefined = opened ?? files.pop();
  const size = async () => {
    handle ??= await open(path, 'r').catch(() => undefined);
    return handle ? (await handle.stat()).size : 0;
  };
  if (o.fromEnd) offset = await size();
  let watcher: ReturnType<typeof watch> | undefined;
  /** The log was rotated: renamed away, and conmon (which creates the new file only when it reopens,
   * so the old one is final by then) writes a new file. */
  let next: FileHandle | undefined;
  const rotated = async (): Promise<boolean> => {
    if (next) return true;
    const current = await stat(path).catch(() => undefined);
    if (!current || !handle || current.ino === (await handle.stat()).ino) return false;
    // The new file is held open as soon as it is seen, not when the old one is drained: a follower
    // that lags (a loaded machine) must still find it after `rm -f` has taken the directory away.
    next = await open(path, 'r').catch(() => undefined);
    return true;
  };
  const moveToNewFile = async () => {
    await handle?.close();
    handle = next;
    next = undefined;
    offset = 0;
    pending = Buffer.alloc(0);
    watcher?.close();
    watcher = undefined;
  };
  const readNew = async (): Promise<LogEntry[]> => {
    const end = await size();
    if (end < offset) {
      offset = 0; // conmon truncated the file at its size bound
      pending = Buffer.alloc(0);
    }
    if (!handle || end === offset) return [];
    // A bounded read: a container that printed 50 MB is streamed, not held in memory.
    const buf = Buffer.allocUnsafe(Math.min(end - offset, 1 << 20)); // filled by the read
    const { bytesRead } = await handle.read(buf, 0, buf.length, offset);
    offset += bytesRead;
    pending = pending.length ? Buffer.concat([pending, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
    const coalesce = merging();
    const entries: LogEntry[] = [];
    let run: Buffer[] = [];
    const flush = () => {
      if (run.length > 1) entries[entries.length - 1]!.data = Buffer.concat(run);
      run = [];
    };
    let at = 0;
    let nl: number;
    while ((nl = pending.indexOf(0x0a, at)) >= 0) {
      const entry = parseLine(pending.subarray(at, nl + 1), !coalesce);
      at = nl + 1;
      if (!entry || !wanted(entry, o)) continue;
      if (coalesce && run.length && entries[entries.length - 1]!.stream === entry.stream) {
        run.push(entry.data);
        continue;
      }
      flush();
      entries.push(entry);
      run = [entry.data];
    }
    flush();
    pending = pending.subarray(at);
    return entries;
  };
  const atStart = async () => (await size()) <= offset;
  // Lines are counted for a tail, and timed for since/until: not merged then.
  let counting = o.tail !== undefined && o.tail >= 0;
  const merging = () => !!o.coalesce && !counting && !o.since && !o.until;
  // Rotated files are small (max-size each): read whole, oldest first.
  const older: LogEntry[] = [];
  for (const [i, file] of files.entries()) {
    if (!file) continue;
    const options = { ...o, history: [], tail: undefined, follow: false, coalesce: o.coalesce && !counting };
    for await (const batch of readLogBatches(history[i]!, options, file)) older.push(...batch);
  }
  try {
    if (o.tail !== undefined && o.tail >= 0) {
      let all: LogEntry[] = older.slice(-o.tail);
      do all = all.concat(await readNew()).slice(-o.tail);
      while (!(await atStart()));
      if (o.tail > 0 && all.length) yield all;
    } else {
      if (older.length) yield older;
      do yield await readNew();
      while (!(await atStart()));
    }
    counting = false;
    if (!o.follow) return;
    // Follow: wake on file changes, and poll as a fallback (the file may not exist yet, or be replaced).
    // A poke between our last look and the wait must not be lost: it is remembered until then.
    let wake: (() => void) | undefined;
    let poked = false;
    const poke = () => {
      poked = true;
      wake?.();
    };
    const arm = () => {
      if (watcher) return;
      try {
        watcher = watch(path, poke);
        watcher.on('error', () => undefined);
      } catch {
        // not there yet
      }
    };
    o.signal?.addEventListener('abort', poke);
    const unsubscribe = o.onStateChange?.(poke);
    try {
      while (!o.signal?.aborted) {
        arm();
        poked = false;
        const stillRunning = o.running();
        const entries = await readNew();
        if (entries.length) yield entries;
        const rotation = !!handle && (await rotated());
        const drained = await atStart();
        if (drained && rotation) {
          // What conmon wrote to the old file between our last read and its reopen comes first.
          do yield await readNew();
          while (!(await atStart()));
          await moveToNewFile();
          continue;
        }
        if (!stillRunning && drained) return;
        if (drained && !poked) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            // Until the file exists (attach before start), look often: a short-lived --rm container can
            // come and go within a few tens of milliseconds.
            setTimeout(resolve, handle ? 100 : 10);
          });
          wake = undefined;
        }
      }
    } finally {
      watcher?.close();
      unsubscribe?.();
      o.signal?.removeEventListener('abort', poke);
    }
  } finally {
    await handle?.close();
    await next?.close();
  }
}
