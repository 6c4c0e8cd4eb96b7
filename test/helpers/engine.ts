// Starts real berth engines (the built dist/, as users run it) on private sockets and roots, and
// drives them with the real docker CLI and raw HTTP over the Unix socket.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { scrubNetworks } from './network.js';

export const MAIN = fileURLToPath(new URL('../../dist/server/main.js', import.meta.url));
// Overlay mounts and xattrs need a real filesystem: keep test state off tmpfs.
export const TEST_BASE = '/var/tmp';

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json: () => any;
}

export class TestEngine {
  process?: ChildProcess;
  stderr = '';

  constructor(
    readonly dir: string,
    readonly socket: string,
    readonly root: string,
    readonly runRoot: string,
  ) {}

  static async create(): Promise<TestEngine> {
    const dir = await mkdtemp(join(TEST_BASE, 'berth-test-'));
    return new TestEngine(dir, join(dir, 'berth.sock'), join(dir, 'root'), join(dir, 'run'));
  }

  static async start(extraArgs: string[] = []): Promise<TestEngine> {
    const engine = await TestEngine.create();
    await engine.start(extraArgs);
    return engine;
  }

  /** Starts `berth serve` and waits until /_ping answers; `wrap`: a command that execs it (its argv follows). */
  async start(extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}, wrap: string[] = []): Promise<void> {
    this.stderr = '';
    const argv = [...wrap, process.execPath, MAIN, 'serve', '--socket', this.socket, '--root', this.root, '--run-root', this.runRoot, ...extraArgs];
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: ['ignore', 'inherit', 'pipe'],
      env: { ...process.env, ...env },
    });
    this.process = child;
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`berth exited ${child.exitCode}: ${this.stderr}`);
      try {
        if ((await this.http('GET', '/_ping')).status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`berth did not start: ${this.stderr}`);
  }

  /** Stops the engine with a signal and waits for it to exit; returns its exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = once(child, 'exit');
    child.kill(signal);
    const [code] = (await exited) as [number | null];
    return code;
  }

  /** Stops the engine and removes everything it made: containers (their conmon and processes), mounts, files. */
  async destroy(): Promise<void> {
    if (this.process && this.process.exitCode === null) {
      // Pods first: their infra containers go only with them (and so do the pods' cgroups).
      const pods = await this.http('GET', '/v4.3.1/libpod/pods/json').then(
        (r) => (r.status === 200 ? r.json() : []),
        () => [],
      );
      await Promise.all(pods.map((p: { Id: string }) => this.http('DELETE', `/v4.3.1/libpod/pods/${p.Id}?force=true`).catch(() => undefined)));
      const list = await this.http('GET', '/containers/json?all=1').then(
        (r) => (r.status === 200 ? r.json() : []),
        () => [],
      );
      await Promise.all(list.map((c: { Id: string }) => this.http('DELETE', `/containers/${c.Id}?force=1`).catch(() => undefined)));
    }
    await this.stop('SIGKILL');
    await reapStragglers(this.dir);
    await rm(this.dir, { recursive: true, force: true });
  }

  docker(args: string[], options: { input?: Buffer | string; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
    return run('docker', args, {
      input: options.input,
      env: { ...process.env, DOCKER_HOST: `unix://${this.socket}`, DOCKER_CONFIG: join(this.dir, 'docker-config'), ...options.env },
    });
  }

  http(method: string, path: string, body?: Buffer | string | object, headers: Record<string, string> = {}): Promise<HttpResult> {
    return httpOn(this.socket, method, path, body, headers);
  }
}

export function httpOn(
  socketPath: string,
  method: string,
  path: string,
  body?: Buffer | string | object,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const payload = body === undefined ? undefined : Buffer.isBuffer(body) || typeof body === 'string' ? body : JSON.stringify(body);
  const allHeaders = {
    ...(body !== undefined && !Buffer.isBuffer(body) && typeof body === 'object' ? { 'content-type': 'application/json' } : {}),
    ...headers,
  };
  return new Promise((resolvePromise, reject) => {
    const req = httpRequest({ socketPath, method, path, headers: allHeaders }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: buf, json: () => JSON.parse(buf.toString()) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

export function run(command: string, args: string[], options: { input?: Buffer | string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Result> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.input);
  });
}

/**
 * Kills what an engine under `dir` may have left: processes whose command line names `dir` (conmon,
 * cleanups), the processes in its containers' cgroups (their command lines name nothing), and mounts.
 */
export async function reapStragglers(dir: string, o: { keepNetworks?: boolean } = {}): Promise<void> {
  const { readdir, readFile, rmdir } = await import('node:fs/promises');
  const ids = await readdir(join(dir, 'root', 'containers')).catch(() => [] as string[]);
  // Every hierarchy: the v2 root ('') and, on v1, each controller's (runc makes a dir in all of them).
  const hierarchies = ['', ...(await readdir('/sys/fs/cgroup', { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => `${d.name}/`)];
  const cgroupDirs = ids.flatMap((id) => hierarchies.map((c) => `/sys/fs/cgroup/${c}berth/${id}`));
  for (const cg of cgroupDirs) {
    await writeFileQuiet(`${cg}/freezer.state`, 'THAWED');
    for (const pid of (await readFile(`${cg}/cgroup.procs`, 'utf8').catch(() => '')).split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(dir)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  // Networks first: the record they are read from may sit on a mount of its own under dir (disk-full's
  // loop-mounted root), gone once the mounts below are.
  if (!o.keepNetworks) await scrubNetworks(join(dir, 'root')).catch(() => undefined);
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && m.startsWith(dir));
  for (const m of mounts.reverse()) await run('umount', ['-l', m]);
  await new Promise((r) => setTimeout(r, 100));
  for (const cg of cgroupDirs) await rmdir(cg).catch(() => undefined);
  // The shared parent goes too once no engine has containers in it (rmdir refuses a non-empty one).
  for (const c of hierarchies) {
    await rmdir(`/sys/fs/cgroup/${c}berth`).catch(() => undefined);
  }
}

async function writeFileQuiet(path: string, data: string): Promise<void> {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(path, data).catch(() => undefined);
}
