// The podman client (Debian's podman 4.3.1, `podman --remote`) against a berth engine, and Podman's own
// service on a private socket and root as the oracle: what podman answers is what berth must answer.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { TEST_BASE, TestEngine, httpOn, run, type Result } from './engine.js';
import { HOST_NETAVARK_LOCK } from '../../runtime/network/netavark.js';
import { dropPortForwards } from './network.js';

export const PODMAN = '/usr/bin/podman';
export const havePodman = () => existsSync(PODMAN);

export interface PodmanClient {
  /** `podman --remote --url unix://<socket> ...args`: the result, whatever the exit code. */
  podman(args: string[], o?: { input?: string | Buffer; env?: NodeJS.ProcessEnv }): Promise<Result>;
  /** As podman, asserting exit 0; returns stdout. */
  ok(args: string[], input?: string | Buffer): Promise<string>;
  /** The client's environment (private HOME, containers.conf and auth file), for commands run otherwise. */
  env: NodeJS.ProcessEnv;
  /** The argv prefix: podman --remote --url unix://<socket>. */
  argv: string[];
}

/**
 * A podman client for the engine listening on `socket`, with a private home under `dir`: it reads no
 * user's configuration and writes its connections and credentials there.
 */
export async function podmanClient(socket: string, dir: string): Promise<PodmanClient> {
  const home = join(dir, 'podman-client');
  await mkdir(join(home, 'run'), { recursive: true, mode: 0o700 });
  const conf = join(home, 'containers.conf');
  if (!existsSync(conf)) await writeFile(conf, '');
  // The client stats its auth file before pulls and runs, and fails when it is missing.
  const auth = join(home, 'auth.json');
  if (!existsSync(auth)) await writeFile(auth, '{"auths":{}}\n');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_DATA_HOME: join(home, 'data'),
    XDG_RUNTIME_DIR: join(home, 'run'),
    CONTAINERS_CONF: conf,
    REGISTRY_AUTH_FILE: auth,
  };
  const argv = ['--remote', '--url', `unix://${socket}`];
  const podman = (args: string[], o: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}) =>
    run(PODMAN, [...argv, ...args], { input: o.input, env: { ...env, ...o.env } });
  const ok = async (args: string[], input?: string | Buffer) => {
    // Imported here, not at the top: the benchmark (bench/libpod.ts) runs this module outside vitest.
    const { expect } = await import('vitest');
    const res = await podman(args, { input });
    expect(res.code, `podman ${args.join(' ')}: ${res.stderr}`).toBe(0);
    return res.stdout;
  };
  return { podman, ok, env, argv };
}

const NETWORKS_STATE = '/run/containers/networks';

/**
 * Podman's own service (`podman system service`) on a private socket, root, run root, network config and
 * containers.conf: runc, cgroupfs, file events, and the ulimits this VM allows (nofile 20000; nproc too,
 * or every infra container fails to start). `stop()` removes all it made, also what podman keeps
 * outside its root (netavark's IPAM DB when it made it, libpod_parent cgroups, exec monitors).
 */
export class PodmanService {
  private constructor(
    readonly dir: string,
    readonly socket: string,
    private readonly child: ChildProcess,
    private readonly madeNetworkState: boolean,
    readonly client: PodmanClient,
    /** Its default network's subnet: the port forwards it may leave are to addresses in it. */
    private readonly subnet: string,
  ) {}

  /**
   * `env`: added to the service's environment (CONTAINERS_REGISTRIES_CONF, say). `ownNetavarkLock`: the
   * service's netavark runs without berth's host lock (the bench, so that podman pays no wrapper).
   */
  static async start(o: { defaultNetwork?: string; subnet?: string; env?: NodeJS.ProcessEnv; ownNetavarkLock?: boolean } = {}): Promise<PodmanService> {
    const dir = await mkdtemp(join(TEST_BASE, 'berth-podman-'));
    const subnet = o.subnet ?? '10.231.0.0/24';
    const socket = join(dir, 'podman.sock');
    const conf = join(dir, 'containers.conf');
    await mkdir(join(dir, 'tmp'));
    await mkdir(join(dir, 'netconf'));
    // Podman serializes its netavark calls through a lock of its own, berth through its host lock, and
    // netavark checks a shared chain before making it: a berth and a podman setting up at the same moment
    // lose that race (podman's `iptables: Chain already exists`). Tests run both side by side, so the
    // oracle's netavark is a wrapper that takes berth's lock first (flock -o: aardvark-dns, which netavark
    // leaves running, does not keep it).
    const helpers = join(dir, 'helpers');
    await mkdir(helpers);
    if (!o.ownNetavarkLock) {
      await writeFile(join(helpers, 'netavark'), `#!/bin/sh\nexec flock -o ${HOST_NETAVARK_LOCK} /usr/lib/podman/netavark "$@"\n`);
      await chmod(join(helpers, 'netavark'), 0o755);
    }
    await writeFile(
      conf,
      [
        '[containers]',
        'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
        '[engine]',
        'cgroup_manager = "cgroupfs"',
        'events_logger = "file"',
        'runtime = "runc"',
        `helper_binaries_dir = ["${helpers}", "/usr/local/libexec/podman", "/usr/local/lib/podman", "/usr/libexec/podman", "/usr/lib/podman"]`,
        `tmp_dir = "${join(dir, 'tmp')}"`,
        '[network]',
        'network_backend = "netavark"',
        `default_network = "${o.defaultNetwork ?? 'podman'}"`,
        `default_subnet = "${subnet}"`,
        `network_config_dir = "${join(dir, 'netconf')}"`,
        '',
      ].join('\n'),
    );
    const madeNetworkState = !existsSync(NETWORKS_STATE);
    const child = spawn(PODMAN, ['--root', join(dir, 'root'), '--runroot', join(dir, 'runroot'), 'system', 'service', '--time', '0', `unix://${socket}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...o.env, CONTAINERS_CONF: conf },
      detached: true,
    });
    let log = '';
    child.stderr!.on('data', (d) => (log = (log + d).slice(-4000)));
    const service = new PodmanService(dir, socket, child, madeNetworkState, await podmanClient(socket, dir), subnet);
    for (let i = 0; i < 150; i++) {
      if (child.exitCode !== null) throw new Error(`podman service exited: ${log}`);
      const up = await httpOn(socket, 'GET', '/v4.3.1/libpod/_ping').then(
        (r) => r.status === 200,
        () => false,
      );
      if (up) return service;
      await new Promise((r) => setTimeout(r, 100));
    }
    await service.stop();
    throw new Error(`podman service did not start: ${log}`);
  }

  /** The service's process (the benchmark measures its memory). */
  get pid(): number {
    return this.child.pid!;
  }

  podman(args: string[], o?: { input?: string | Buffer; env?: NodeJS.ProcessEnv }): Promise<Result> {
    return this.client.podman(args, o);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      await this.podman(['pod', 'rm', '-af', '-t', '0']).catch(() => undefined);
      await this.podman(['rm', '-af', '-t', '0']).catch(() => undefined);
      const exited = once(this.child, 'exit');
      this.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      try {
        process.kill(-this.child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    // Monitors (conmon) of containers or exec sessions that outlived the service.
    for (const pid of await readdir('/proc').catch(() => [])) {
      if (!/^\d+$/.test(pid)) continue;
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (cmdline.includes(this.dir)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    const mounts = (await readFile('/proc/mounts', 'utf8'))
      .split('\n')
      .map((l) => l.split(' ')[1] ?? '')
      .filter((m) => m.startsWith(this.dir))
      .reverse();
    for (const m of mounts) await run('umount', ['-l', m]);
    await rm(this.dir, { recursive: true, force: true });
    dropPortForwards(this.subnet);
    if (this.madeNetworkState) await rm(NETWORKS_STATE, { recursive: true, force: true });
    for (const controller of await readdir('/sys/fs/cgroup').catch(() => [])) {
      const parent = join('/sys/fs/cgroup', controller, 'libpod_parent');
      for (const sub of await readdir(parent, { withFileTypes: true }).catch(() => []))
        if (sub.isDirectory()) await rmdir(join(parent, sub.name)).catch(() => undefined);
      await rmdir(parent).catch(() => undefined);
    }
  }
}

export interface SideBySide {
  engine: TestEngine;
  /** podman --remote against berth. */
  berth: PodmanClient;
  /** Podman's own service, the oracle. */
  oracle: PodmanService;
}

/**
 * A berth engine beside Podman's own service on `subnet`, as the libpod tests compare them. `busybox`
 * (an archive) is loaded into both, berth's through the docker CLI; with `dockerName` the oracle's copy
 * is renamed docker.io/library/busybox, the name berth's docker load gives it (podman's says
 * localhost/busybox). On a failure both are stopped.
 */
export async function sideBySide(o: { subnet: string; busybox?: string; dockerName?: boolean }): Promise<SideBySide> {
  const [engine, oracle] = await Promise.all([TestEngine.start(), PodmanService.start({ subnet: o.subnet })]);
  try {
    const berth = await podmanClient(engine.socket, engine.dir);
    if (o.busybox) {
      const { expect } = await import('vitest'); // imported late: the bench loads this file outside vitest
      const loaded = await Promise.all([engine.docker(['load', '-i', o.busybox]), oracle.podman(['load', '-i', o.busybox])]);
      for (const r of loaded) expect(r.code, r.stderr).toBe(0);
    }
    if (o.dockerName) {
      await oracle.client.ok(['tag', 'localhost/busybox:latest', 'docker.io/library/busybox:latest']);
      await oracle.client.ok(['rmi', 'localhost/busybox:latest']);
    }
    return { engine, berth, oracle };
  } catch (err) {
    await Promise.all([engine.destroy(), oracle.stop()]);
    throw err;
  }
}

/** Runs `args` (with `input` on stdin) against berth and the oracle: berth's exit code, stdout and stderr must be podman's (after `clean`); berth's result. */
export async function sameAsOracle(
  s: { berth: PodmanClient; oracle: PodmanService },
  args: string[],
  clean = (text: string) => text,
  input?: string,
): Promise<Result> {
  const [ours, theirs] = await Promise.all([s.berth.podman(args, { input }), s.oracle.podman(args, { input })]);
  const { expect } = await import('vitest');
  expect({ code: ours.code, stdout: clean(ours.stdout), stderr: clean(ours.stderr) }, args.join(' ')).toEqual({
    code: theirs.code,
    stdout: clean(theirs.stdout),
    stderr: clean(theirs.stderr),
  });
  return ours;
}
