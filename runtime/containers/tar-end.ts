// GNU tar pads what it writes to a whole record (10 KiB) after the two zero blocks that end an archive;
// Go's archive/tar (dockerd, Podman's service) stops at the two blocks. podman --remote cp out closes
// its reader at the end marker, so padding still on its way fails the copy with "io: read/write on
// closed pipe" (after the file was written). docker cp's tars pass through here and stop at the end.
import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';

const BLOCK = 512;

/** An entry's data size from its header: octal, or base-256 (GNU, past 8 GiB) when the top bit is set. */
function entrySize(header: Buffer): number {
  const field = header.subarray(124, 136);
  if (field[0]! & 0x80) {
    let size = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) size = size * 256 + field[i]!;
    return size;
  }
  return Number.parseInt(field.toString('ascii').replace(/\0.*$/s, '').trim() || '0', 8) || 0;
}

const isZero = (block: Buffer) => block.every((b) => b === 0);

/**
 * Passes a tar stream through up to its end marker (two zero blocks) and holds back the zeros after it:
 * dropped at the end, or sent after all if anything else follows (then it was not the end).
 */
class TarEnd extends Transform {
  /** Bytes of entry data (whole blocks) still to pass before the next header. */
  private data = 0;
  /** A header block split across chunks. */
  private partial = Buffer.alloc(0);
  private zeros = 0;
  private ended = false;
  /** Zero bytes held back after the end marker: only ever padding, or they go out after all. */
  private held = 0;
  /** Something other than zeros came after the end marker: the rest passes as it comes. */
  private verbatim = false;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.verbatim) return done(null, chunk);
    if (this.ended) {
      if (isZero(chunk)) {
        this.held += chunk.length;
        return done();
      }
      // Not padding: this was no end (never seen from GNU tar); nothing is lost.
      this.verbatim = true;
      this.push(Buffer.alloc(this.held));
      return done(null, chunk);
    }
    const buf = this.partial.length ? Buffer.concat([this.partial, chunk]) : chunk;
    let at = 0;
    while (at < buf.length) {
      if (this.data > 0) {
        const n = Math.min(this.data, buf.length - at);
        this.data -= n;
        at += n;
        continue;
      }
      if (buf.length - at < BLOCK) break;
      const header = buf.subarray(at, at + BLOCK);
      at += BLOCK;
      if (isZero(header)) {
        if (++this.zeros === 2) {
          this.ended = true;
          break;
        }
        continue;
      }
      this.zeros = 0;
      this.data = Math.ceil(entrySize(header) / BLOCK) * BLOCK;
    }
    this.push(buf.subarray(0, at));
    if (this.ended) {
      this.partial = Buffer.alloc(0);
      return this._transform(buf.subarray(at), _encoding, done);
    }
    this.partial = Buffer.from(buf.subarray(at));
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.partial.length) this.push(this.partial); // not a tar after all: passed on as it came
    done();
  }
}

/** `tar` up to its end marker; destroying either side destroys the other (a tar child is killed). */
export function toTarEnd(tar: Readable): Readable {
  const end = new TarEnd();
  pipeline(tar, end, () => undefined);
  return end;
}
