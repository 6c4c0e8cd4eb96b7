import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

const DIGEST = /^sha256:[a-f0-9]{64}$/;

export const isDigest = (s: string) => DIGEST.test(s);
export const sha256 = (data: Buffer | string) => 'sha256:' + createHash('sha256').update(data).digest('hex');
export const hex = (digest: string) => digest.slice(digest.indexOf(':') + 1);

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return 'sha256:' + hash.digest('hex');
}

/** The OCI chain ID of a layer stack: the identity of a layer together with everything below it. */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const diffId of diffIds) {
    out.push(out.length === 0 ? diffId : sha256(`${out[out.length - 1]} ${diffId}`));
  }
  return out;
}
