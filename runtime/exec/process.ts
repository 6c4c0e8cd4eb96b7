// The OCI process of an exec session: the container's own process (its env, user, capabilities,
// rlimits, no_new_privileges) with the exec request's command, env, user, dir and terminal on top.
import { readFile } from 'node:fs/promises';
import { invalid } from '../errors.js';
import { type PrimaryGroup, resolveUser } from '../oci/user.js';
import { ALL_CAPABILITIES } from '../oci/defaults.js';
import type { ExecConfig } from './store.js';

interface OciProcess {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: { uid: number; gid: number; additionalGids?: number[] };
  args: string[];
  env: string[];
  cwd: string;
  capabilities?: Record<string, string[]>;
  [key: string]: unknown;
}

/** Env entries by key, later ones replacing earlier ones, in first-seen order. */
function mergeEnv(base: string[], extra: string[]): string[] {
  const out = new Map<string, string>();
  for (const e of [...base, ...extra]) out.set(e.split('=')[0]!, e);
  return [...out.values()];
}

/** `primaryGroup`: resolveUser's (`never` for a libpod container: podman's exec -u adds none). */
export async function execProcess(
  bundle: string,
  rootfs: string,
  groupAdd: string[],
  config: ExecConfig,
  primaryGroup: PrimaryGroup = 'always',
): Promise<OciProcess> {
  const spec = JSON.parse(await readFile(`${bundle}/config.json`, 'utf8')) as { process: OciProcess };
  const base = spec.process;
  const args = config.Cmd ?? [];
  if (args.length === 0) throw invalid('No exec command specified');
  let env = mergeEnv(
    base.env.filter((e) => !e.startsWith('TERM=')),
    config.Env ?? [],
  );
  if (config.Tty && !env.some((e) => e.startsWith('TERM='))) env = [...env, 'TERM=xterm'];
  let { user } = base;
  let capabilities = base.capabilities;
  if (config.User) {
    const resolved = await resolveUser(rootfs, config.User, groupAdd, { primaryGroup });
    user = { uid: resolved.uid, gid: resolved.gid, additionalGids: resolved.additionalGids.length ? resolved.additionalGids : undefined };
    env = mergeEnv(env, config.Env?.some((e) => e.startsWith('HOME=')) ? [] : [`HOME=${resolved.home || '/'}`]);
    // As for the container's process: a non-root user keeps only the bounding set.
    const bounding = base.capabilities?.bounding ?? [];
    capabilities = user.uid === 0 ? { bounding, effective: bounding, permitted: bounding } : { bounding, effective: [], permitted: [] };
  }
  if (config.Privileged) capabilities = { bounding: ALL_CAPABILITIES, effective: ALL_CAPABILITIES, permitted: ALL_CAPABILITIES };
  const [height, width] = config.ConsoleSize ?? [];
  return {
    ...base,
    terminal: !!config.Tty,
    consoleSize: config.Tty && height && width ? { height, width } : undefined,
    user,
    args,
    env,
    cwd: config.WorkingDir || base.cwd || '/',
    capabilities,
  };
}
