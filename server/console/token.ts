// The console's token: 32 random bytes in hex, written to <run-root>/console-token (0600, root's alone)
// and compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';

export function newToken(): string {
  return randomBytes(32).toString('hex');
}

/** Written beside and renamed: the file is 0600 from its first byte, whatever was there before. */
export async function writeTokenFile(path: string, token: string): Promise<void> {
  const tmp = `${path}.tmp`;
  await rm(tmp, { force: true });
  await writeFile(tmp, `${token}\n`, { mode: 0o600, flag: 'wx' });
  await rename(tmp, path);
}

/** Whether `given` is the token; digests first, so neither the content nor the length leaks in timing. */
export function tokenMatches(token: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(token), digest(given));
}
