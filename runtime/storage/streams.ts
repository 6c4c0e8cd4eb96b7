// Helpers for the streams that carry what clients send: failures must end the work they feed, and the
// work must be over before its files are removed.
import { Transform } from 'node:stream';
import { invalid } from '../errors.js';

/**
 * Waits for two consumers of one stream. The first failure stops the other (`stop`), and the answer
 * comes only once both have settled: one still writing files while the caller removes its work dir
 * would fail the removal, or leave files behind.
 */
export async function settledBoth<A, B>(a: Promise<A>, b: Promise<B>, stop: (err: Error) => void): Promise<[A, B]> {
  let first: { err: unknown } | undefined;
  const fail = (err: Error): never => {
    if (!first) {
      first = { err };
      stop(err);
    }
    throw err;
  };
  const [ra, rb] = await Promise.allSettled([a.catch(fail), b.catch(fail)]);
  if (ra.status === 'fulfilled' && rb.status === 'fulfilled') return [ra.value, rb.value];
  throw first?.err;
}

/** dockerd has no bound; this one stops only a bomb (a real layer of 64 GiB would be unusual). */
export const DEFAULT_MAX_LAYER_SIZE = 64 * 1024 ** 3;

/** A byte count as the flag is written: 64GiB, 512MiB, 1.5G, or plain bytes. */
export function parseByteSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$/i.exec(text);
  if (!m) throw new Error(`invalid size ${JSON.stringify(text)}: use bytes or a suffix such as 512MiB, 64GiB`);
  const bytes = Math.floor(Number(m[1]) * 1024 ** ' kmgt'.indexOf((m[2] || ' ').toLowerCase()));
  if (!(bytes > 0)) throw new Error(`invalid size ${JSON.stringify(text)}: must be more than 0`);
  return bytes;
}

/** A size in the largest binary unit that divides it (64 GiB, 300 MiB, 1000 bytes). */
export function formatByteSize(bytes: number): string {
  for (const [unit, n] of [
    ['TiB', 1024 ** 4],
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes % n === 0) return `${bytes / n} ${unit}`;
  }
  return `${bytes} bytes`;
}

/** The 400 of something that expands past the engine's --max-layer-size. */
export const tooLarge = (what: string, max: number) =>
  invalid(`${what} expands to more than ${formatByteSize(max)}, the engine's limit (berth serve --max-layer-size)`);

export const layerTooLarge = (diffId: string, max: number) => tooLarge(`layer ${diffId}`, max);

/** The work of a request whose client went away: nobody reads this error, it only stops the work. */
export const clientGone = () => invalid('the client went away');

/**
 * Passes bytes through until more than max have gone by, then fails the stream with `error(max)`:
 * placed right after a decompressor, it stops an expansion before it reaches the disk.
 */
export function limitSize(max: number, error: (max: number) => Error): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > max) done(error(max));
      else done(null, chunk);
    },
  });
}
