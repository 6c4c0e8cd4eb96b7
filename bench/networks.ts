// berth vs dockerd on networks: 20 containers started on one user-defined bridge network with a published
// port each, and the throughput of a 1 GiB transfer through a published port on 127.0.0.1. Same docker
// CLI workload against both engines in one run; berth on netavark + aardvark-dns, dockerd with its own
// bridge driver, iptables rules and docker-proxy (its defaults). Needs root, the docker CLI and docker.io.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import {
  docker,
  dockerNetworkingPresent,
  printHeader,
  printTable,
  removeDockerNetworking,
  runBench,
  startWithBusybox,
  step,
  type Engine,
  type Row,
} from './harness.js';

const IMAGE = 'busybox:latest';
const NETWORK = 'benchnet';
const STARTED = 20; // containers started one after another on NETWORK, each with -p PORT:80
const TRANSFER = 2 ** 30; // bytes through one published port
const TRANSFERS = 3;
// Host ports: one block per engine, so a port the other engine held a moment ago is never reused.
const basePort = (e: Engine) => (e.name === 'berth' ? 28000 : 29000);

// Serves N bytes of zeros to every connection on :80, in 1 MiB writes.
const SENDER = `
const n = Number(process.argv[1]); const chunk = Buffer.alloc(1 << 20);
require('net').createServer((s) => { let left = n; const more = () => { while (left > 0) { left -= chunk.length; if (!s.write(chunk)) return s.once('drain', more); } s.end(); }; s.on('error', () => {}); more(); }).listen(80);`;

const lines = (s: string) => s.trim().split('\n').filter(Boolean);

async function removeAll(e: Engine): Promise<void> {
  const ids = lines((await docker(e, ['ps', '-aq'])).stdout);
  if (ids.length) await docker(e, ['rm', '-f', ...ids]);
  await docker(e, ['network', 'rm', NETWORK]).catch(() => undefined);
}

/** An HTTP GET of /hostname (httpd -h /etc) on 127.0.0.1:port until it answers (a few tries while the server starts). */
async function answers(port: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/hostname`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return true;
    await sleep(100);
  }
  return false;
}

/**
 * Reads TRANSFER bytes from 127.0.0.1:port; the milliseconds from connect to the last byte. A connection
 * that ends early (the server was between two transfers, or a proxy found nothing listening yet) is retried.
 */
async function receive(port: number): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const result = await new Promise<number | undefined>((resolve) => {
      const start = performance.now();
      let got = 0;
      const socket = connect(port, '127.0.0.1');
      socket.on('data', (d: Buffer) => {
        got += d.length;
        if (got >= TRANSFER) {
          resolve(performance.now() - start);
          socket.destroy();
        }
      });
      socket.on('error', () => resolve(undefined));
      socket.on('close', () => resolve(undefined));
    });
    if (result !== undefined) return result;
    await sleep(100);
  }
  throw new Error(`no ${TRANSFER}-byte transfer from port ${port}`);
}

const hadDockerNetworking = dockerNetworkingPresent();

await runBench(async (bench) => {
  const { dir, engines } = bench;
  bench.beforeStop(async () => {
    for (const e of engines) await removeAll(e).catch((err: Error) => process.stderr.write(`bench: cleaning ${e.name}: ${err.message}\n`));
  });
  await startWithBusybox(dir, engines, IMAGE, true);
  const loadAvg = os.loadavg()[0].toFixed(2);
  const rows: Row[] = [];

  // 1. 20 web servers on one user network, each published on its own host port, started one by one.
  await step(rows, engines, `docker run -d --network ${NETWORK} -p P:80 httpd, ${STARTED} one after another, wall time`, 'ms', async (e) => {
    try {
      await docker(e, ['network', 'create', NETWORK]);
      const start = performance.now();
      for (let i = 0; i < STARTED; i++) {
        await docker(e, ['run', '-d', '--network', NETWORK, '-p', `${basePort(e) + i}:80`, IMAGE, 'httpd', '-f', '-p', '80', '-h', '/etc']);
      }
      const ms = performance.now() - start;
      for (let i = 0; i < STARTED; i++) if (!(await answers(basePort(e) + i))) throw new Error(`port ${basePort(e) + i} does not answer`);
      return ms;
    } finally {
      await removeAll(e);
    }
  });

  // 2. 1 GiB from a container's network namespace to the host through a published port. busybox's nc
  //    tops out near 70 MiB/s on both engines, so the sender is a Node server run in the container's
  //    namespace (nsenter): what is measured is the forwarding path, not the program.
  await step(rows, engines, `1 GiB through a published port (127.0.0.1), median of ${TRANSFERS}`, 'ms', async (e) => {
    const port = basePort(e) + 100;
    let sender: ChildProcess | undefined;
    try {
      const id = (await docker(e, ['run', '-d', '-p', `${port}:80`, IMAGE, 'sleep', '1000'])).stdout.trim();
      const pid = (await docker(e, ['inspect', '-f', '{{.State.Pid}}', id])).stdout.trim();
      sender = spawn('nsenter', [`--net=/proc/${pid}/ns/net`, process.execPath, '-e', SENDER, String(TRANSFER)], { stdio: 'ignore' });
      bench.track(sender.pid!);
      const ms: number[] = [];
      for (let i = 0; i < TRANSFERS; i++) ms.push(await receive(port));
      process.stderr.write(`bench: ${e.name}: ${ms.map((m) => `${(TRANSFER / 2 ** 20 / (m / 1000)).toFixed(0)} MiB/s`).join(', ')}\n`);
      return ms;
    } finally {
      sender?.kill('SIGKILL');
      await removeAll(e);
    }
  });

  await printHeader(engines, dir, loadAvg);
  printTable(
    rows,
    engines.map((e) => e.name),
  );
});

// dockerd leaves its docker0 bridge and DOCKER chains behind; unless a dockerd of the host had them, they go.
if (!hadDockerNetworking) removeDockerNetworking();
else process.stderr.write('bench: docker0 / DOCKER chains were there before the run: left alone\n');
