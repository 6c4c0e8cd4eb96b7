// systemd/user/berth.{socket,service}: the per-user units of a rootless berth: `systemd-analyze --user
// verify` as the user, and the service's ExecStart run under systemd-socket-activate as the user, as the
// user manager would run it (fd 3 = the socket, LISTEN_PID/LISTEN_FDS, NOTIFY_SOCKET, XDG_RUNTIME_DIR),
// through the launcher that re-runs the engine in its pause namespace. test/rootless/user-manager.test.ts
// runs them under a real `systemd --user`.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, copyFile, mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RootlessUser, rootlessMain } from '../helpers/rootless.js';
import { execArgv, unitValues } from '../helpers/units.js';

const UNITS = fileURLToPath(new URL('../../systemd/user/', import.meta.url));
const NAMES = ['berth.socket', 'berth.service'];

let user: RootlessUser;
let dir: string; // the units where the user can read them

beforeAll(async () => {
  user = await RootlessUser.create('rlsd');
  dir = await mkdtemp('/tmp/berth-user-units-');
  await chmod(dir, 0o755);
  for (const name of NAMES) await copyFile(join(UNITS, name), join(dir, name));
});

afterAll(async () => {
  await user?.destroy(); // the pause and any engine go with the user's processes
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** `systemd-analyze --user verify` as the user: clean is exit 0 and nothing said (unknown keys are only warnings). */
const verify = (files: string[]) => user.run('systemd-analyze', ['--user', 'verify', '--man=no', ...files], { env: { SYSTEMD_LOG_COLOR: '0' } });

describe('the user units', () => {
  it('pass systemd-analyze --user verify, silently', async () => {
    const r = await verify(NAMES.map((n) => join(dir, n)));
    expect({ code: r.code, said: r.stdout + r.stderr }).toEqual({ code: 0, said: '' });
  });

  it('a broken copy does not (the check can fail)', async () => {
    const text = (await readFile(join(dir, 'berth.service'), 'utf8')).replace('KillMode=process', 'KillMode=bogus');
    const broken = join(dir, 'broken.service');
    await writeFile(broken, text);
    const r = await verify([broken]);
    expect(r.stdout + r.stderr).toContain('Failed to parse kill mode specification, ignoring: bogus');
  });

  it('say what a rootless berth needs: the per-user socket, the user’s alone, notify, containers outliving the engine', async () => {
    const socket = await readFile(join(dir, 'berth.socket'), 'utf8');
    const service = await readFile(join(dir, 'berth.service'), 'utf8');
    expect(unitValues(socket, 'ListenStream')).toEqual(['%t/berth/berth.sock']);
    expect(unitValues(socket, 'SocketMode')).toEqual(['0600']);
    expect(unitValues(socket, 'DirectoryMode')).toEqual(['0700']);
    expect(unitValues(service, 'Type')).toEqual(['notify']);
    expect(unitValues(service, 'KillMode')).toEqual(['process']);
    // Per-user defaults: no root or run root of the system engine's.
    expect(service).not.toMatch(/BERTH_ROOT|\/var\/lib\/berth|\/run\/berth/);
    expect(unitValues(service, 'WantedBy')).toEqual(['default.target']);
  });
});

describe('socket activation as the user', () => {
  let activator: ChildProcess | undefined;
  let notify: ChildProcess | undefined;
  afterAll(() => {
    activator?.kill('SIGKILL');
    notify?.kill('SIGKILL');
  });

  it('the service’s ExecStart serves the socket it is passed, from the pause namespace, tells NOTIFY_SOCKET it is ready, exits when idle', async () => {
    const service = await readFile(join(dir, 'berth.service'), 'utf8');
    const socketPath = join(user.runtimeDir, 'berth/berth.sock');
    // `/usr/bin/env berth serve --idle-exit 600` with this checkout's berth, and a short idle time.
    const argv = execArgv(unitValues(service, 'ExecStart')[0]!, { t: user.runtimeDir, n: 'berth.service' });
    expect(argv.slice(0, 3)).toEqual(['/usr/bin/env', 'berth', 'serve']);
    const command = [process.execPath, rootlessMain(), ...argv.slice(2).map((a) => (a === '600' ? '3' : a))];
    // The notify socket the user manager would give: a datagram listener as the user.
    const notifySocket = join(user.runtimeDir, 'notify.sock');
    notify = spawn('runuser', [
      '-u',
      user.name,
      '--',
      'env',
      '-i',
      ...user.env(),
      'python3',
      '-c',
      'import socket,sys\ns=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint("bound", flush=True)\nwhile True: print(s.recv(4096).decode().replace("\\n", " "), flush=True)',
      notifySocket,
    ]);
    let notified = '';
    notify.stdout!.on('data', (d: Buffer) => (notified += d.toString()));
    for (let i = 0; i < 100 && !notified.includes('bound'); i++) await new Promise((r) => setTimeout(r, 50));
    // DirectoryMode=0700: systemd makes the socket's directory; systemd-socket-activate does not.
    expect((await user.run('mkdir', ['-p', '-m', '0700', join(user.runtimeDir, 'berth')])).code).toBe(0);
    // The user manager's environment for its services: XDG_RUNTIME_DIR, HOME, PATH (-E passes them on).
    activator = spawn(
      'runuser',
      [
        '-u',
        user.name,
        '--',
        'env',
        '-i',
        ...user.env({ NOTIFY_SOCKET: notifySocket }),
        'systemd-socket-activate',
        '-l',
        socketPath,
        ...['XDG_RUNTIME_DIR', 'HOME', 'PATH', 'USER', 'NOTIFY_SOCKET'].flatMap((v) => ['-E', v]),
        '--',
        ...command,
      ],
      { cwd: user.home, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    activator.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    for (let i = 0; i < 100 && !(await stat(socketPath).catch(() => undefined)); i++) await new Promise((r) => setTimeout(r, 50));
    // The first connection starts the engine.
    const dockerEnv = { env: { DOCKER_HOST: `unix://${socketPath}` } };
    const info = await user.run('docker', ['info', '--format', '{{json .SecurityOptions}}'], dockerEnv);
    expect({ code: info.code, err: info.stderr }).toEqual({ code: 0, err: '' });
    expect(info.stdout).toContain('name=rootless');
    expect(stderr).toContain(`berth: rootless as ${user.name} (uid ${user.uid}): socket ${socketPath}`);
    expect(stderr).toContain('serving on fd 3 (socket activation)');
    for (let i = 0; i < 100 && !notified.includes('READY=1'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(notified).toContain('READY=1');
    // The engine runs in the pause's user namespace; the pause outlives it (KillMode=process keeps it).
    const pidIn = async (file: string) => Number((await readFile(join(user.runtimeDir, 'berth', file), 'utf8')).trim());
    const pause = await pidIn('pause.pid');
    const served = await pidIn('berth.pid');
    expect(await readlink(`/proc/${served}/ns/user`)).toBe(await readlink(`/proc/${pause}/ns/user`));
    expect(await readlink(`/proc/${served}/ns/user`)).not.toBe(await readlink('/proc/self/ns/user'));
    const [code] = (await Promise.race([
      once(activator, 'exit'),
      new Promise((_, no) => setTimeout(() => no(new Error(`no idle exit: ${stderr}`)), 20_000)),
    ])) as [number];
    expect(code).toBe(0);
    expect(stderr).toContain('idle for 3s');
    expect(() => process.kill(pause, 0)).not.toThrow();
  });
});
