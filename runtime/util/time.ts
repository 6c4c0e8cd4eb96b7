// Times as Go's time.Time marshals them, for the fields dockerd gives with nanoseconds.

/** The wall clock at start, in nanoseconds, less the monotonic clock then: now = origin + hrtime. */
const origin = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** Now as Go's time.Time marshals in UTC (RFC3339Nano): nanoseconds, trailing zeros of the fraction dropped. */
export function nowNano(): string {
  const ns = origin + process.hrtime.bigint();
  const iso = new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19);
  const fraction = String(ns % 1_000_000_000n)
    .padStart(9, '0')
    .replace(/0+$/, '');
  return `${iso}${fraction ? `.${fraction}` : ''}Z`;
}
