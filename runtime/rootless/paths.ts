// Where a rootless engine keeps things by default: the user's runtime dir for what lives until reboot
// (socket, run root), the user's data dir for what persists (root), as podman's rootless defaults.
import { existsSync, lstatSync } from 'node:fs';
import { join } from 'node:path';

export interface RootlessPaths {
  socket: string;
  root: string;
  runRoot: string;
}

/** $XDG_RUNTIME_DIR when it is a directory of ours, else /tmp/berth-run-<uid> (as podman's /tmp fallback). */
export function runtimeDir(env: NodeJS.ProcessEnv, uid: number): string | undefined {
  const xdg = env.XDG_RUNTIME_DIR;
  if (!xdg) return undefined;
  try {
    const st = lstatSync(xdg);
    return st.isDirectory() && st.uid === uid ? xdg : undefined;
  } catch {
    return undefined;
  }
}

export function rootlessPaths(env: NodeJS.ProcessEnv, uid: number, home: string): RootlessPaths {
  const rt = runtimeDir(env, uid);
  const runRoot = rt ? join(rt, 'berth') : `/tmp/berth-run-${uid}`;
  const data = env.XDG_DATA_HOME || join(home, '.local/share');
  return { socket: join(runRoot, 'berth.sock'), root: join(data, 'berth'), runRoot };
}

/**
 * The user's own registry configuration, where it exists, as podman rootless reads
 * ~/.config/containers/registries.conf and a rootless dockerd ~/.config/docker/certs.d: BERTH_* values,
 * so flags and the user's own variables still win.
 */
export function userRegistryConfig(env: NodeJS.ProcessEnv, home: string): Record<string, string> {
  const config = env.XDG_CONFIG_HOME || join(home, '.config');
  const found: Record<string, string> = {};
  const conf = join(config, 'containers/registries.conf');
  const certs = join(config, 'docker/certs.d');
  if (!env.BERTH_REGISTRIES_CONF && existsSync(conf)) found.BERTH_REGISTRIES_CONF = conf;
  if (!env.BERTH_CERTS_DIR && existsSync(certs)) found.BERTH_CERTS_DIR = certs;
  return found;
}
