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
 * stream (clients parse a byte stream; fewer, bigger frames move millions of short lines quickly), or
 * with `perLine` one frame per line, as dockerd's logs (docker-py's `logs(stream=True)` yields a frame
 * at a time). Entries may hold several lines (the reader merges them): they are split here, into one
 * buffer per batch.
 */
export function encodeEntries(
  entries: { stream: 'stdout' | 'stderr'; time: string; data: Buffer }[],
  o: { tty: boolean; timestamps?: boolean; perLine?: boolean },
): Buffer {
  if (o.perLine && !o.tty) return framePerLine(entries, !!o.timestamps);
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

function framePerLine(entries: { stream: 'stdout' | 'stderr'; time: string; data: Buffer }[], timestamps: boolean): Buffer {
  // Sized first, then written into one buffer: a batch of a MiB of short lines is tens of thousands of
  // frames, and a Buffer per header would cost more than the copy.
  const stamps = timestamps ? entries.map((e) => Buffer.from(`${e.time} `)) : [];
  let total = 0;
  entries.forEach((e, i) => {
    total += e.data.length + (stamps[i]?.length ?? 0) + 8 * (timestamps ? 1 : linesIn(e.data));
  });
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  const put = (stream: number, ...payload: Buffer[]) => {
    out.writeUInt32BE(stream << 24, pos);
    out.writeUInt32BE(
      payload.reduce((n, b) => n + b.length, 0),
      pos + 4,
    );
    pos += 8;
    for (const b of payload) pos += b.copy(out, pos);
  };
  entries.forEach((e, i) => {
    const stream = e.stream === 'stdout' ? STDOUT : STDERR;
    // Timed lines are never merged by the reader: an entry is a line.
    if (timestamps) return put(stream, stamps[i]!, e.data);
    for (let at = 0; at < e.data.length; ) {
      const nl = e.data.indexOf(0x0a, at);
      const end = nl < 0 ? e.data.length : nl + 1;
      out.writeUInt32BE(stream << 24, pos);
      out.writeUInt32BE(end - at, pos + 4);
      pos += 8 + e.data.copy(out, pos + 8, at, end);
      at = end;
    }
  });
  return out;
}

/** Lines in a payload, a last one without its newline included. */
function linesIn(data: Buffer): number {
  let n = 0;
  for (let at = 0; at < data.length; n++) {
    const nl = data.indexOf(0x0a, at);
    at = nl < 0 ? data.length : nl + 1;
  }
  return n;
}
