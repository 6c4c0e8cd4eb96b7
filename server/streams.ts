// Docker's JSON-message streams (load, pull, push, build): one JSON object per chunk, each ending \r\n.
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
  const width = 50;
  const filled = total > 0 ? Math.floor((width * Math.min(current, total)) / total) : 0;
  const bar = filled >= width ? '='.repeat(width) : '='.repeat(filled) + '>' + ' '.repeat(width - filled - 1);
  const sizes = `${humanSize(current)}/${humanSize(total)}`;
  return `[${bar}] ${sizes.padStart(18)}`;
}

export function errorMessage(message: string, code?: number): JsonMessage {
  return { errorDetail: code === undefined ? { message } : { code, message }, error: message };
}
