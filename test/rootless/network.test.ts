// Rootless networking (issue 19) as a real non-root user drives it with the real docker CLI and podman
// --remote: the engine's rootless namespace with slirp4netns (outbound), netavark + aardvark-dns in it
// (names on a user network), rootlessport (published ports, kept across an engine kill -9 and restart,
// released with the container), podman's privileged-port error, --network none/host, a /dev/net/tun the
// user cannot open, and nothing left behind once the containers and networks are gone.
import { readFile } from 'node:fs/promises';
import { createServer, get, type Server } from 'node:http';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { run } from '../helpers/engine.js';
import { RootlessEngine, RootlessUser } from '../helpers/rootless.js';
import { freePort } from '../helpers/network.js';

const images = inject('images');

async function until<T>(what: () => Promise<T | undefined | false>, ms = 30_000, label = 'condition'): Promise<T> {
  const start = Date.now();
  for (;;) {
    const got = await what();
    if (got) return got;
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function must(p: Promise<{ code: number; stdout: string; stderr: string }>): Promise<string> {
  const r = await p;
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** The user's live processes' command lines (a zombie waiting for init to reap it is gone already). */
async function commandLines(user: RootlessUser): Promise<string[]> {
  const lines: string[] = [];
  for (const pid of await user.processes()) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (!stat || stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
    lines.push((await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ').trim());
  }
  return lines.filter(Boolean);
}

const grantTun = (user: RootlessUser) => must(run('setfacl', ['-m', `u:${user.uid}:rw`, '/dev/net/tun']));
const revokeTun = (user: RootlessUser) => must(run('setfacl', ['-x', `u:${user.uid}`, '/dev/net/tun']));

const hostIp = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)!.address;

/** GET from the host; the body, or the error's code. */
function fetchHost(port: number, path = '/'): Promise<string> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code}`));
  });
}

/** A port nothing listens on now (the kernel's pick). */
const helpers = async (user: RootlessUser) => (await commandLines(user)).filter((p) => /slirp4netns|aardvark-dns|rootlessport/.test(p));

describe('rootless networking', () => {
  let user: RootlessUser;
  let engine: RootlessEngine;
  let web: Server;
  let webPort = 0;

  beforeAll(async () => {
    web = createServer((_req, res) => res.end('hello from the host\n'));
    await new Promise<void>((r) => web.listen(0, hostIp, r));
    webPort = (web.address() as { port: number }).port;
    user = await RootlessUser.create('rlnet');
    // The namespace goes at once when the last container leaves (default: a minute later; tested below).
    engine = await RootlessEngine.start(user, { env: { BERTH_ROOTLESS_NET_LINGER: '0' } });
    await engine.load(images.busybox.archive);
  }, 180_000);

  afterAll(async () => {
    await engine?.destroy();
    await user?.destroy();
    await new Promise((r) => web?.close(r));
  }, 120_000);

  it('reaches a server on the host from the default bridge (slirp4netns), and leaves nothing once it exits', async () => {
    const out = await engine.ok(['run', '--rm', 'busybox', 'wget', '-qO-', `http://${hostIp}:${webPort}/`]);
    expect(out).toBe('hello from the host\n');
    // The last container off the networks took the rootless namespace and its slirp4netns with it.
    await until(async () => (await helpers(user)).length === 0, 10_000, 'slirp4netns to end');
  });

  it('keeps the rootless namespace and its slirp4netns a while after the last container (the next run reuses them)', async () => {
    await engine.stop();
    await engine.restart({});
    try {
      const slirp = async () => (await helpers(user)).filter((p) => p.includes('slirp4netns'));
      await engine.ok(['run', '--rm', 'busybox', 'true']);
      const first = await slirp();
      expect(first).toHaveLength(1);
      await engine.ok(['run', '--rm', 'busybox', 'true']);
      expect(await slirp()).toEqual(first);
      const pid = (await run('pgrep', ['-u', String(user.uid), '-x', 'slirp4netns'])).stdout.trim();
      await engine.ok(['run', '--rm', 'busybox', 'true']);
      expect((await run('pgrep', ['-u', String(user.uid), '-x', 'slirp4netns'])).stdout.trim()).toBe(pid);
      // The networks' bridges stay in it too (anchored, as rootful berth keeps them), until the network goes.
      const bridges = async () => {
        const r = await engine.unshare(['nsenter', `--net=${engine.runRoot}/netns/rootless`, 'ip', '-o', 'link', 'show', 'type', 'bridge']);
        if (r.code !== 0) throw new Error(r.stderr);
        return r.stdout
          .split('\n')
          .map((l) => l.split(': ')[1])
          .filter(Boolean);
      };
      await engine.ok(['network', 'create', 'n-anchor']);
      const bridge = (await must(engine.podman(['network', 'inspect', '-f', '{{.NetworkInterface}}', 'n-anchor']))).trim();
      expect(bridge).not.toBe('');
      await engine.ok(['run', '--rm', '--network', 'n-anchor', 'busybox', 'true']);
      expect(await bridges()).toContain(bridge);
      await engine.ok(['network', 'rm', 'n-anchor']);
      expect(await bridges()).not.toContain(bridge);
    } finally {
      await engine.stop();
      await engine.restart({ env: { BERTH_ROOTLESS_NET_LINGER: '0' } });
      // The lingering namespace goes with the next container off the networks.
      await engine.ok(['run', '--rm', 'busybox', 'true']);
      await until(async () => (await helpers(user)).length === 0, 10_000, 'slirp4netns to end');
    }
  });

  it('gives containers slirp4netns’s resolver where the host’s is on loopback (systemd-resolved’s 127.0.0.53)', async () => {
    // The engine reads /etc/resolv.conf in the pause's mount namespace: a loopback-only one there.
    const bind = await engine.unshare([
      'sh',
      '-c',
      'printf "nameserver 127.0.0.53\\nsearch example.test\\n" > "$HOME/resolv.loop" && mount --bind "$HOME/resolv.loop" /etc/resolv.conf',
    ]);
    expect(bind).toMatchObject({ code: 0 });
    try {
      expect(await engine.ok(['run', '--rm', 'busybox', 'cat', '/etc/resolv.conf'])).toBe('nameserver 10.0.2.3\nsearch example.test\n');
      // --network host keeps the host's own.
      expect(await engine.ok(['run', '--rm', '--network', 'host', 'busybox', 'cat', '/etc/resolv.conf'])).toBe('nameserver 127.0.0.53\nsearch example.test\n');
    } finally {
      await engine.unshare(['umount', '/etc/resolv.conf']);
    }
  });

  it('publishes a port with rootlessport, kept across an engine kill -9 and restart, released with the container', async () => {
    const port = await freePort('0.0.0.0');
    const id = (await engine.ok(['run', '-d', '--name', 'web', '-p', `${port}:80`, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc'])).trim();
    expect(await fetchHost(port, '/hostname')).toBe(`${id.slice(0, 12)}\n`);
    expect((await helpers(user)).some((p) => p.includes('rootlessport'))).toBe(true);
    await engine.kill9();
    expect(await fetchHost(port, '/hostname')).toBe(`${id.slice(0, 12)}\n`);
    await engine.restart();
    expect(await engine.ok(['ps', '--format', '{{.Names}} {{.Ports}}'])).toBe(`web 0.0.0.0:${port}->80/tcp\n`);
    expect(await fetchHost(port, '/hostname')).toBe(`${id.slice(0, 12)}\n`);
    await engine.ok(['kill', 'web']);
    await until(async () => (await helpers(user)).every((p) => !p.includes('rootlessport')), 10_000, 'rootlessport to end');
    expect(await fetchHost(port, '/hostname')).toBe('error ECONNREFUSED');
    // Started again: a forwarder again.
    await engine.ok(['start', 'web']);
    expect(await fetchHost(port, '/hostname')).toBe(`${id.slice(0, 12)}\n`);
    await engine.ok(['kill', 'web']);
    await engine.ok(['rm', 'web']);
  });

  it('releases the forwarder of a container that exits while the engine is down (berth cleanup)', async () => {
    const port = await freePort('0.0.0.0');
    await engine.ok(['run', '-d', '--name', 'short', '-p', `${port}:80`, 'busybox', 'sh', '-c', 'httpd -p 80 -h /etc; sleep 3']);
    expect(await fetchHost(port, '/hostname')).not.toMatch(/^error/);
    await engine.kill9();
    await until(async () => (await helpers(user)).every((p) => !p.includes('rootlessport')), 20_000, 'rootlessport to end');
    await engine.restart();
    expect(await engine.ok(['inspect', '-f', '{{.State.Status}}', 'short'])).toBe('exited\n');
    await engine.ok(['rm', 'short']);
  });

  it('resolves containers by name on a user network (aardvark-dns in the rootless namespace), and reaches out', async () => {
    await engine.ok(['network', 'create', 'n1']);
    await engine.ok(['run', '-d', '--name', 'web1', '--network', 'n1', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc']);
    const id = (await engine.ok(['inspect', '-f', '{{.Id}}', 'web1'])).trim();
    const out = await engine.ok([
      'run',
      '--rm',
      '--name',
      'client1',
      '--network',
      'n1',
      'busybox',
      'sh',
      '-c',
      `wget -qO- http://web1/hostname && wget -qO- http://${hostIp}:${webPort}/`,
    ]);
    expect(out).toBe(`${id.slice(0, 12)}\nhello from the host\n`);
  });

  it("refuses a privileged host port with podman's message (docker and podman --remote)", async () => {
    const r = await engine.docker(['run', '--rm', '-p', '80:80', 'busybox', 'true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      "rootlessport cannot expose privileged port 80, you can add 'net.ipv4.ip_unprivileged_port_start=80' to /etc/sysctl.conf (currently 1024), or choose a larger port number (>= 1024): listen tcp 0.0.0.0:80: bind: permission denied",
    );
    const p = await engine.podman(['run', '--rm', '-p', '1023:80', 'busybox', 'true']);
    expect(p.code).not.toBe(0);
    expect(p.stderr).toContain('rootlessport cannot expose privileged port 1023');
  });

  it('gives --network none only lo, and --network host the host interfaces (podman warns about -p)', async () => {
    expect(await engine.ok(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ls /sys/class/net'])).toBe('lo\n');
    expect(await engine.ok(['run', '--rm', '--network', 'host', 'busybox', 'ip', '-o', '-4', 'addr'])).toContain(` inet ${hostIp}/`);
    const p = await engine.podman(['run', '--rm', '--network', 'host', '-p', `${await freePort('0.0.0.0')}:80`, 'busybox', 'true']);
    expect(p.code).toBe(0);
    expect(p.stderr).toContain('Port mappings have been discarded as one of the Host, Container, Pod, and None network modes are in use');
  });

  it('names /dev/net/tun when the user cannot open it, and still runs --network none and host', async () => {
    // Nothing on the networks: the next bridge container needs a new slirp4netns.
    await engine.ok(['kill', 'web1']);
    await until(async () => (await helpers(user)).length === 0, 10_000, 'slirp4netns to end');
    await revokeTun(user);
    try {
      const r = await engine.docker(['run', '--rm', 'busybox', 'true']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('rootless networking needs /dev/net/tun for slirp4netns');
      expect(await engine.ok(['run', '--rm', '--network', 'none', 'busybox', 'echo', 'ok'])).toBe('ok\n');
      expect(await engine.ok(['run', '--rm', '--network', 'host', 'busybox', 'echo', 'ok'])).toBe('ok\n');
    } finally {
      await grantTun(user);
    }
    await engine.ok(['start', 'web1']);
  });

  it('leaves nothing once the containers and the network are gone: no slirp4netns, aardvark-dns, rootlessport, namespace', async () => {
    await engine.ok(['kill', 'web1']);
    await engine.ok(['rm', 'web1']);
    await engine.ok(['network', 'rm', 'n1']);
    await until(async () => (await helpers(user)).length === 0, 10_000, 'the helpers to end');
    const mounts = await must(engine.unshare(['cat', '/proc/self/mountinfo']));
    expect(mounts).not.toContain('/netns/');
    expect(await must(engine.unshare(['ls', '-A', `${engine.runRoot}/netns`]))).toBe('');
    // rootlessport's records and files went with each forwarder.
    expect(await must(engine.unshare(['ls', '-A', `${engine.runRoot}/rootlessport`]))).toBe('');
  });

  it('starts afresh after the pause namespace died (everything gone): ports and names work again', async () => {
    const port = await freePort('0.0.0.0');
    await engine.ok(['run', '-d', '--name', 'before', '-p', `${port}:80`, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc']);
    await user.killAll();
    await engine.restart();
    expect(await engine.ok(['inspect', '-f', '{{.State.Status}}', 'before'])).toBe('exited\n');
    const id = (await engine.ok(['start', 'before'])) && (await engine.ok(['inspect', '-f', '{{.Id}}', 'before'])).trim();
    expect(await fetchHost(port, '/hostname')).toBe(`${id.slice(0, 12)}\n`);
    await engine.ok(['kill', 'before']);
    await engine.ok(['rm', 'before']);
    await until(async () => (await helpers(user)).length === 0, 10_000, 'the helpers to end');
  }, 120_000);
});
