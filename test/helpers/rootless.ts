// Rootless berth as the tests drive it: a throwaway user made by the test (useradd gives it a subuid and
// subgid range), berth serve started as that user with its per-user defaults, and the real docker CLI
// and podman --remote run as the user against its socket. destroy() takes it all away again.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { chmod, mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAIN, type Result, httpOn, run } from './engine.js';

const PATH = '/usr/local/bin:/usr/bin:/bin';

// The test user runs the checkout's dist/ and node_modules. A checkout under a directory others cannot
// enter (CI's clone under /root) is bind-mounted where they can, while a test user exists.
const CHECKOUT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
let shared: { dir: string; users: number } | undefined;

function reachable(path: string): boolean {
  for (let p = path; p !== '/'; p = dirname(p)) if ((statSync(p).mode & 0o001) === 0) return false;
  return true;
}

async function shareCheckout(): Promise<void> {
  if (shared) {
    shared.users++;
    return;
  }
  if (reachable(CHECKOUT)) {
    shared = { dir: CHECKOUT, users: 1 };
    return;
  }
  const dir = await mkdtemp('/var/tmp/berth-rl-checkout-');
  await chmod(dir, 0o755);
  await must('mount', ['--bind', '-o', 'ro', CHECKOUT, dir]);
  shared = { dir, users: 1 };
}

async function unshareCheckout(): Promise<void> {
  if (!shared || --shared.users > 0) return;
  const { dir } = shared;
  shared = undefined;
  if (dir === CHECKOUT) return;
  await run('umount', ['-l', dir]);
  await rm(dir, { recursive: true, force: true });
}

/** dist/server/main.js as the test user reaches it. */
export function rootlessMain(): string {
  return join(shared?.dir ?? CHECKOUT, relative(CHECKOUT, MAIN));
}

export class RootlessUser {
  private constructor(
    readonly name: string,
    readonly uid: number,
    readonly gid: number,
    readonly home: string,
    readonly subuid: { start: number; count: number },
  ) {}

  get runtimeDir(): string {
    return `/run/user/${this.uid}`;
  }

  /** A new user `<prefix><random>` with subordinate ids, a runtime dir and use of /dev/net/tun. */
  static async create(prefix = 'brl'): Promise<RootlessUser> {
    const name = `${prefix}${randomBytes(3).toString('hex')}`;
    await shareCheckout();
    await must('useradd', ['-m', '-s', '/bin/sh', name]);
    const id = (flag: string) => must('id', [flag, name]).then((s) => Number(s.trim()));
    const [uid, gid] = [await id('-u'), await id('-g')];
    let line = (await readFile('/etc/subuid', 'utf8')).split('\n').find((l) => l.startsWith(`${name}:`));
    if (!line) {
      // useradd adds ranges only where login.defs says so: add one past every range in use.
      const used = (await readFile('/etc/subuid', 'utf8')).split('\n').map((l) => l.split(':').map(Number));
      const start = Math.max(100000, ...used.filter((f) => f.length === 3).map(([, s, c]) => s! + c!));
      await must('usermod', ['--add-subuids', `${start}-${start + 65535}`, '--add-subgids', `${start}-${start + 65535}`, name]);
      line = `${name}:${start}:65536`;
    }
    const [, start, count] = line.split(':').map(Number);
    const user = new RootlessUser(name, uid, gid, `/home/${name}`, { start: start!, count: count! });
    await must('install', ['-d', '-m', '0700', '-o', name, '-g', String(gid), user.runtimeDir]);
    // As udev's 0666 would on a desktop: slirp4netns opens the tun device as the user.
    await run('setfacl', ['-m', `u:${uid}:rw`, '/dev/net/tun']);
    return user;
  }

  env(extra: Record<string, string> = {}): string[] {
    const vars = { HOME: this.home, USER: this.name, LOGNAME: this.name, XDG_RUNTIME_DIR: this.runtimeDir, PATH, ...extra };
    return Object.entries(vars).map(([k, v]) => `${k}=${v}`);
  }

  /** `cmd args` as the user, in their home, with a login's environment (and `env` on top). */
  run(cmd: string, args: string[], o: { input?: string | Buffer; env?: Record<string, string> } = {}): Promise<Result> {
    return run('runuser', ['-u', this.name, '--', 'env', '-i', ...this.env(o.env), cmd, ...args], { input: o.input, cwd: this.home });
  }

  /** Every process of the user: its uid, its subordinate ids, or inside a user namespace it owns. */
  async processes(): Promise<number[]> {
    const pids: number[] = [];
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? -1);
      if (uid === this.uid || (uid >= this.subuid.start && uid < this.subuid.start + this.subuid.count)) pids.push(Number(entry));
    }
    return pids;
  }

  async killAll(): Promise<void> {
    for (let i = 0; i < 50; i++) {
      const pids = await this.processes();
      if (pids.length === 0) return;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async destroy(): Promise<void> {
    await this.killAll();
    // The pause's mount namespace held every overlay and netns mount; they went with it. Any mount the
    // host sees under the user's dirs (none expected) goes too.
    const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((m): m is string => !!m && (m.startsWith(this.home) || m.startsWith(this.runtimeDir)));
    for (const m of mounts.reverse()) await run('umount', ['-l', m]);
    // The tun device's ACL, and /dev/fuse's where a test gave it (fuse-overlayfs).
    for (const dev of ['/dev/net/tun', '/dev/fuse']) await run('setfacl', ['-x', `u:${this.uid}`, dev]);
    await run('userdel', ['-r', '-f', this.name]);
    await run('sed', ['-i', `/^${this.name}:/d`, '/etc/subuid', '/etc/subgid']);
    await rm(this.runtimeDir, { recursive: true, force: true });
    await rm(`/tmp/berth-run-${this.uid}`, { recursive: true, force: true });
    await rm(this.home, { recursive: true, force: true });
    await unshareCheckout();
  }
}

export class RootlessEngine {
  private err = '';
  private launcher?: ChildProcess;
  pid = 0;

  private constructor(
    readonly user: RootlessUser,
    readonly socket: string,
    readonly root: string,
    readonly runRoot: string,
  ) {}

  /** `berth serve` as the user with its per-user defaults (plus `args`); resolves once it answers. */
  static async start(user: RootlessUser, o: { args?: string[]; env?: Record<string, string> } = {}): Promise<RootlessEngine> {
    const runRoot = join(user.runtimeDir, 'berth');
    const engine = new RootlessEngine(user, join(runRoot, 'berth.sock'), join(user.home, '.local/share/berth'), runRoot);
    engine.options = o;
    await engine.restart();
    return engine;
  }

  /** A new user (RootlessUser.create(prefix)) and its engine, with `load`'s archive loaded; the user goes if the engine fails. */
  static async forNewUser(
    prefix: string,
    o: { load?: string; env?: Record<string, string>; before?: (user: RootlessUser) => Promise<unknown> } = {},
  ): Promise<RootlessEngine> {
    const user = await RootlessUser.create(prefix);
    try {
      await o.before?.(user);
      const engine = await RootlessEngine.start(user, { env: o.env });
      if (o.load) await engine.load(o.load);
      return engine;
    } catch (err) {
      await user.destroy();
      throw err;
    }
  }

  /** destroy(), then the user too (forNewUser's counterpart). */
  async destroyWithUser(): Promise<void> {
    await this.destroy();
    await this.user.destroy();
  }

  stderr(): string {
    return this.err;
  }

  private options: { args?: string[]; env?: Record<string, string> } = {};

  /** Starts the engine again (after stop or kill9): the same user, paths and namespace, and options unless given others. */
  async restart(o: { args?: string[]; env?: Record<string, string> } = this.options): Promise<void> {
    this.err = '';
    const child = spawn(
      'runuser',
      ['-u', this.user.name, '--', 'env', '-i', ...this.user.env(o.env), process.execPath, rootlessMain(), 'serve', ...(o.args ?? [])],
      {
        cwd: this.user.home,
        stdio: ['ignore', 'inherit', 'pipe'],
      },
    );
    this.launcher = child;
    child.stderr!.on('data', (d: Buffer) => (this.err += d.toString()));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`rootless berth exited ${child.exitCode}: ${this.err}`);
      const up = await httpOn(this.socket, 'GET', '/_ping').then(
        (r) => r.status === 200,
        () => false,
      );
      // The engine writes berth.pid just after it starts listening: wait for that too.
      const pid = up ? await readFile(join(this.runRoot, 'berth.pid'), 'utf8').catch(() => '') : '';
      if (pid.trim()) {
        this.pid = Number(pid.trim());
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`rootless berth did not start: ${this.err}`);
  }

  /** The pause process's pid (it holds the user and mount namespaces). */
  async pausePid(): Promise<number> {
    return Number((await readFile(join(this.runRoot, 'pause.pid'), 'utf8')).trim());
  }

  /** The user namespace a process is in, as /proc names it (user:[N]). */
  static userns(pid: number): Promise<string> {
    return readlink(`/proc/${pid}/ns/user`);
  }

  docker(args: string[], o: { input?: string | Buffer; env?: Record<string, string> } = {}): Promise<Result> {
    return this.user.run('docker', args, { input: o.input, env: { DOCKER_HOST: `unix://${this.socket}`, ...o.env } });
  }

  podman(args: string[], o: { input?: string | Buffer; env?: Record<string, string> } = {}): Promise<Result> {
    return this.user.run('podman', ['--remote', '--url', `unix://${this.socket}`, ...args], { input: o.input, env: o.env });
  }

  /** `berth unshare -- args` as the user. */
  unshare(args: string[]): Promise<Result> {
    return this.user.run(process.execPath, [rootlessMain(), 'unshare', '--', ...args]);
  }

  /** docker's stdout; throws with its stderr when it fails. */
  async ok(args: string[], o: { input?: string | Buffer } = {}): Promise<string> {
    const r = await this.docker(args, o);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  }

  /** `docker load` of an archive only root may read: piped in. */
  async load(archive: string): Promise<string> {
    return this.ok(['load'], { input: await readFile(archive) });
  }

  /** SIGKILL to the engine (and its launcher): containers, conmons and the pause stay. */
  async kill9(): Promise<void> {
    for (const pid of [this.pid, this.launcher?.pid]) {
      try {
        if (pid) process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await this.exited();
  }

  /** SIGTERM through the launcher, as systemd or a terminal stops it. */
  async stop(): Promise<void> {
    this.launcher?.kill('SIGTERM');
    await this.exited();
  }

  private async exited(): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const alive = [this.pid].some((pid) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      });
      if (!alive && (this.launcher?.exitCode !== null || this.launcher.signalCode !== null)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The engine, its containers and the pause: everything of the user's (the user stays). */
  async destroy(): Promise<void> {
    await this.user.killAll();
    await this.exited();
  }
}

/** Output with each line's runs of blanks made one (uid_map columns, ls -ln), trimmed: to compare engines' output. */
export const squeeze = (text: string): string =>
  text
    .trim()
    .split('\n')
    .map((l) => l.replace(/\s+/g, ' ').trim())
    .join('\n');

async function must(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/**
 * Rootless podman itself as the user (the oracle of the rootless tests): podman's defaults (crun,
 * systemd, journald) do not run as a user on this VM, so its containers.conf names runc, cgroupfs and
 * file events.
 */
export async function configurePodman(user: RootlessUser): Promise<void> {
  const dir = `${user.home}/.config/containers`;
  await run('install', ['-d', '-o', user.name, '-g', String(user.gid), `${user.home}/.config`, dir]);
  await writeFile(`${dir}/containers.conf`, '[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n');
  await run('chown', [`${user.name}:${user.gid}`, `${dir}/containers.conf`]);
}
