// dockerode (4.x) against berth, as its own test suite drives an engine: the calls it makes in ways the
// docker CLI and docker-py never do. attach({stdin: true}) without `hijack` is a plain POST (a JSON body
// of the options, no Upgrade header) after which dockerode writes the container's stdin as raw bytes on
// the same connection; dockerd hands the connection to the attach, so must berth.
import { afterAll, describe, expect, inject, it } from 'vitest';
import Dockerode from 'dockerode';
import { suiteEngine } from './helpers/suite.js';

const images = inject('images');
const engine = suiteEngine({ load: [images.busybox.archive] });
const created: Dockerode.Container[] = [];

afterAll(async () => {
  for (const c of created) await c.remove({ force: true }).catch(() => undefined);
});

/** Creates a container with stdin open, attaches without hijack, starts it, writes `input`, and waits. */
async function attachWrite(o: { tty: boolean; cmd: string[]; input: string }): Promise<{ output: string; exit: number }> {
  const docker = new Dockerode({ socketPath: engine.socket });
  const c = await docker.createContainer({
    Image: 'busybox:latest',
    Cmd: o.cmd,
    Tty: o.tty,
    OpenStdin: true,
    StdinOnce: false,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
  });
  created.push(c);
  const stream = await c.attach({ stream: true, stdin: true, stdout: true, stderr: true });
  let output = '';
  stream.on('data', (d: Buffer) => (output += d.toString()));
  await c.start();
  stream.write(o.input);
  const waited = await Promise.race([c.wait(), new Promise((r) => setTimeout(() => r({ StatusCode: 'timeout' }), 15_000))]);
  (stream as unknown as { destroy(): void }).destroy(); // a socket; dockerode types it as a plain stream
  return { output, exit: (waited as { StatusCode: number }).StatusCode };
}

describe('dockerode attach with stdin, without hijack', () => {
  it('feeds what follows the request to the container (no TTY)', async () => {
    const { output, exit } = await attachWrite({ tty: false, cmd: ['sh'], input: 'echo from-stdin; exit 3\n' });
    expect(exit).toBe(3);
    // Framed (no TTY): stdout's header, then the line; never an HTTP error in the stream.
    expect(output).toContain('from-stdin\n');
    expect(output).not.toContain('HTTP/1.1');
  }, 30_000);

  it('feeds a TTY: the line and the EOF reach wc', async () => {
    const { output, exit } = await attachWrite({ tty: true, cmd: ['wc', '-c'], input: 'abcdefghij\n\x04' });
    expect(exit).toBe(0);
    expect(output).toBe('abcdefghij\r\n11\r\n');
  }, 30_000);
});

describe('dockerode exec start with stdin, without hijack', () => {
  it('feeds what follows the request to the exec', async () => {
    const docker = new Dockerode({ socketPath: engine.socket });
    const c = await docker.createContainer({ Image: 'busybox:latest', Cmd: ['sleep', '60'] });
    created.push(c);
    await c.start();
    const exec = await c.exec({ Cmd: ['sh', '-c', 'read x; echo got-$x; exit 4'], AttachStdin: true, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ stdin: true });
    let output = '';
    stream.on('data', (d: Buffer) => (output += d.toString()));
    stream.write('hello\n');
    const deadline = Date.now() + 15_000;
    let info = await exec.inspect();
    while ((info.Running || info.ExitCode === null) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      info = await exec.inspect();
    }
    stream.destroy();
    expect(info.ExitCode).toBe(4);
    expect(output).toContain('got-hello\n');
    expect(output).not.toContain('HTTP/1.1');
  }, 30_000);
});

describe('ephemeral host ports (testcontainers-node publishes 8080 to port "0" in every test)', () => {
  it('does not hand a just-released port to the next container, as dockerd does not', async () => {
    const docker = new Dockerode({ socketPath: engine.socket });
    const published = async () => {
      const c = await docker.createContainer({
        Image: 'busybox:latest',
        Cmd: ['sleep', '60'],
        ExposedPorts: { '8080/tcp': {} },
        HostConfig: { PortBindings: { '8080/tcp': [{ HostPort: '0' }] } },
      });
      created.push(c);
      await c.start();
      const port = Number((await c.inspect()).NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort);
      await c.remove({ force: true });
      return port;
    };
    const first = await published();
    const second = await published();
    expect(first).toBeGreaterThan(0);
    expect(second).toBeGreaterThan(0);
    // Reusing it at once sent a client still probing the old port into stale forwarding state: seconds lost.
    expect(second).not.toBe(first);
  }, 60_000);
});

describe('a container that takes over a just-freed address', () => {
  it('is reachable from the host at once (its MAC follows the address, as with dockerd)', async () => {
    const docker = new Dockerode({ socketPath: engine.socket });
    const serve = async () => {
      const c = await docker.createContainer({
        Image: 'busybox:latest',
        Cmd: ['sh', '-c', 'mkdir -p /tmp/w && echo hi > /tmp/w/ok && exec httpd -f -p 8080 -h /tmp/w'],
      });
      created.push(c);
      await c.start();
      const info = await c.inspect();
      // The default bridge's address, at the top of NetworkSettings (dockerode's types leave it out).
      const bridge = info.NetworkSettings.Networks.bridge!;
      const ip = bridge.IPAddress;
      // The host talks to it (as a published port's forwarding does): the host learns its MAC.
      let body = '';
      for (const deadline = Date.now() + 8_000; !body && Date.now() < deadline; ) {
        body = await fetch(`http://${ip}:8080/ok`, { signal: AbortSignal.timeout(2_000) })
          .then((r) => r.text())
          .catch(() => '');
      }
      await c.remove({ force: true });
      return { ip, mac: bridge.MacAddress, body };
    };
    const first = await serve();
    const second = await serve();
    expect(second.ip).toBe(first.ip); // the address is reused at once, as dockerd reuses it
    expect(first.body).toBe('hi\n');
    expect(second.body).toBe('hi\n'); // a random MAC left it unreachable for ~35 s (stale neighbour entry)
    expect(second.mac).toBe(
      `02:42:${second.ip
        .split('.')
        .map((b) => Number(b).toString(16).padStart(2, '0'))
        .join(':')}`,
    );
  }, 60_000);
});
