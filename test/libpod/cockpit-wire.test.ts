// The libpod requests cockpit-podman's terminal makes, byte for byte as its JS writes them on a raw
// channel to the socket (HTTP/1.0, `Upgrade: WebSocket` without a WebSocket key, no Content-Type),
// against berth and podman's own service. test/console/cockpit.test.ts drives the real page.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { httpOn, type TestEngine } from '../helpers/engine.js';
import { sideBySide, type PodmanClient, type PodmanService } from '../helpers/podman.js';

const images = inject('images');
let engine: TestEngine;
let berth: PodmanClient;
let oracle: PodmanService;

beforeAll(async () => {
  ({ engine, berth, oracle } = await sideBySide({ subnet: '10.231.18.0/24', busybox: images.busybox.archive, dockerName: true }));
}, 120_000);
afterAll(async () => {
  await Promise.all([engine?.destroy(), oracle?.stop()]);
});

/** Both engines, each with its socket and podman client. */
const engines = () => [
  { name: 'berth', socket: engine.socket, client: berth },
  { name: 'podman', socket: oracle.socket, client: oracle.client },
];

/**
 * Writes `request` on a fresh connection, then each of `input` once the answer's head is there; resolves
 * with all that came back once it matches `until` (then closes) or the engine closes.
 */
function exchange(socket: string, request: string, input: string[], until: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = connect(socket);
    let got = '';
    let sent = false;
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new Error(`no ${until} in ${JSON.stringify(got)}`));
    }, 20_000);
    const done = () => {
      clearTimeout(timer);
      conn.destroy();
      resolve(got);
    };
    conn.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (!sent && got.includes('\r\n\r\n')) {
        sent = true;
        for (const i of input) conn.write(i);
      }
      if (until.test(got)) done();
    });
    conn.on('close', done);
    conn.on('error', reject);
    conn.write(request);
  });
}

async function post(socket: string, path: string, body: object): Promise<{ status: number; json: { Id: string } }> {
  const res = await httpOn(socket, 'POST', path, JSON.stringify(body));
  return { status: res.status, json: res.json() };
}

describe("cockpit-podman's events", () => {
  it('reports a restart before the start that ends it, as podman does (cockpit-podman shows "restarting" until the next event)', async () => {
    const sequences = await Promise.all(
      engines().map(async (e) => {
        const name = `restarted-${e.name}`;
        await e.client.ok(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done']);
        await e.client.ok(['restart', name]);
        const out = await e.client.ok(['events', '--stream=false', '--filter', `container=${name}`, '--format', '{{.Status}}']);
        const statuses = out.trim().split('\n');
        return statuses.slice(statuses.indexOf('start') + 1); // what the restart recorded
      }),
    );
    // podman: sync, restart, died, cleanup, init, start (berth also says kill and stop, as its stop does).
    for (const statuses of sequences) {
      expect(
        statuses.filter((s) => s === 'restart'),
        statuses.join(),
      ).toHaveLength(1);
      expect(statuses.at(-1), statuses.join()).toBe('start');
      expect(statuses.indexOf('restart'), statuses.join()).toBeLessThan(statuses.indexOf('died'));
    }
  });
});

/** A running container and a TTY shell exec session in it, created as cockpit-podman creates one. */
async function shellExec(e: ReturnType<typeof engines>[number]) {
  const id = (await e.client.ok(['run', '-d', 'busybox', 'sleep', '1000'])).trim();
  return post(e.socket, `/v1.12/libpod/containers/${id}/exec`, {
    AttachStderr: true,
    AttachStdout: true,
    AttachStdin: true,
    Tty: true,
    Cmd: ['/bin/sh'],
  });
}

describe("cockpit-podman's terminal", () => {
  it('exec start over HTTP/1.0 with Upgrade: WebSocket and no key: 101, then the shell runs what it is sent', async () => {
    for (const e of engines()) {
      const created = await shellExec(e);
      expect(created.status, e.name).toBe(201);
      const body = JSON.stringify({ Detach: false, Tty: false });
      const out = await exchange(
        e.socket,
        `POST /v1.12/libpod/exec/${encodeURIComponent(created.json.Id)}/start HTTP/1.0\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        ['echo hi-$((6*7))\n'],
        /hi-42\r\n/,
      );
      expect(out.split('\r\n')[0], `${e.name}: ${out}`).toBe('HTTP/1.1 101 UPGRADED');
      expect(out, e.name).toContain('\r\nhi-42\r\n');
    }
  });

  it('a resize sent as soon as the session runs (cockpit-podman sends it right after the start) sizes its terminal', async () => {
    for (const e of engines()) {
      const created = await shellExec(e);
      const exec = created.json.Id;
      const body = JSON.stringify({ Detach: false, Tty: false });
      const conn = connect(e.socket);
      let out = '';
      conn.on('data', (d: Buffer) => (out += d.toString('latin1')));
      conn.write(
        `POST /v1.12/libpod/exec/${exec}/start HTTP/1.0\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
      try {
        // Running as soon as the engine says so: berth's conmon may still be starting then.
        await expect
          .poll(async () => (await httpOn(e.socket, 'GET', `/v1.12/libpod/exec/${exec}/json`)).json().Running, { interval: 5, timeout: 20_000 })
          .toBe(true);
        expect((await httpOn(e.socket, 'POST', `/v1.12/libpod/exec/${exec}/resize?h=24&w=150`, '')).status, e.name).toBe(201);
        await expect.poll(() => out.includes('\r\n\r\n'), { timeout: 20_000 }).toBe(true);
        conn.write('stty size\n');
        await expect.poll(() => out, { timeout: 20_000 }).toMatch(/\r\n24 150\r\n/);
      } finally {
        conn.destroy();
      }
    }
  });

  it('attach to a TTY container naming stdin, stdout and stderr but not stream: it streams', async () => {
    for (const e of engines()) {
      const id = (await e.client.ok(['run', '-dit', 'busybox', 'sh'])).trim();
      const out = await exchange(
        e.socket,
        `POST /v1.12/libpod/containers/${encodeURIComponent(id)}/attach?&stdin=true&stdout=true&stderr=true HTTP/1.0\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nContent-Length: 0\r\n\r\n`,
        ['echo hi-$((6*7))\n'],
        /hi-42\r\n/,
      );
      expect(out.split('\r\n')[0], `${e.name}: ${out}`).toBe('HTTP/1.1 101 UPGRADED');
      expect(out, e.name).toContain('\r\nhi-42\r\n');
    }
  });

  it("refuses an attach with neither stream nor logs, or with no stream at all, in podman's words", async () => {
    const answers = async (socket: string, id: string) => {
      const out: unknown[] = [];
      for (const query of ['stream=false', 'stream=false&logs=false', 'stdin=false&stdout=false&stderr=false']) {
        const res = await exchange(
          socket,
          `POST /v4.3.1/libpod/containers/${id}/attach?${query} HTTP/1.1\r\nHost: d\r\nUpgrade: tcp\r\nConnection: Upgrade\r\nContent-Length: 0\r\n\r\n`,
          [],
          /"response":\d+\}/,
        );
        out.push({ query, status: res.split('\r\n')[0], body: JSON.parse(res.slice(res.indexOf('{'), res.lastIndexOf('}') + 1)) });
      }
      return out;
    };
    const [ours, theirs] = await Promise.all(engines().map(async (e) => answers(e.socket, (await e.client.ok(['run', '-dit', 'busybox', 'sh'])).trim())));
    expect(ours).toEqual(theirs);
  });
});
