// The exec websocket (GET /exec/{id}/start/ws, a berth extension for the console's terminal), on the
// engine's own socket: stdin in, the TTY's output out, closed with the process's exit code.
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { Agent, WebSocket } from 'undici';
import { suiteEngine } from '../helpers/suite.js';
import { cliOf } from '../helpers/cli.js';

const images = inject('images');
const engine = suiteEngine({ load: [images.busybox.archive] });
const { ok } = cliOf(() => engine, { strict: true });

function open(path: string) {
  const ws = new WebSocket(`ws://berth${path}`, { dispatcher: new Agent({ connect: { socketPath: engine.socket } }) } as unknown as string[]);
  ws.binaryType = 'arraybuffer';
  let received = '';
  ws.onmessage = (m) => (received += Buffer.from(m.data as ArrayBuffer).toString());
  const opened = new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (ws.onclose = (e) => resolve({ code: e.code, reason: e.reason })));
  return { ws, opened, closed, received: () => received };
}

async function until(what: () => boolean, ms = 10_000) {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (what()) return;
  throw new Error('condition not met in time');
}

describe('exec over a websocket', () => {
  it('runs a shell on a TTY, both ways, resizes it, and closes with its exit code', async () => {
    await ok(['run', '-d', '--name', 'box', 'busybox', 'sleep', '600']);
    const create = await engine.http('POST', '/v1.50/containers/box/exec', {
      Cmd: ['/bin/sh'],
      Tty: true,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
    });
    expect(create.status).toBe(201);
    const { Id } = create.json();
    {
      const s = open(`/v1.50/exec/${Id}/start/ws?h=30&w=100`);
      await s.opened;
      s.ws.send('stty size; echo hi-$((6*7))\r');
      await until(() => s.received().includes('hi-42'));
      expect(s.received()).toMatch(/30 100/); // the size given at start
      expect((await engine.http('POST', `/v1.50/exec/${Id}/resize?h=40&w=120`)).status).toBe(200);
      s.ws.send('stty size\r');
      await until(() => /40 120/.test(s.received()));
      s.ws.send('exit 3\r');
      expect(await s.closed).toEqual({ code: 1000, reason: 'exit 3' });
    }
    expect((await engine.http('GET', `/exec/${Id}/json`)).json().ExitCode).toBe(3);
  });

  it('ends the shell when the client goes away (a closed browser tab leaves no process)', async () => {
    const create = await engine.http('POST', '/v1.50/containers/box/exec', { Cmd: ['/bin/sh'], Tty: true, AttachStdin: true, AttachStdout: true });
    const { Id } = create.json();
    const s = open(`/v1.50/exec/${Id}/start/ws`);
    await s.opened;
    s.ws.send('echo up\r');
    await until(() => s.received().includes('up'));
    s.ws.close();
    let running = true;
    await until(() => {
      void engine.http('GET', `/exec/${Id}/json`).then((r) => (running = r.json().Running));
      return !running;
    });
  });

  it('answers on the unversioned path too, and refuses a session that is not there or has run', async () => {
    const create = await engine.http('POST', '/containers/box/exec', { Cmd: ['echo', 'plain'], AttachStdout: true });
    const { Id } = create.json();
    const s = open(`/exec/${Id}/start/ws`);
    await s.opened;
    expect(await s.closed).toEqual({ code: 1000, reason: 'exit 0' });
    expect(s.received()).toBe('plain\n'); // without a TTY: raw bytes, no framing
    const again = await engine.http('GET', `/exec/${Id}/start/ws`);
    expect(again.status).toBe(409); // the upgrade is refused alike: the check is the route's preHandler
    const missing = await engine.http('GET', '/v1.50/exec/nope/start/ws');
    expect(missing.status).toBe(404);
    await ok(['rm', '-f', 'box']);
  });
});
