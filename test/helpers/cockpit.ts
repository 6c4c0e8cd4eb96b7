// Cockpit's web server with a local session (no TLS, no PAM: the bridge runs as this user, root), for
// cockpit-podman against a socket of the test's choosing. cockpit-podman (run by root) talks to the
// system service at /run/podman/podman.sock; the host's /run is left alone: cockpit-ws runs in a
// private mount namespace where an overlay over /run adds podman/podman.sock, a symlink to `socket`,
// from a temporary upper directory. The namespace, the overlay and the symlink go with the process.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { TEST_BASE } from './engine.js';
import { freePort } from './network.js';

export const COCKPIT_WS = '/usr/lib/cockpit/cockpit-ws';
export const COCKPIT_BRIDGE = '/usr/bin/cockpit-bridge';

export interface Cockpit {
  /** http://127.0.0.1:PORT */
  origin: string;
  /**
   * cockpit-podman's page. Debian's cockpit-podman needs only cockpit-ws and cockpit-bridge; without
   * cockpit-system there is no shell (no /podman with the page in an iframe), so the page is opened
   * on its own, as cockpit-desktop opens one.
   */
  url: string;
  /** cockpit-ws's output (its bridge's too). */
  log: () => string;
  /** Stops cockpit-ws and its bridge (their process group) and removes the temporary directory. */
  stop: () => Promise<void>;
}

/** A loopback TCP port nothing listens on now. */
const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const probe = connect(port, '127.0.0.1');
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });

/** Starts cockpit-ws whose cockpit-podman sees `socket` as /run/podman/podman.sock. */
export async function startCockpit(socket: string): Promise<Cockpit> {
  const dir = await mkdtemp(join(TEST_BASE, 'berth-cockpit-'));
  const upper = join(dir, 'upper');
  await mkdir(join(upper, 'podman'), { recursive: true });
  await mkdir(join(dir, 'work'));
  await symlink(socket, join(upper, 'podman', 'podman.sock'));
  let output = '';
  let child: ChildProcess | undefined;
  const stop = async () => {
    if (child?.pid && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      // The group: cockpit-ws and the bridge it spawned.
      process.kill(-child.pid, 'SIGTERM');
      const gone = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 5000))]);
      if (!gone) process.kill(-child.pid, 'SIGKILL');
    }
    if (child?.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL'); // a bridge that outlived cockpit-ws
      } catch {
        // none left
      }
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      const script = [
        `mount -t overlay overlay -o lowerdir=/run,upperdir=${upper},workdir=${join(dir, 'work')} /run`,
        `exec ${COCKPIT_WS} --no-tls --address 127.0.0.1 --port ${port} --local-session=${COCKPIT_BRIDGE}`,
      ].join(' && ');
      child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-ec', script], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      child.stdout!.on('data', (d) => (output += d));
      child.stderr!.on('data', (d) => (output += d));
      const deadline = Date.now() + 15_000;
      while (child.exitCode === null && !(await accepts(port))) {
        if (Date.now() > deadline) throw new Error(`cockpit-ws did not listen: ${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      if (child.exitCode === null) {
        const origin = `http://127.0.0.1:${port}`;
        return { origin, url: `${origin}/cockpit/@localhost/podman/index.html`, log: () => output, stop };
      }
      // The port was taken between the probe and cockpit-ws's bind: another one.
      if (attempt === 3) throw new Error(`cockpit-ws exited ${child.exitCode}: ${output}`);
    }
  } catch (err) {
    await stop();
    throw err;
  }
}
