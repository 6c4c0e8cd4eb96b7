// Where a rootless engine keeps things by default: the user's runtime dir for what lives until reboot
// (socket, run root), the user's data dir for what persists (root), as podman's rootless defaults.
import { lstatSync } from 'node:fs';
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
