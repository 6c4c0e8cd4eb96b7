// A rootless berth under a real `systemd --user` on cgroup v2, as on most users' machines: the units of
// systemd/user/ started with `systemctl --user`, socket activation, idle exit and start again with
// containers running, and containers' cgroups in a scope the user manager delegated.
// This VM is not booted with systemd and its cgroups are v1 (hybrid), so the test makes the world a user
// manager expects, for its processes only: a private mount namespace where /run/systemd/system exists
// and the unified hierarchy (/sys/fs/cgroup/unified, with the one controller v1 leaves free here,
// hugetlb) is /sys/fs/cgroup, and a cgroup chowned to the user as systemd delegates user@.service's.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { access, copyFile, mkdir, readFile, readdir, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { run } from '../helpers/engine.js';
import { RootlessUser, rootlessMain } from '../helpers/rootless.js';

const UNITS = fileURLToPath(new URL('../../systemd/user/', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Where the v2 hierarchy is mounted on this host: /sys/fs/cgroup itself (v2), or beside v1 (hybrid). */
function unifiedRoot(): string | undefined {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.split(' - ')[1]?.startsWith('cgroup2 '))
    .map((l) => l.split(' ')[4]!);
  return points.includes('/sys/fs/cgroup') ? '/sys/fs/cgroup' : points[0];
}

/** A user manager for `user`, in a cgroup delegated to it; stop() takes it and the cgroup away. */
class UserManager {
  private proc?: ChildProcess;
  private enabled: string[] = [];
  private log = '';
  private madeRunSystemd = false;

  private constructor(
    readonly user: RootlessUser,
    readonly root: string,
    readonly cgroup: string,
  ) {}

  static async start(user: RootlessUser, root: string): Promise<UserManager> {
    const name = `berth-test-${user.name}`;
    const m = new UserManager(user, root, name);
    // The controllers v1 left to v2, enabled for children as systemd enables them for user.slice.
    const free = (await readFile(join(root, 'cgroup.controllers'), 'utf8')).split(/\s+/).filter(Boolean);
    const on = (await readFile(join(root, 'cgroup.subtree_control'), 'utf8')).split(/\s+/).filter(Boolean);
    for (const c of free.filter((c) => !on.includes(c))) {
      await writeFile(join(root, 'cgroup.subtree_control'), `+${c}`);
      m.enabled.push(c);
    }
    const dir = join(root, name);
    await mkdir(dir);
    // What Delegate=yes chowns (systemd's cgroup_delegate_xattrs and unit_cgroup_delegate_files).
    for (const f of ['', 'cgroup.procs', 'cgroup.subtree_control', 'cgroup.threads']) await run('chown', [`${user.uid}:${user.gid}`, join(dir, f)]);
    // /run/systemd made (and removed by stop) where the host has none: the tmpfs over it is the namespace's.
    m.madeRunSystemd = !(await access('/run/systemd').then(
      () => true,
      () => false,
    ));
    if (m.madeRunSystemd) await mkdir('/run/systemd');
    const bind = root === '/sys/fs/cgroup' ? '' : `mount --bind ${root} /sys/fs/cgroup && `;
    const script = `mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/system && ${bind}echo $$ > /sys/fs/cgroup/${name}/cgroup.procs && exec runuser -u ${user.name} -- env -i ${user.env().join(' ')} /lib/systemd/systemd --user`;
    m.proc = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    m.proc.stdout!.on('data', (d: Buffer) => (m.log += d.toString()));
    m.proc.stderr!.on('data', (d: Buffer) => (m.log += d.toString()));
    for (let i = 0; i < 100; i++) {
      if (
        await access(join(user.runtimeDir, 'systemd/private')).then(
          () => true,
          () => false,
        )
      )
        return m;
      if (m.proc.exitCode !== null) break;
      await sleep(100);
    }
    await m.stop();
    throw new Error(`systemd --user did not start: ${m.log}`);
  }

  systemctl(args: string[]) {
    return this.user.run('systemctl', ['--user', '--no-pager', ...args]);
  }

  async show(unit: string, property: string): Promise<string> {
    return (await this.systemctl(['show', '-P', property, unit])).stdout.trim();
  }

  /** The cgroup dirs below the delegated one that hold processes, relative to it. */
  async populated(): Promise<Map<string, number[]>> {
    const out = new Map<string, number[]>();
    const walk = async (rel: string) => {
      const dir = join(this.root, this.cgroup, rel);
      const procs = (await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number);
      if (procs.length) out.set(rel, procs);
      for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) if (e.isDirectory()) await walk(rel ? `${rel}/${e.name}` : e.name);
    };
    await walk('');
    return out;
  }

  /** The manager, every process of the user, the cgroup tree and the controllers it turned on. */
  async stop(): Promise<void> {
    this.proc?.kill('SIGKILL');
    await this.user.killAll();
    const dirs: string[] = [];
    const walk = async (dir: string) => {
      for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) if (e.isDirectory()) await walk(join(dir, e.name));
      dirs.push(dir);
    };
    await walk(join(this.root, this.cgroup));
    for (const d of dirs) {
      for (
        let i = 0;
        i < 50 &&
        (await rmdir(d).then(
          () => false,
          () =>
            stat(d).then(
              () => true,
              () => false,
            ),
        ));
        i++
      )
        await sleep(100);
    }
    for (const c of this.enabled) await writeFile(join(this.root, 'cgroup.subtree_control'), `-${c}`).catch(() => undefined);
    if (this.madeRunSystemd) await rmdir('/run/systemd').catch(() => undefined);
  }
}

const ROOT = unifiedRoot();

describe.skipIf(!ROOT)('rootless berth under systemd --user on cgroup v2', () => {
  let user: RootlessUser;
  let manager: UserManager;
  const socket = () => join(user.runtimeDir, 'berth/berth.sock');
  const docker = (args: string[], o: { input?: Buffer } = {}) => user.run('docker', args, { ...o, env: { DOCKER_HOST: `unix://${socket()}` } });
  const ok = async (args: string[]) => {
    const r = await docker(args);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  /** The engine's API as the user (curl), JSON. */
  const api = async (path: string) => JSON.parse((await user.run('curl', ['-sf', '--unix-socket', socket(), `http://d${path}`])).stdout);

  beforeAll(async () => {
    user = await RootlessUser.create('rlsu');
    try {
      // The units as a user installs them, the engine this checkout's (`berth` on PATH in real life) and a short idle time.
      const units = join(user.home, '.config/systemd/user');
      await mkdir(join(units, 'berth.service.d'), { recursive: true });
      for (const n of ['berth.socket', 'berth.service']) await copyFile(join(UNITS, n), join(units, n));
      await writeFile(
        join(units, 'berth.service.d/checkout.conf'),
        `[Service]\nExecStart=\nExecStart=${process.execPath} ${rootlessMain()} serve --idle-exit 3\n`,
      );
      await run('chown', ['-R', `${user.uid}:${user.gid}`, join(user.home, '.config')]);
      manager = await UserManager.start(user, ROOT!);
      const started = await manager.systemctl(['start', 'berth.socket']);
      expect(started.stderr).toBe('');
      // The first connection starts the service.
      await docker(['load'], { input: await readFile(inject('images').busybox.archive) });
    } catch (err) {
      await manager?.stop();
      await user.destroy();
      throw err;
    }
  });

  afterAll(async () => {
    await manager?.stop();
    await user?.destroy();
  });

  it('starts berth.service on the socket’s first connection, the launcher as its main process', async () => {
    expect(await manager.show('berth.service', 'ActiveState')).toBe('active');
    const main = Number(await manager.show('berth.service', 'MainPID'));
    // The launcher (systemd's child, which it sees exit), not the engine inside the namespace.
    expect((await readFile(`/proc/${main}/cmdline`, 'utf8')).split('\0')).toContain('serve');
    const engine = Number((await readFile(join(user.runtimeDir, 'berth/berth.pid'), 'utf8')).trim());
    expect(main).not.toBe(engine);
    expect((await readFile(`/proc/${engine}/status`, 'utf8')).match(/^PPid:\s+(\d+)/m)?.[1]).not.toBe('1');
  });

  it('puts containers in a scope the user manager delegated, never in the service’s own cgroup', async () => {
    const id = await ok(['run', '-d', '--name', 'c1', 'busybox', 'sleep', '1000']);
    const cgroups = await manager.populated();
    const mine = [...cgroups.keys()].find((k) => k.endsWith(`/containers/${id}`));
    expect(mine).toMatch(/^app\.slice\/run-[^/]+\.scope\/containers\/[0-9a-f]{64}$/);
    const scope = mine!.split('/')[1]!;
    expect(await manager.show(scope, 'Delegate')).toBe('yes');
    expect(await manager.show(scope, 'Description')).toBe('berth-rootless-pause');
    // The pause is the scope's own process, in its leaf.
    const pause = Number((await readFile(join(user.runtimeDir, 'berth/pause.pid'), 'utf8')).trim());
    expect(cgroups.get(`app.slice/${scope}/pause`)).toEqual([pause]);
    // The service's cgroup enables no controller: systemd can always start it again.
    expect((await readFile(join(manager.root, manager.cgroup, 'app.slice/berth.service/cgroup.subtree_control'), 'utf8')).trim()).toBe('');
    const controllers = (await readFile(join(manager.root, manager.cgroup, mine!, 'cgroup.controllers'), 'utf8')).trim();
    expect(controllers.split(' ')).toEqual(
      expect.arrayContaining((await readFile(join(manager.root, manager.cgroup, 'cgroup.controllers'), 'utf8')).trim().split(' ').filter(Boolean)),
    );
  });

  it('reads stats from the container’s cgroup, and pauses it with the v2 freezer', async () => {
    const id = await ok(['run', '-d', '--name', 'busy', 'busybox', 'sh', '-c', 'while :; do :; done']);
    await sleep(1500);
    const stats = await api(`/containers/${id}/stats?stream=false`);
    expect(stats.cpu_stats.cpu_usage.total_usage).toBeGreaterThan(100_000_000); // ns: over 0.1 s of a busy loop
    await ok(['pause', 'busy']);
    const dir = join(manager.root, manager.cgroup, [...(await manager.populated()).keys()].find((k) => k.endsWith(id))!);
    expect((await readFile(join(dir, 'cgroup.freeze'), 'utf8')).trim()).toBe('1');
    expect(await ok(['inspect', '-f', '{{.State.Status}}', 'busy'])).toBe('paused');
    await ok(['unpause', 'busy']);
    expect((await readFile(join(dir, 'cgroup.freeze'), 'utf8')).trim()).toBe('0');
    await ok(['rm', '-f', 'busy']);
    // rm takes its cgroup away.
    expect(
      await stat(dir).then(
        () => 'there',
        () => 'gone',
      ),
    ).toBe('gone');
  });

  it('drops limits of controllers not delegated, with a warning naming them (podman) and silently (docker)', async () => {
    const r = await user.run('podman', ['--remote', '--url', `unix://${socket()}`, 'run', '--rm', '-m', '32m', 'busybox', 'true']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/Resource limits ignored: the memory cgroup controller\(s\) are not delegated to .*run-[^ ]+\.scope/);
    // podman info names the controllers the engine was given (systemd enables none of this VM's
    // hugetlb-only v2 for the scope), as the warning does, not the host's.
    const delegated = /\(delegated: ([^)]*)\)/.exec(r.stderr)![1]!;
    const info = await user.run('podman', ['--remote', '--url', `unix://${socket()}`, 'info', '--format', '{{json .Host.CgroupControllers}}']);
    expect(JSON.parse(info.stdout)).toEqual(delegated === 'none' ? [] : delegated.split(' '));
    expect((await docker(['run', '--rm', '-m', '32m', 'busybox', 'true'])).code).toBe(0);
  });

  it('exits when idle and is started again by the next connection, the containers running throughout', async () => {
    let state = '';
    for (let i = 0; i < 100 && state !== 'inactive'; i++) {
      await sleep(200);
      state = await manager.show('berth.service', 'ActiveState');
    }
    // systemd saw its main process exit (a MAINPID naming the engine would leave it `active` forever).
    expect(state).toBe('inactive');
    expect(await manager.show('berth.service', 'Result')).toBe('success');
    // Started again: systemd puts the new launcher in the service's cgroup (it could not, were controllers enabled there).
    expect(await ok(['inspect', '-f', '{{.State.Status}}', 'c1'])).toBe('running');
    expect(await manager.show('berth.service', 'ActiveState')).toBe('active');
    expect(await ok(['exec', 'c1', 'echo', 'hello'])).toBe('hello');
  });

  it('`systemctl --user stop berth.service` leaves containers running; `restart` finds them', async () => {
    expect((await manager.systemctl(['stop', 'berth.service'])).code).toBe(0);
    expect(await manager.show('berth.service', 'ActiveState')).toBe('inactive');
    const cgroups = await manager.populated();
    expect([...cgroups.keys()].some((k) => /containers\/[0-9a-f]{64}$/.test(k))).toBe(true);
    expect((await manager.systemctl(['restart', 'berth.service'])).code).toBe(0);
    expect(await ok(['ps', '--format', '{{.Names}} {{.State}}'])).toBe('c1 running');
    await ok(['rm', '-f', 'c1']);
  });
});
