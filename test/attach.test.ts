// docker attach, TTYs, detach keys, resize, the websocket attach, and big outputs that must arrive whole.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inject } from 'vitest';
import { Agent, WebSocket } from 'undici';
import { suiteEngine } from './helpers/suite.js';
import { cliOf } from './helpers/cli.js';
import { onTerminal } from './helpers/terminal.js';
import { hijack } from './helpers/hijack.js';

const images = inject('images');
const engine = suiteEngine({ load: [images.busybox.archive] });

const { docker, ok, env: cliEnv } = cliOf(() => engine, { strict: true });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const running = async (name: string) => (await ok(['inspect', '-f', '{{.State.Running}}', name])).trim() === 'true';

/** Starts `docker attach` in the background; resolves with its output once it exits. */
function attachInBackground(args: string[]) {
  const child = spawn('docker', ['attach', ...args], { env: cliEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout })));
  return { child, done, output: () => stdout };
}

async function until(what: () => boolean | Promise<boolean>, ms = 10_000) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (await what()) return;
  throw new Error('condition not met in time');
}

describe('docker attach', () => {
  it('streams a running container to several clients at once, and ends with it', async () => {
    await ok(['run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c', 'sleep 1; for i in 1 2 3; do echo tick $i; sleep 0.2; done; exit 3']);
    const a = attachInBackground(['ticker']);
    const b = attachInBackground(['ticker']);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra).toEqual({ code: 3, stdout: 'tick 1\ntick 2\ntick 3\n' });
    expect(rb).toEqual({ code: 3, stdout: 'tick 1\ntick 2\ntick 3\n' });
    await ok(['rm', 'ticker']);
  });

  it('drives a TTY container and detaches with ctrl-p ctrl-q or --detach-keys, leaving it running', async () => {
    await ok(['run', '-dit', '--name', 'tty', 'busybox', 'sh']);
    const res = await onTerminal(
      [24, 80],
      [{ send: 'echo attached-$((6*7))\r' }, { expect: 'attached-42' }, { send: '\u0010\u0011' }, { expect: 'read escape sequence' }],
      ['docker', 'attach', 'tty'],
      cliEnv(),
    );
    expect(res.code, res.stdout).toBe(1); // the CLI's exit code after a detach, with dockerd too
    expect(await running('tty')).toBe(true);
    const custom = await onTerminal(
      [24, 80],
      [{ send: 'echo again\r' }, { expect: 'again' }, { send: '\u0018y' }, { expect: 'read escape sequence' }],
      ['docker', 'attach', '--detach-keys', 'ctrl-x,y', 'tty'],
      cliEnv(),
    );
    expect(custom.code, custom.stdout).toBe(1);
    expect(await running('tty')).toBe(true);
  });

  it('detaches server-side for clients that send the keys (podman remote, raw clients)', async () => {
    // The sequence arrives split across writes: the server holds its first byte until it knows.
    const res = await hijack(
      engine.socket,
      '/v1.50/containers/tty/attach?stream=1&stdin=1&stdout=1&stderr=1&detachKeys=ctrl-x,y',
      '',
      [Buffer.from('echo serverside\r'), Buffer.from('\u0018'), Buffer.from('y')],
      { keepOpen: true, timeoutMs: 5000 },
    );
    expect(res.head).toMatch(/^HTTP\/1.1 101 UPGRADED/);
    expect(res.body.toString()).toContain('serverside\r\n');
    expect(await running('tty')).toBe(true);
    const bad = await engine.http('POST', '/containers/tty/attach?stream=1&stdin=1&detachKeys=ctrl-ü', '');
    expect(bad.status).toBe(400);
    await ok(['rm', '-f', 'tty']);
  });

  it('forwards signals with --sig-proxy (the default) and resizes a TTY with POST resize', async () => {
    await ok(['run', '-d', '--name', 'trapper', 'busybox', 'sh', '-c', 'trap "echo got INT; exit 9" INT; echo ready; while :; do sleep 0.1; done']);
    await until(async () => (await ok(['logs', 'trapper'])).includes('ready'));
    const a = attachInBackground(['trapper']);
    await sleep(500);
    a.child.kill('SIGINT');
    const r = await a.done;
    expect(r.stdout).toContain('got INT');
    expect((await ok(['wait', 'trapper'])).trim()).toBe('9');
    await ok(['rm', 'trapper']);

    await ok(['run', '-dt', '--name', 'sized', 'busybox', 'sh', '-c', 'trap "stty size" WINCH; while :; do sleep 0.1; done']);
    expect((await engine.http('POST', '/containers/sized/resize?h=33&w=77')).status).toBe(200);
    await until(async () => (await ok(['logs', 'sized'])).includes('33 77'));
    await ok(['rm', '-f', 'sized']);
    expect((await engine.http('POST', '/containers/sized/resize?h=1&w=1')).status).toBe(404);
  });

  it('resizes docker run -it at start and on SIGWINCH', async () => {
    const res = await onTerminal(
      [30, 100],
      [
        { expect: '# ' },
        { send: 'stty size\r' },
        { expect: '30 100' },
        { resize: [50, 132] },
        { sleep: 0.5 },
        { send: 'stty size\r' },
        { expect: '50 132' },
        { send: 'exit 2\r' },
      ],
      ['docker', 'run', '-it', '--rm', 'busybox', 'sh'],
      cliEnv(),
    );
    expect(res.code, res.stdout).toBe(2);
  });

  it('attaches over a websocket (GET /containers/{id}/attach/ws)', async () => {
    await ok(['run', '-di', '--name', 'wsbox', 'busybox', 'sh', '-c', 'echo ready; while read l; do echo "got $l"; done']);
    const ws = new WebSocket('ws://berth/v1.50/containers/wsbox/attach/ws?stream=1&stdout=1&stdin=1&logs=1', {
      dispatcher: new Agent({ connect: { socketPath: engine.socket } }),
    } as unknown as string[]);
    ws.binaryType = 'arraybuffer';
    let received = '';
    ws.onmessage = (m) => (received += Buffer.from(m.data as ArrayBuffer).toString());
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    ws.send('hello\n');
    await until(() => received.includes('got hello'));
    expect(received).toBe('ready\ngot hello\n'); // raw bytes: no stream framing on the websocket
    ws.close();
    await ok(['rm', '-f', 'wsbox']);
  });
});

describe('big outputs', () => {
  const SIZE = 50 * 1024 * 1024;
  const producer = ['sh', '-c', `yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c ${SIZE}`];
  const expected = (() => {
    const line = '0123456789abcdefghijklmnopqrstuvwxyz\n';
    const hash = createHash('sha256');
    const block = line.repeat(1000);
    let left = SIZE;
    while (left > 0) {
      const chunk = block.slice(0, Math.min(block.length, left));
      hash.update(chunk);
      left -= chunk.length;
    }
    return hash.digest('hex');
  })();
  const vmHwm = async () => Number(/VmHWM:\s+(\d+)/.exec(await readFile(`/proc/${engine.process!.pid}/status`, 'utf8'))![1]) * 1024;

  it('delivers 50 MB to an attached client and to docker logs, whole and in order, without holding it', async () => {
    const before = await vmHwm();
    const { stdout, code } = await new Promise<{ stdout: Buffer; code: number | null }>((resolve) => {
      const child = spawn('docker', ['run', '--name', 'big', 'busybox', ...producer], { env: cliEnv() });
      const hash = createHash('sha256');
      let length = 0;
      child.stdout.on('data', (d: Buffer) => {
        hash.update(d);
        length += d.length;
      });
      child.on('close', (c) => resolve({ stdout: Buffer.from(`${length} ${hash.digest('hex')}`), code: c }));
    });
    expect(code).toBe(0);
    expect(stdout.toString()).toBe(`${SIZE} ${expected}`);
    const logs = await new Promise<string>((resolve) => {
      const child = spawn('docker', ['logs', 'big'], { env: cliEnv() });
      const hash = createHash('sha256');
      let length = 0;
      child.stdout.on('data', (d: Buffer) => {
        hash.update(d);
        length += d.length;
      });
      child.on('close', () => resolve(`${length} ${hash.digest('hex')}`));
    });
    expect(logs).toBe(`${SIZE} ${expected}`);
    // The engine streamed it: its peak memory grew by less than the output (holding it, or the 110 MB
    // log behind it, would cost more than that).
    expect((await vmHwm()) - before).toBeLessThan(SIZE);
    await ok(['rm', 'big']);
  }, 120_000);
});
