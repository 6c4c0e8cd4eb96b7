// Where the engine listens: its own Unix socket, or one systemd passed in (socket activation).
import { createConnection, type Server } from 'node:net';
import { chmod, chown, lstat, mkdir, readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { execFile } from 'node:child_process';

/** The fd systemd passed (LISTEN_FDS), when it was meant for this process. */
export function activationFd(env = process.env): number | undefined {
  if (!env.LISTEN_FDS || Number(env.LISTEN_PID) !== process.pid) return undefined;
  const count = Number(env.LISTEN_FDS);
  if (!Number.isInteger(count) || count < 1) return undefined;
  // Children must not think the socket is theirs.
  delete env.LISTEN_FDS;
  delete env.LISTEN_PID;
  delete env.LISTEN_FDNAMES;
  return 3;
}

/** Whether something answers on a Unix socket path: a live engine is never replaced. */
function socketIsLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/** Clears the way for a socket at `path`: a stale file of a crashed engine goes, a live socket stays. */
export async function prepareSocketPath(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  const stat = await lstat(path).catch(() => undefined);
  if (!stat) return;
  if (!stat.isSocket()) throw new Error(`${path} exists and is not a socket; refusing to replace it`);
  if (await socketIsLive(path)) throw new Error(`another engine is already listening on ${path}`);
  await unlink(path);
}

/**
 * 0660, group `berth` when that group exists (its members may use the engine), else root's. A rootless
 * engine's socket is the user's alone (0600): its group means nothing to the engine's user namespace.
 */
export async function secureSocket(path: string, o: { ownerOnly?: boolean } = {}): Promise<void> {
  if (o.ownerOnly) return chmod(path, 0o600);
  const groups = await readFile('/etc/group', 'utf8').catch(() => '');
  const gid = /^berth:[^:]*:(\d+):/m.exec(groups)?.[1];
  if (gid !== undefined) await chown(path, process.getuid?.() ?? 0, Number(gid));
  await chmod(path, 0o660);
}

export function listen(server: Server, target: { fd: number } | { path: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(target, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Tells systemd we are ready (Type=notify). Node has no datagram Unix sockets, so systemd-notify sends it.
 * The main PID it names is the process systemd started: a rootless engine's launcher (its parent's
 * parent, which systemd sees exit), not the engine, whose exit systemd would never see.
 */
export function notifyReady(env = process.env): Promise<void> {
  if (!env.NOTIFY_SOCKET) return Promise.resolve();
  return new Promise((resolve) => {
    execFile('systemd-notify', ['--ready', `--pid=${env.BERTH_LAUNCHER_PID || process.pid}`], { env }, () => resolve());
  });
}

/**
 * Calls onIdle once no connection has been open and no request in flight for `seconds`, and `busy`
 * (work that runs only in the engine, such as healthchecks) is false then; while busy it looks again
 * every `seconds`. Socket activation starts the engine again on the next connection.
 */
export function watchIdle(server: Server, seconds: number, onIdle: () => void, busy: () => boolean = () => false): void {
  let open = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    if (open === 0) timer = setTimeout(() => (busy() ? arm() : onIdle()), seconds * 1000);
  };
  server.on('connection', (socket) => {
    open++;
    clearTimeout(timer);
    socket.once('close', () => {
      open--;
      arm();
    });
  });
  arm();
}
