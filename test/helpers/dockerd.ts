// A private reference dockerd (Debian's docker.io) on its own socket and data root, for comparisons.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, rmdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { once } from 'node:events';
import { TEST_BASE, httpOn, run, type Result } from './engine.js';

export const DOCKERD = '/usr/sbin/dockerd';
export const haveDockerd = () => existsSync(DOCKERD);

export class ReferenceDockerd {
  private constructor(
    readonly dir: string,
    readonly socket: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(): Promise<ReferenceDockerd> {
    const dir = await mkdtemp(join(TEST_BASE, 'berth-dockerd-'));
    const socket = join(dir, 'docker.sock');
    const child = spawn(
      DOCKERD,
      [
        '-H',
        `unix://${socket}`,
        '--data-root',
        join(dir, 'root'),
        '--exec-root',
        join(dir, 'exec'),
        '--pidfile',
        join(dir, 'dockerd.pid'),
        '--bridge',
        'none',
        '--iptables=false',
        '--ip-masq=false',
        '--containerd-namespace',
        'berthtest',
        '--containerd-plugins-namespace',
        'berthtestp',
        // Its containers' cgroups under a parent of its own, removed with it (stop).
        '--cgroup-parent',
        `/${basename(dir)}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
    );
    let log = '';
    child.stderr!.on('data', (d) => (log = (log + d).slice(-4000)));
    const ref = new ReferenceDockerd(dir, socket, child);
    for (let i = 0; i < 150; i++) {
      if (child.exitCode !== null) throw new Error(`dockerd exited: ${log}`);
      if (
        await httpOn(socket, 'GET', '/_ping').then(
          (r) => r.status === 200,
          () => false,
        )
      )
        return ref;
      await new Promise((r) => setTimeout(r, 200));
    }
    await ref.stop();
    throw new Error(`dockerd did not start: ${log}`);
  }

  docker(args: string[]): Promise<Result> {
    return run('docker', args, { env: { ...process.env, DOCKER_HOST: `unix://${this.socket}`, DOCKER_CONFIG: join(this.dir, 'docker-config') } });
  }

  /** Stops dockerd and its containerd, unmounts what they left, removes the data root. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = once(this.child, 'exit');
      this.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      // dockerd runs in its own process group with its containerd: end whatever remains of it.
      try {
        process.kill(-this.child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    const mounts = (await readFile('/proc/mounts', 'utf8'))
      .split('\n')
      .map((l) => l.split(' ')[1])
      .filter((m): m is string => !!m && m.startsWith(this.dir));
    for (const m of mounts.reverse()) await run('umount', ['-l', m]);
    await rm(this.dir, { recursive: true, force: true });
    // The cgroup parent in each hierarchy (its containers' children went with them).
    const hierarchies = await readdir('/sys/fs/cgroup').catch(() => [] as string[]);
    for (const h of ['', ...hierarchies]) await rmdir(join('/sys/fs/cgroup', h, basename(this.dir))).catch(() => undefined);
  }
}
