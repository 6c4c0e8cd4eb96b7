// A raw client of the hijacked attach/exec stream: the Upgrade request, stdin then half-close, and the
// 8-byte framed output parsed back into frames.
import { connect } from 'node:net';

export interface HijackResult {
  head: string;
  body: Buffer;
  frames: { stream: number; data: string }[];
}

export function parseFrames(body: Buffer): { stream: number; data: string }[] {
  const frames: { stream: number; data: string }[] = [];
  for (let at = 0; at + 8 <= body.length; ) {
    const size = body.readUInt32BE(at + 4);
    frames.push({ stream: body[at]!, data: body.subarray(at + 8, at + 8 + size).toString() });
    at += 8 + size;
  }
  return frames;
}

/**
 * POSTs `path` with the Upgrade headers, sends `stdin` (several writes 300 ms apart when a list) and
 * half-closes (unless `keepOpen`), reads to the end.
 */
export function hijack(
  socketPath: string,
  path: string,
  body = '',
  stdin?: Buffer | Buffer[],
  o: { keepOpen?: boolean; timeoutMs?: number } = {},
): Promise<HijackResult> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`hijack ${path}: no end after ${o.timeoutMs ?? 15000} ms; got ${Buffer.concat(chunks).toString()}`));
    }, o.timeoutMs ?? 15_000);
    socket.on('connect', () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: berth\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n${body}`,
      );
      void (async () => {
        for (const [i, chunk] of (Array.isArray(stdin) ? stdin : stdin ? [stdin] : []).entries()) {
          if (i > 0) await new Promise((r) => setTimeout(r, 300));
          socket.write(chunk);
        }
        if (!o.keepOpen) socket.end();
      })();
    });
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      const head = all.subarray(0, split + 4).toString();
      const rest = all.subarray(split + 4);
      resolve({ head, body: rest, frames: parseFrames(rest) });
    });
  });
}
