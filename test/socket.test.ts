// Where and how the engine listens: its socket file, signals, systemd socket activation and notify.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { stat, readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { MAIN, TestEngine, run } from './helpers/engine.js';
import { GOLDEN } from './helpers/golden.js';

const engines: TestEngine[] = [];
const fresh = async () => {
  const engine = await TestEngine.create();
  engines.push(engine);
  return engine;
};
afterEach(async () => {
  while (engines.length) await engines.pop()!.destroy();
});

describe('the socket', () => {
  it('is created 0660 and answers the docker CLI', async () => {
    const engine = await fresh();
    await engine.start();
    const st = await stat(engine.socket);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o660);
    expect((await engine.docker(['version', '--format', '{{.Server.APIVersion}}'])).stdout.trim()).toBe('1.50');
  });

  it('replaces a stale socket file left by a crash', async () => {
    const engine = await fresh();
    // A socket file nobody listens on, as a kill -9 leaves it.
    const bind = await run('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', engine.socket]);
    expect(bind.code).toBe(0);
    expect((await stat(engine.socket)).isSocket()).toBe(true);
    await engine.start();
    expect((await engine.http('GET', '/_ping')).status).toBe(200);
  });

  it('does not steal a live socket', async () => {
    const first = await fresh();
    await first.start();
    const second = await fresh();
    const res = await run(process.execPath, [MAIN, 'serve', '--socket', first.socket, '--root', second.root, '--run-root', second.runRoot]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain(`another engine is already listening on ${first.socket}`);
    expect((await first.http('GET', '/_ping')).status).toBe(200);
  });

  it('takes the default OCI runtime from --runtime', async () => {
    const engine = await fresh();
    await engine.start(['--runtime', 'crun']);
    expect((await engine.docker(['info', '--format', '{{.DefaultRuntime}}'])).stdout).toBe('crun\n');
  });

  it('runs side by side with another engine on other paths', async () => {
    const a = await fresh();
    const b = await fresh();
    await a.start();
    await b.start();
    const ida = (await a.http('GET', '/info')).json().ID;
    const idb = (await b.http('GET', '/info')).json().ID;
    expect(ida).not.toBe(idb);
  });
});

describe('SIGTERM', () => {
  it('finishes the request in flight, then exits 0', async () => {
    const engine = await fresh();
    await engine.start();
    const archive = await readFile(join(GOLDEN, 'dockerd-busybox.tar'));
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        { socketPath: engine.socket, method: 'POST', path: '/images/load?quiet=1', headers: { 'content-type': 'application/x-tar' } },
        (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        },
      );
      req.on('error', reject);
      req.write(archive.subarray(0, 100_000));
      setTimeout(() => {
        engine.process!.kill('SIGTERM');
        setTimeout(() => req.end(archive.subarray(100_000)), 300);
      }, 200);
    });
    const exited = once(engine.process!, 'exit');
    const res = await response;
    expect(res.status).toBe(200);
    expect(res.body).toContain('Loaded image: busybox:latest');
    const [code] = await exited;
    expect(code).toBe(0);
    // The DB was closed cleanly and the state is there on the next start.
    await engine.start();
    expect((await engine.http('GET', '/images/busybox/json')).status).toBe(200);
  });
});

describe('systemd', () => {
  it('serves on a socket passed by socket activation, and exits when idle', async () => {
    const engine = await fresh();
    const activator = spawn(
      'systemd-socket-activate',
      ['-l', engine.socket, '--', process.execPath, MAIN, 'serve', '--root', engine.root, '--run-root', engine.runRoot, '--idle-exit', '2'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    activator.stderr!.on('data', (d) => (stderr += d));
    try {
      for (let i = 0; i < 50 && !(await stat(engine.socket).catch(() => undefined)); i++) await new Promise((r) => setTimeout(r, 100));
      // The first connection starts the engine.
      const res = await engine.docker(['version', '--format', '{{.Server.Version}}']);
      expect(res.stderr).toBe('');
      expect(res.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
      for (let i = 0; i < 40 && !stderr.includes('socket activation'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(stderr).toContain('socket activation');
      const [code] = (await Promise.race([once(activator, 'exit'), new Promise((_, rej) => setTimeout(() => rej(new Error('no idle exit')), 10_000))])) as [
        number,
      ];
      expect(code).toBe(0);
      expect(stderr).toContain('idle for 2s');
    } finally {
      activator.kill('SIGKILL');
    }
  });

  it('tells NOTIFY_SOCKET it is ready', async () => {
    const engine = await fresh();
    const notifySocket = join(engine.dir, 'notify.sock');
    const listener = spawn('python3', [
      '-c',
      'import socket,sys\ns=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint("bound", flush=True)\nprint(s.recv(4096).decode(), flush=True)',
      notifySocket,
    ]);
    let out = '';
    listener.stdout.on('data', (d) => (out += d));
    try {
      while (!out.includes('bound')) await new Promise((r) => setTimeout(r, 50));
      await engine.start([], { NOTIFY_SOCKET: notifySocket });
      await Promise.race([once(listener, 'exit'), new Promise((r) => setTimeout(r, 5000))]);
      expect(out).toContain('READY=1');
    } finally {
      listener.kill();
    }
  });
});
