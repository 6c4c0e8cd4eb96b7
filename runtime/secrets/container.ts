// A container's secrets at start: each mount-type secret copied into the bundle (its owner and mode as
// asked) and bound read-only at /run/secrets/<target>, each env-type one a variable of the process.
// Copies, not binds of the store's file: the mode and owner are the container's, and a secret removed
// while the container runs is not pulled from under it.
import { chmod, chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { invalid } from '../errors.js';
import type { SecretSpec } from '../containers/spec.js';

/** Where secrets come from: the store (secrets/store.ts). */
export interface SecretSource {
  data(ref: string): Promise<Buffer>;
}

export interface OciBind {
  destination: string;
  type: 'bind';
  source: string;
  options: string[];
}

/** Where a mount-type secret appears in the container. */
export function secretDestination(s: Pick<SecretSpec, 'target' | 'name'>): string {
  const target = s.target || s.name;
  const path = posix.normalize(posix.isAbsolute(target) ? target : posix.join('/run/secrets', target));
  if (target.split('/').includes('..') || path === '/') throw invalid(`invalid secret target ${target}`);
  return path;
}

/** The files (under `bundle`/secrets) and variables of a container's secrets, made afresh each start. */
export async function materializeSecrets(source: SecretSource, bundle: string, secrets: SecretSpec[]): Promise<{ env: string[]; mounts: OciBind[] }> {
  const env: string[] = [];
  const mounts: OciBind[] = [];
  if (secrets.length === 0) return { env, mounts };
  const dir = join(bundle, 'secrets');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { mode: 0o700 });
  for (const [i, s] of secrets.entries()) {
    const data = await source.data(s.id).catch((err: Error) => {
      throw invalid(`secret ${s.name}: ${err.message}`);
    });
    if (s.type === 'env') {
      env.push(`${s.target || s.name}=${data.toString('utf8')}`);
      continue;
    }
    const file = join(dir, String(i));
    await writeFile(file, data, { mode: 0o400 });
    await chown(file, s.uid ?? 0, s.gid ?? 0);
    await chmod(file, s.mode ?? 0o444); // not through the umask
    mounts.push({ destination: secretDestination(s), type: 'bind', source: file, options: ['rbind', 'ro', 'rprivate'] });
  }
  return { env, mounts };
}
