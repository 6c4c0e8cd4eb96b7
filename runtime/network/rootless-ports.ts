// A rootless engine publishes ports in userspace, as rootless podman does: per container one podman
// `rootlessport`, which listens on the host ports in the host's namespace and dials the container's
// address from inside the rootless namespace (rootless-netns.ts). It is detached and recorded (pid and
// start time): it outlives the engine with its container, and a release (stop, rm, `berth cleanup`, a
// restarted engine's reconcile) ends it by the record.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from '../errors.js';
import { execFileOff } from '../util/spawner.js';
import type { HeldPort } from './ports.js';

const ROOTLESSPORT_PATHS = ['/usr/lib/podman/rootlessport', '/usr/libexec/podman/rootlessport', '/usr/local/libexec/podman/rootlessport'];

/** podman's words for a host port the user may not bind (net.ipv4.ip_unprivileged_port_start). */
export async function privilegedPortError(ip: string, port: number, protocol: string): Promise<EngineError> {
  const start = (await readFile('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').catch(() => '1024')).trim();
  return new EngineError(
    'internal',
    `rootlessport cannot expose privileged port ${port}, you can add 'net.ipv4.ip_unprivileged_port_start=${port}' to /etc/sysctl.conf ` +
      `(currently ${start}), or choose a larger port number (>= ${start}): listen ${protocol} ${ip || '0.0.0.0'}:${port}: bind: permission denied`,
  );
}

/** Its start time in clock ticks (/proc/<pid>/stat field 22): with the pid, one process for all time. */
async function startTime(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

export class RootlessPorts {
  constructor(
    private readonly dir: string,
    private readonly netnsPath: string,
  ) {}

  /**
   * The container's: its record, log, and rootlessport's own files (TmpDir: its driver's socket, whose
   * path must fit the 108 bytes of a socket address: the short ID).
   */
  private home = (containerId: string) => join(this.dir, containerId.slice(0, 12));
  private pidFile = (containerId: string) => join(this.home(containerId), 'pid');

  /** The container's forwarder, listening when this returns; fails with what rootlessport said. */
  async start(containerId: string, childIp: string, ports: HeldPort[]): Promise<void> {
    if (ports.length === 0) return;
    await this.stop(containerId); // a leftover of an earlier run
    const binary = ROOTLESSPORT_PATHS.find((p) => existsSync(p));
    if (!binary) throw new EngineError('internal', 'rootlessport is not installed (Debian: package podman): a rootless engine needs it to publish ports');
    const sctp = ports.find((p) => p.Protocol !== 'tcp' && p.Protocol !== 'udp');
    if (sctp) throw new EngineError('internal', `rootlessport cannot expose ${sctp.Protocol} port ${sctp.HostPort}: only tcp and udp`);
    const home = this.home(containerId);
    await mkdir(home, { recursive: true, mode: 0o700 });
    const config = {
      Mappings: ports.map((p) => ({ host_ip: p.HostIp, container_port: p.ContainerPort, host_port: p.HostPort, range: 1, protocol: p.Protocol })),
      NetNSPath: this.netnsPath,
      ExitFD: 3,
      ReadyFD: 4,
      TmpDir: home,
      ChildIP: childIp,
      ContainerID: containerId,
      RootlessCNI: true,
    };
    // It runs until its exit fd reads EOF: a FIFO it holds both ends of never does, so it lives until
    // stop() ends it, whatever becomes of the engine.
    const fifo = join(home, 'exit');
    await rm(fifo, { force: true });
    await execFileOff('mkfifo', ['-m', '0600', fifo]);
    const exitFd = openSync(fifo, 'r+');
    const logPath = join(home, 'log');
    const log = await open(logPath, 'w');
    const child = spawn(binary, [], { detached: true, stdio: ['pipe', log.fd, log.fd, exitFd, 'pipe'] });
    closeSync(exitFd);
    await log.close();
    await rm(fifo, { force: true });
    child.stdin!.end(JSON.stringify(config));
    const ready = child.stdio[4]!;
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    try {
      const outcome = await Promise.race([once(ready, 'data').then(() => 'ready' as const), once(child, 'exit').then(() => 'exited' as const)]);
      if (outcome !== 'ready') {
        const text = (await readFile(logPath, 'utf8').catch(() => '')).trim();
        throw new EngineError('internal', `rootlessport: ${text.split('\n').slice(-2).join(' ') || 'it exited before it was ready'}`);
      }
    } finally {
      clearTimeout(timer);
      ready.destroy();
    }
    child.unref();
    await writeFile(this.pidFile(containerId), `${child.pid} ${await startTime(child.pid!)}\n`);
  }

  /** Ends the container's forwarder (and its child in the namespace: they share a process group). */
  async stop(containerId: string): Promise<void> {
    const [pid = 0, started = ''] = (await readFile(this.pidFile(containerId), 'utf8').catch(() => '')).trim().split(' ');
    const n = Number(pid);
    if (n > 0 && started && (await startTime(n)) === started) {
      try {
        process.kill(-n, 'SIGTERM');
      } catch {
        // gone meanwhile
      }
    }
    await rm(this.home(containerId), { recursive: true, force: true });
  }
}
