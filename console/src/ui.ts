// Small shared pieces of the pages: formatting and the error banner.
import { html } from 'lit';

export function bytes(n: number | undefined): string {
  if (n === undefined || n < 0 || Number.isNaN(n)) return '—';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 2 : 1)} ${units[i]}`;
}

/** "3 minutes ago" from seconds since the epoch. */
export function ago(seconds: number): string {
  const s = Math.max(0, Math.round(Date.now() / 1000 - seconds));
  for (const [unit, size] of [
    ['day', 86400],
    ['hour', 3600],
    ['minute', 60],
  ] as const) {
    if (s >= size) {
      const n = Math.floor(s / size);
      return `${n} ${unit}${n === 1 ? '' : 's'} ago`;
    }
  }
  return `${s} second${s === 1 ? '' : 's'} ago`;
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** An error said where the user acted (role=alert: screen readers announce it). */
export function errorBanner(message: string | undefined) {
  return message ? html`<p class="error" role="alert">${message}</p>` : '';
}
