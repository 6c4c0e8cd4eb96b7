// `--console [HOST:]PORT`: where the console listens. Loopback unless a host is given; port 0 takes a
// free one. Parsed before the engine opens, so a typo fails before anything is touched.
export interface ConsoleAddress {
  host: string;
  port: number;
}

export function parseConsoleAddress(value: string): ConsoleAddress {
  const m = /^(?:(\[[^\]]+\]|[^:]*):)?(\d{1,5})$/.exec(value.trim());
  const port = Number(m?.[2]);
  if (!m || port > 65535) throw new Error(`--console: expected [HOST:]PORT, got ${JSON.stringify(value)}`);
  const host = (m[1] ?? '').replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  return { host, port };
}

/** host:port as a URL spells it (IPv6 in brackets). */
export function urlHost(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
