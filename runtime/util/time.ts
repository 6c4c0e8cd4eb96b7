import { invalid } from '../errors.js';

/** A filter's `until` (images, containers): a Unix timestamp, an RFC 3339 time, or a Go duration before now. Milliseconds. */
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
