// A rootless engine's bridge networks live in one network namespace of its own (`<run-root>/netns/rootless`,
// a bind mount of nsfs inside the pause's mount namespace), as podman's rootless netns and dockerd-rootless
// do: slirp4netns gives it a tap0 to the outside (10.0.2.100, gateway .2, DNS .3), netavark makes the
// bridges and veths in it, aardvark-dns answers on its gateways. The host's namespace is not ours to change.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { access, constants, mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from '../errors.js';
import { hasOwnMount, unmountOwn } from '../storage/rootfs.js';
import { execFileOff } from '../util/spawner.js';
import { outsideIds } from '../rootless/idmap.js';

export const TUN = '/dev/net/tun';
const SLIRP_PATHS = ['/usr/bin/slirp4netns', '/usr/local/bin/slirp4netns', '/usr/libexec/podman/slirp4netns'];
/** slirp4netns's resolver, reached from the namespace; aardvark-dns forwards there (netavark.ts). */
const SLIRP_DNS = '10.0.2.3';

/**
 * slirp4netns opens /dev/net/tun (so would pasta): a host without udev may have it root-only. Said at
 * once, naming the device, and only when a network needs it (--network host and none do not).
 */
export async function checkTun(): Promise<void> {
  try {
    await access(TUN, constants.R_OK | constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'it does not exist (is the tun module loaded?)' : `this user cannot open it read-write (${code})`;
    const uid = outsideIds().uid;
    throw new EngineError(
      'internal',
      `rootless networking needs ${TUN} for slirp4netns, but ${why}: allow it (for example \`setfacl -m u:${uid}:rw ${TUN}\`, ` +
        `or mode 0666 as udev sets it), or use --network host or --network none`,
    );
  }
}

export class RootlessNetns {
  readonly path: string;
  readonly dir: string;
  /** /etc/resolv.conf of netavark and aardvark-dns (bound over it in their own mount namespace). */
  readonly resolvConf: string;
  /** `<slirp pid> <netns inode>`: the slirp4netns serving the namespace now mounted at path. */
  private readonly record: string;

  constructor(runRoot: string) {
    this.path = join(runRoot, 'netns', 'rootless');
    this.dir = join(runRoot, 'rootless-netns');
    this.resolvConf = join(this.dir, 'resolv.conf');
    this.record = join(this.dir, 'slirp4netns.pid');
  }

  /**
   * The namespace, and its slirp4netns running: made on first use, slirp4netns started again if it died
   * (its tap0 went with it; bridges and containers stay). A namespace whose pause died is gone from this
   * mount namespace (the file is empty): a new one is made, and the old slirp4netns, if it lives, ends.
   * The caller holds the engine's netavark lock. True when the namespace was made now.
   */
  async ensure(): Promise<boolean> {
    const slirp = SLIRP_PATHS.find((p) => existsSync(p));
    if (!slirp) throw new EngineError('internal', 'slirp4netns is not installed: rootless bridge networks need it (or use --network host or --network none)');
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const fresh = !(await hasOwnMount(this.path));
    if (fresh) {
      await mkdir(join(this.path, '..'), { recursive: true });
      await writeFile(this.path, '');
      await execFileOff('unshare', [`--net=${this.path}`, 'true'], { timeout: 30_000 });
    }
    const ino = (await stat(this.path)).ino;
    const held = await this.slirp();
    if (held && held.ino === ino) return fresh;
    if (held) process.kill(held.pid, 'SIGTERM'); // its namespace is gone
    // (A running slirp4netns has the device open already: checked only for a new one.)
    await checkTun();
    await writeFile(this.resolvConf, `nameserver ${SLIRP_DNS}\n`);
    const pid = await this.startSlirp(slirp);
    await writeFile(this.record, `${pid} ${ino}\n`);
    return fresh;
  }

  /** The recorded slirp4netns, if it still runs (checked by its command line: pids are reused). */
  private async slirp(): Promise<{ pid: number; ino: number } | undefined> {
    const [pid = 0, ino = 0] = (await readFile(this.record, 'utf8').catch(() => '')).trim().split(' ').map(Number);
    if (!(pid > 0)) return undefined;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    return cmdline.includes('slirp4netns') && cmdline.includes(this.path) ? { pid, ino } : undefined;
  }

  /** slirp4netns on the namespace, detached (it outlives the engine); ready when it writes to fd 3. */
  private async startSlirp(slirp: string): Promise<number> {
    const logPath = join(this.dir, 'slirp4netns.log');
    const log = await open(logPath, 'w');
    const args = ['--configure', '--mtu=65520', '--disable-host-loopback', '--enable-sandbox', '--enable-seccomp', '-r', '3'];
    const child = spawn(slirp, [...args, '--netns-type=path', this.path, 'tap0'], { detached: true, stdio: ['ignore', log.fd, log.fd, 'pipe'] });
    await log.close();
    const ready = child.stdio[3]!;
    const failed = async () => {
      const text = (await readFile(logPath, 'utf8').catch(() => '')).trim();
      return new EngineError('internal', `${slirp} failed: ${JSON.stringify(text.split('\n').slice(-3).join(' ') || 'no output')}`);
    };
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    try {
      const outcome = await Promise.race([once(ready, 'data').then(() => 'ready' as const), once(child, 'exit').then(() => 'exited' as const)]);
      if (outcome !== 'ready') throw await failed();
    } finally {
      clearTimeout(timer);
      ready.destroy();
    }
    child.unref();
    return child.pid!;
  }

  /** Nothing of the engine uses the namespace: slirp4netns ends and the namespace goes. */
  async stop(): Promise<void> {
    const held = await this.slirp();
    if (held) process.kill(held.pid, 'SIGTERM');
    await rm(this.record, { force: true });
    await unmountOwn(this.path);
    await rm(this.path, { force: true });
  }

  /** Whether the namespace is there (mounted in this mount namespace). */
  exists(): Promise<boolean> {
    return hasOwnMount(this.path);
  }
}
