import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { PassThrough, Readable } from 'node:stream';
import { EngineError, invalid } from '../errors.js';

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
    gunzip.on('close', () => file.destroy()); // a reader that stops early (a bound passed) closes the file
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

const MAGIC: [Buffer, string][] = [
  [Buffer.from([0x1f, 0x8b, 0x08]), 'gzip'],
  [Buffer.from('BZh'), 'bzip2'],
  [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), 'xz'],
  [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), 'zstd'],
];

/**
 * A stream uncompressed by its first bytes (gzip, bzip2, xz, zstd, or as it is): gzip in-process, the
 * others through Debian's tools. `failure` words a tool's failed exit for the caller's context.
 */
export async function decompressSniffed(input: Readable, failure: (tool: string, why: string) => string): Promise<Readable> {
  const { head, stream } = await peek(input, 6);
  const format = MAGIC.find(([magic]) => head.subarray(0, magic.length).equals(magic))?.[1];
  if (!format) return stream;
  if (format === 'gzip') {
    const gunzip = createGunzip();
    stream.on('error', (err) => gunzip.destroy(err));
    return stream.pipe(gunzip);
  }
  return throughTool(format, stream, failure);
}

/** The first n bytes of a stream (fewer if it is shorter), and the whole stream again. */
async function peek(input: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const chunks = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const seen: Buffer[] = [];
  let length = 0;
  while (length < n) {
    const next = await chunks.next();
    if (next.done) break;
    seen.push(next.value);
    length += next.value.length;
  }
  const head = Buffer.concat(seen);
  async function* all() {
    if (head.length > 0) yield head;
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
  }
  return { head, stream: Readable.from(all(), { objectMode: false }) };
}

/** Node has no bzip2, xz or zstd: Debian's tools decode them. A failed exit fails the stream. */
function throughTool(command: string, input: Readable, failure: (tool: string, why: string) => string): Readable {
  const child = spawn(command, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = new PassThrough();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-1000)));
  // A missing tool is the host's fault, not the client's.
  child.on('error', (err) => out.destroy(new EngineError('internal', `${command}-compressed input: cannot run ${command}: ${err.message}`)));
  // The tool may stop reading early on bad input; its exit status says why, not the broken pipe.
  child.stdin.on('error', () => undefined);
  input.on('error', (err) => {
    child.kill();
    out.destroy(err);
  });
  input.pipe(child.stdin);
  child.stdout.pipe(out, { end: false });
  child.on('close', (code) => (code === 0 ? out.end() : out.destroy(invalid(failure(command, stderr.trim() || `exit status ${code}`)))));
  out.on('close', () => child.exitCode === null && child.kill());
  return out;
}
