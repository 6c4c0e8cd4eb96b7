// What a container did to its filesystem (docker diff) and its whole filesystem as a tar (docker export).
import { spawn } from 'node:child_process';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

export type ChangeKind = 0 | 1 | 2; // modified, added, deleted (Docker's numbering)

/** Mount points the runtime creates in the upper dir: not changes the container made. */
const RUNTIME_PATHS = new Set(['/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/dev', '/proc', '/sys', '/etc', '/sbin/docker-init', '/sbin']);

/** Walks the upper dir: whiteouts are deletions, paths a lower layer has are modifications, the rest additions. */
export async function changes(upper: string, lowers: string[]): Promise<{ Path: string; Kind: ChangeKind }[]> {
  const out: { Path: string; Kind: ChangeKind }[] = [];
  const existsBelow = async (rel: string) => {
    for (const lower of lowers) if (await lstat(join(lower, rel)).then(() => true, () => false)) return true;
    return false;
  };
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(upper, rel), { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const path = `${rel}/${entry.name}`;
      const st = await lstat(join(upper, path));
      if (st.isCharacterDevice() && st.rdev === 0) {
        out.push({ Path: path, Kind: 2 });
        continue;
      }
      const below = await existsBelow(path);
      if (!(RUNTIME_PATHS.has(path) && (entry.isDirectory() || st.size === 0))) out.push({ Path: path, Kind: below ? 0 : 1 });
      if (entry.isDirectory()) await walk(path);
    }
  };
  await walk('');
  return out.sort((a, b) => a.Path.localeCompare(b.Path));
}

/** The container's merged filesystem (mounted by the caller) as a tar stream. */
export function exportRootfs(merged: string): Readable {
  return spawn('tar', ['--numeric-owner', '--xattrs', '-C', merged, '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'ignore'] }).stdout;
}
