// A build context from what the user uploaded: a tar (plain or compressed) goes as it is; anything else
// is taken as a lone Dockerfile and wrapped into a one-file tar here, in the browser.

/** Whether the bytes are an archive dockerd reads as a context: gzip, bzip2, xz or a ustar tar. */
export function isArchive(head: Uint8Array): boolean {
  const starts = (...b: number[]) => b.every((v, i) => head[i] === v);
  if (starts(0x1f, 0x8b) || starts(0x42, 0x5a, 0x68) || starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return true;
  return new TextDecoder().decode(head.subarray(257, 262)) === 'ustar';
}

/** The context to POST to /build for an uploaded file. */
export async function buildContext(file: Blob): Promise<Blob> {
  const data = new Uint8Array(await file.arrayBuffer());
  if (isArchive(data)) return file;
  return new Blob([tar([{ name: 'Dockerfile', data }])], { type: 'application/x-tar' });
}

export interface TarEntry {
  name: string;
  data: Uint8Array;
  mode?: number;
}

/** A ustar archive of regular files (names up to 100 bytes). */
export function tar(entries: TarEntry[]): Uint8Array<ArrayBuffer> {
  const blocks = (n: number) => Math.ceil(n / 512) * 512;
  const size = entries.reduce((sum, e) => sum + 512 + blocks(e.data.length), 0) + 1024;
  const out = new Uint8Array(size);
  const enc = new TextEncoder();
  let at = 0;
  for (const e of entries) {
    const header = out.subarray(at, at + 512);
    const put = (offset: number, text: string) => header.set(enc.encode(text), offset);
    const octal = (offset: number, width: number, n: number) => put(offset, `${n.toString(8).padStart(width - 1, '0')}\0`);
    put(0, e.name.slice(0, 100));
    octal(100, 8, e.mode ?? 0o644);
    octal(108, 8, 0);
    octal(116, 8, 0);
    octal(124, 12, e.data.length);
    octal(136, 12, Math.floor(Date.now() / 1000));
    put(148, '        ');
    put(156, '0');
    put(257, 'ustar\u000000');
    const sum = header.reduce((s, b) => s + b, 0);
    put(148, `${sum.toString(8).padStart(6, '0')}\0 `);
    out.set(e.data, at + 512);
    at += 512 + blocks(e.data.length);
  }
  return out;
}
