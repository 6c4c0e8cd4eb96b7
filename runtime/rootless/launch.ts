// A normal user's `berth serve` (and `berth unshare`): find or start the pause namespace, then run the
// engine (or the command) inside it through nsenter. Node cannot setns into a user namespace (it is
// multi-threaded from the start), so the engine is a child born inside; this process stays as its
// parent, passing on signals and the exit status, as a terminal and systemd expect of `berth serve`.
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { constants, userInfo } from 'node:os';
import { ensurePause } from './pause.js';
import { type RootlessPaths, rootlessPaths, userRegistryConfig } from './paths.js';
import { subIdRanges } from './subids.js';

/** Whether this process must re-run itself in the pause namespace: not root, not inside already. */
export function needsPause(): boolean {
  return (process.getuid?.() ?? 0) !== 0 && process.env.BERTH_ROOTLESS !== '1';
}

export interface Launch {
  paths: RootlessPaths;
  pause: number;
  user: { name: string; uid: number; gid: number };
}

/** The user, their default paths (flags or BERTH_* variables win), and the pause namespace's pid. */
export function preparePause(given: Partial<RootlessPaths>): Launch {
  const info = userInfo();
  const user = { name: info.username, uid: info.uid, gid: info.gid };
  const defaults = rootlessPaths(process.env, user.uid, info.homedir);
  const paths = {
    socket: given.socket || process.env.BERTH_SOCKET || defaults.socket,
    root: given.root || process.env.BERTH_ROOT || defaults.root,
    runRoot: given.runRoot || process.env.BERTH_RUN_ROOT || defaults.runRoot,
  };
  const ids = subIdRanges(user);
  return { paths, pause: ensurePause(paths.runRoot, user.uid, ids), user };
}

// LISTEN_PID must name the process that serves (nsenter execs node in this shell's pid), and the socket
// systemd passed stays fd 3.
const JOIN = `[ -n "$LISTEN_FDS" ] && export LISTEN_PID=$$; exec nsenter --user --mount --preserve-credentials -t "$0" -- "$@"`;

/** A user's PATH may lack the sbin directories (netavark runs iptables, the engine mount and ip). */
function withSbin(path = '/usr/local/bin:/usr/bin:/bin'): string {
  const dirs = path.split(':');
  for (const d of ['/usr/local/sbin', '/usr/sbin', '/sbin']) if (!dirs.includes(d)) dirs.push(d);
  return dirs.join(':');
}

/** Runs `command` in the pause namespace as its uid 0; resolves to its exit status (128+n on a signal). */
export function runInPause(pause: number, command: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const activated = env.LISTEN_FDS !== undefined && Number(env.LISTEN_PID) === process.pid;
  const childEnv: NodeJS.ProcessEnv = { ...env, PATH: withSbin(env.PATH) };
  if (!activated) {
    delete childEnv.LISTEN_FDS;
    delete childEnv.LISTEN_PID;
  }
  const child = spawn('/bin/sh', ['-c', JOIN, String(pause), ...command], {
    stdio: activated ? ['inherit', 'inherit', 'inherit', 3] : 'inherit',
    env: childEnv,
  });
  const pass = (signal: NodeJS.Signals) => () => child.kill(signal);
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, pass(signal));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}

/** `berth serve` as a normal user: say where things are, then serve from inside the namespace. */
export async function serveRootless(argv: string[], given: Partial<RootlessPaths>): Promise<number> {
  const launch = preparePause(given);
  const { paths, user } = launch;
  process.stderr.write(`berth: rootless as ${user.name} (uid ${user.uid}): socket ${paths.socket}, root ${paths.root}, run root ${paths.runRoot}\n`);
  const env = {
    ...process.env,
    ...userRegistryConfig(process.env, userInfo().homedir),
    BERTH_ROOTLESS: '1',
    BERTH_SOCKET: paths.socket,
    BERTH_ROOT: paths.root,
    BERTH_RUN_ROOT: paths.runRoot,
    // systemd's main PID (server/listen.ts notifyReady).
    BERTH_LAUNCHER_PID: String(process.pid),
  };
  return runInPause(launch.pause, [process.execPath, process.argv[1]!, 'serve', ...argv], env);
}

/** `berth unshare [CMD...]`: CMD (default the user's shell) as uid 0 of the engine's namespace. */
export async function unshare(command: string[], given: Partial<RootlessPaths>): Promise<number> {
  const launch = preparePause(given);
  const cmd = command.length > 0 ? command : [process.env.SHELL || '/bin/sh'];
  // As `podman unshare` sets CONTAINERS_GRAPHROOT/RUNROOT: scripts find the engine's files.
  const env = { ...process.env, BERTH_ROOT: launch.paths.root, BERTH_RUN_ROOT: launch.paths.runRoot };
  return runInPause(launch.pause, cmd, env);
}

/**
 * `berth serve` or `berth unshare` run by a normal user outside the namespace: the launcher's whole job,
 * resolving to the exit status; undefined for every other command and user. dist/server/main.js calls
 * this before it loads the engine's bundle, so the process left waiting holds none of it.
 */
export function launcherCommand(argv: string[]): Promise<number> | undefined {
  const [command, ...rest] = argv;
  if (!needsPause() || (command !== 'serve' && command !== 'unshare')) return undefined;
  const name = command === 'serve' ? 'berth' : 'berth unshare';
  const run = async () => {
    if (command === 'unshare') {
      const { given, cmd } = unshareArgs(rest);
      return unshare(cmd, given);
    }
    if (rest.includes('--help') || rest.includes('-h')) return runInPauseless(rest);
    const { values } = parseArgs({
      args: rest,
      strict: false,
      options: { socket: { type: 'string' }, root: { type: 'string' }, 'run-root': { type: 'string' } },
    });
    const str = (v: string | boolean | undefined) => (typeof v === 'string' ? v : undefined);
    return serveRootless(rest, { socket: str(values.socket), root: str(values.root), runRoot: str(values['run-root']) });
  };
  return run().catch((err: Error) => {
    process.stderr.write(`${name}: ${err.message}\n`);
    return 125;
  });
}

/** `serve --help` needs no namespace: the engine prints its usage. */
function runInPauseless(rest: string[]): Promise<number> {
  const child = spawn(process.execPath, [process.argv[1]!, 'serve', ...rest], { stdio: 'inherit', env: { ...process.env, BERTH_ROOTLESS: '1' } });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
}

/** `[--root DIR] [--run-root DIR] [--] [COMMAND...]`: options end at the command. */
export function unshareArgs(argv: string[]): { given: Partial<RootlessPaths>; cmd: string[] } {
  const given: Partial<RootlessPaths> = {};
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (a !== '--root' && a !== '--run-root') break;
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    given[a === '--root' ? 'root' : 'runRoot'] = v;
  }
  return { given, cmd: argv.slice(i) };
}
