import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { invalid } from '../errors.js';

const GZIP = Buffer.from([0x1f, 0x8b]);
const ZSTD = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/** Opens a layer file as an uncompressed tar stream, whatever compression (gzip, zstd, none) it carries. */
export async function openLayer(path: string): Promise<{ stream: Readable; compressed: boolean }> {
  const head = Buffer.alloc(4);
  const handle = await open(path, 'r');
  try {
    await handle.read(head, 0, 4, 0);
  } finally {
    await handle.close();
  }
  const file = createReadStream(path);
  if (head.subarray(0, 2).equals(GZIP)) {
    const gunzip = createGunzip();
    file.on('error', (err) => gunzip.destroy(err));
    return { stream: file.pipe(gunzip), compressed: true };
  }
  if (head.equals(ZSTD)) {
    // Node 20 has no zstd; Debian's zstd tool decodes it.
    const child = spawn('zstd', ['-dc', path], { stdio: ['ignore', 'pipe', 'ignore'] });
    child.on('error', () => child.stdout.destroy(invalid('zstd-compressed layer: install the zstd command to load it')));
    file.destroy();
    return { stream: child.stdout, compressed: true };
  }
  return { stream: file, compressed: false };
}

/** A layer blob stream as an uncompressed tar, by its media type (gzip, zstd or none). */
export function decompressStream(blob: Readable, mediaType: string): Readable {
  if (/gzip/.test(mediaType) || mediaType === 'application/vnd.docker.image.rootfs.diff.tar.gzip') {
    // Big output chunks: every chunk costs a hash update, a file write and a tar parse step downstream.
    const gunzip = createGunzip({ chunkSize: 256 * 1024 });
    blob.on('error', (err) => gunzip.destroy(err));
    return blob.pipe(gunzip);
  }
  if (/zstd/.test(mediaType)) {
    const child = spawn('zstd', ['-dc'], { stdio: ['pipe', 'pipe', 'ignore'] });
    child.on('error', () => child.stdout.destroy(invalid('zstd-compressed layer: install the zstd command to pull it')));
    child.stdin.on('error', () => undefined);
    blob.on('error', (err) => child.stdout.destroy(err));
    blob.pipe(child.stdin);
    return child.stdout;
  }
  return blob;
}
