// docker cp's tars end where Go's archive/tar ends them (runtime/containers/tar-end.ts): GNU tar's record
// padding after the end marker is dropped, whatever the chunks, and every entry's data passes whole.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toTarEnd } from '../runtime/containers/tar-end.js';
import { TEST_BASE, run } from './helpers/engine.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(TEST_BASE, 'berth-tar-end-'));
  await writeFile(join(dir, 'small'), 'hello\n');
  // Data that ends in zero blocks (they are data, not the end marker) and is not block-aligned.
  await writeFile(join(dir, 'zeros'), Buffer.concat([Buffer.from('head'), Buffer.alloc(5000)]));
  await writeFile(join(dir, 'big'), Buffer.alloc(300_000, 7));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** GNU tar's archive of `names` in `dir`, as docker cp makes it (10 KiB records). */
function gnuTar(names: string[], extra: string[] = []): Promise<Buffer> {
  const child = spawn('tar', ['--numeric-owner', ...extra, '-cf', '-', ...names], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] });
  return collect(child.stdout);
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The same bytes in chunks of `size` (headers and data split anywhere). */
const chunked = (buf: Buffer, size: number) =>
  Readable.from(Array.from({ length: Math.ceil(buf.length / size) }, (_, i) => buf.subarray(i * size, (i + 1) * size)));

/** Where the archive ends: the end of the second zero block after the last entry, by GNU tar's own listing. */
async function endOf(buf: Buffer): Promise<number> {
  const r = await run('sh', ['-c', 'tar -tvR -f - | tail -1'], { input: buf });
  const block = Number(/^block (\d+): \*\* Block of NULs \*\*/m.exec(r.stdout)?.[1]);
  return (block + 2) * 512;
}

describe('toTarEnd', () => {
  for (const names of [['small'], ['zeros'], ['small', 'zeros', 'big']]) {
    it(`stops ${names.join(', ')} at the end marker, in any chunking`, async () => {
      const gnu = await gnuTar(names);
      expect(gnu.length % 10240).toBe(0);
      const end = await endOf(gnu);
      expect(end).toBeLessThan(gnu.length);
      for (const size of [1, 7, 511, 512, 513, 4096, gnu.length]) {
        const out = await collect(toTarEnd(chunked(gnu, size)));
        expect(out.equals(gnu.subarray(0, end)), `chunks of ${size}`).toBe(true);
      }
    });
  }

  it('passes PAX and long-name entries whole', async () => {
    const long = `${'n'.repeat(150)}`;
    await writeFile(join(dir, long), 'long\n');
    for (const format of ['--format=gnu', '--format=pax']) {
      const gnu = await gnuTar([long, 'small'], [format]);
      const out = await collect(toTarEnd(chunked(gnu, 700)));
      expect(out.equals(gnu.subarray(0, await endOf(gnu))), format).toBe(true);
      expect((await run('tar', ['-tf', '-'], { input: out })).stdout).toBe(`${long}\nsmall\n`);
    }
  });

  it('drops only zeros: anything else after the end marker goes out whole, zeros before it included', async () => {
    const gnu = await gnuTar(['small']);
    const odd = Buffer.concat([gnu, Buffer.from('not padding')]);
    for (const size of [1, 512, 3000, odd.length]) expect((await collect(toTarEnd(chunked(odd, size)))).equals(odd), `chunks of ${size}`).toBe(true);
  });

  it('destroys its source when its reader goes away', async () => {
    const source = new Readable({ read() {} });
    const end = toTarEnd(source);
    end.destroy();
    await new Promise((r) => setImmediate(r));
    expect(source.destroyed).toBe(true);
  });
});
