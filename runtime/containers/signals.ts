// Signal names and numbers as Docker accepts them (`KILL`, `SIGKILL`, `9`).
import { constants } from 'node:os';
import { invalid } from '../errors.js';

const SIGNALS = constants.signals as Record<string, number>;

export function parseSignal(input: string | number | undefined, fallback = 'SIGKILL'): number {
  if (input === undefined || input === '') return SIGNALS[fallback]!;
  const text = String(input).toUpperCase();
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < 1 || n > 64) throw invalid(`Invalid signal: ${input}`);
    return n;
  }
  const name = text.startsWith('SIG') ? text : `SIG${text}`;
  const n = SIGNALS[name];
  if (n === undefined) throw invalid(`Invalid signal: ${input}`);
  return n;
}
