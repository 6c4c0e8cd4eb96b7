// A container's root filesystem: an overlayfs of its image's layers under a private upper dir.
import { execFile } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function isMounted(path: string): Promise<boolean> {
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  return mounts.split('\n').some((line) => line.split(' ')[4] === path);
}

/** Mounts lower dirs (top first) under upper at merged; a no-op when it is mounted already. */
export async function mountOverlay(lower: string[], upper: string, work: string, merged: string): Promise<void> {
  if (await isMounted(merged)) return;
  await Promise.all([upper, work, merged].map((dir) => mkdir(dir, { recursive: true })));
  const options = `lowerdir=${lower.join(':')},upperdir=${upper},workdir=${work}`;
  // -n (no mtab), -i (no helpers), --no-canonicalize (our paths are absolute): less work per start.
  await run('mount', ['-n', '-i', '--no-canonicalize', '-t', 'overlay', 'overlay', '-o', options, merged]);
}

/** A tmpfs at path (a shareable container's /dev/shm, which others bind too); a no-op when mounted already. */
export async function mountTmpfs(path: string, options: string): Promise<void> {
  if (await isMounted(path)) return;
  await mkdir(path, { recursive: true });
  await run('mount', ['-n', '-i', '--no-canonicalize', '-t', 'tmpfs', '-o', options, 'shm', path]);
}

/** Unmounts everything stacked at path. Another process (`berth cleanup`) may be doing the same: not an error. */
export async function unmount(path: string): Promise<void> {
  for (let attempt = 0; attempt < 10 && (await isMounted(path)); attempt++) {
    await run('umount', ['-n', '-i', '-c', path]).catch(() => run('umount', ['-n', '-i', '-c', '-l', path]).catch(() => undefined));
  }
}
