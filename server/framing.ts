// Docker's stream framing: without a TTY each chunk gets an 8-byte header [stream,0,0,0,len(BE32)];
// with one, bytes go as they are.
export const STDOUT = 1;
export const STDERR = 2;

export function frame(stream: number, data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}

/**
 * Log entries as bytes on the wire: raw with a TTY, else one frame per run of entries from the same
 * stream (clients parse a byte stream; fewer, bigger frames move millions of short lines quickly).
 */
export function encodeEntries(entries: { stream: 'stdout' | 'stderr'; time: string; data: Buffer }[], o: { tty: boolean; timestamps?: boolean }): Buffer {
  const parts: Buffer[] = [];
  let header: Buffer | undefined;
  let size = 0;
  let runStream: 'stdout' | 'stderr' | undefined;
  const close = () => header?.writeUInt32BE(size, 4);
  for (const e of entries) {
    if (!o.tty && e.stream !== runStream) {
      close();
      header = Buffer.from([e.stream === 'stdout' ? STDOUT : STDERR, 0, 0, 0, 0, 0, 0, 0]);
      parts.push(header);
      size = 0;
    }
    runStream = e.stream;
    if (o.timestamps) {
      const stamp = Buffer.from(`${e.time} `);
      parts.push(stamp);
      size += stamp.length;
    }
    parts.push(e.data);
    size += e.data.length;
  }
  close();
  return Buffer.concat(parts);
}
