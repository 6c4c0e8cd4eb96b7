// Docker's JSON-message streams (load, pull, push, build): one JSON object per chunk, each ending \r\n.
import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';

export interface JsonMessage {
  status?: string;
  stream?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  aux?: unknown;
  error?: string;
  errorDetail?: { code?: number; message: string };
}

export const jsonLines = (messages: JsonMessage[]) => Readable.from(messages.map((m) => JSON.stringify(m) + '\r\n'));

/** Docker's human sizes: decimal units, four significant digits (`3.584kB`, `1.982MB`). */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${Number(value.toPrecision(4))}${units[unit]}`;
}

/** The progress bar dockerd puts in `progress`: 50 columns, then current/total. */
export function progressBar(current: number, total: number): string {
  // moby's JSONProgress: numbars '=' then '>' then the rest in spaces, then "%8v/%v".
  const width = 50;
  const filled = total > 0 ? Math.min(width, Math.floor((width * current) / total)) : 0;
  return `[${'='.repeat(filled)}>${' '.repeat(width - filled)}] ${humanSize(current).padStart(8)}/${humanSize(total)}`;
}

export function errorMessage(message: string, code?: number): JsonMessage {
  return { errorDetail: code === undefined ? { message } : { code, message }, error: message };
}

/** Aborted when the client goes away before its answer is complete: the work for it stops. */
export function clientGoneSignal(reply: FastifyReply): AbortSignal {
  const abort = new AbortController();
  const res = reply.raw;
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  return abort.signal;
}
