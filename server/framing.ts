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
