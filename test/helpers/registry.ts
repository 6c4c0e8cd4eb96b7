// A real registry for the tests: Debian's docker-registry (distribution 2.8) on 127.0.0.1, on a free
// port, its storage in a temp dir; stopped and removed by stop().
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { once } from 'node:events';
import { TEST_BASE, run } from './engine.js';
import { freePort } from './network.js';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';

export class TestRegistry {
  private constructor(
    readonly dir: string,
    readonly address: string,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {}

  /** host:port, as image names use it. */
  get host(): string {
    return `${this.address}:${this.port}`;
  }

  /** `extraConfig` is appended to the YAML (after the `http:` block: indent to add to it). */
  /** `at`: another address, in a network namespace (test/helpers/netns.ts), instead of 127.0.0.1. */
  static async start(extraConfig = '', scheme: 'http' | 'https' = 'http', at?: { address: string; exec: string[] }): Promise<TestRegistry> {
    const dir = await mkdtemp(join(TEST_BASE, 'berth-registry-'));
    const address = at?.address ?? '127.0.0.1';
    const port = at ? 5000 : await freePort();
    await writeFile(
      join(dir, 'config.yml'),
      [
        'version: 0.1',
        'log: {level: error}',
        'storage:',
        `  filesystem: {rootdirectory: ${join(dir, 'data')}}`,
        '  delete: {enabled: true}',
        'http:',
        `  addr: ${address}:${port}`,
        '  secret: berth-test',
        extraConfig,
      ].join('\n'),
    );
    const [command, ...args] = [...(at?.exec ?? []), REGISTRY_BINARY, 'serve', join(dir, 'config.yml')];
    const child = spawn(command!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
    const registry = new TestRegistry(dir, address, port, child);
    for (let i = 0; i < 100; i++) {
      if (child.exitCode !== null) throw new Error(`docker-registry exited: ${log}`);
      // A TLS registry: up once it accepts a connection (it may demand a client certificate).
      const up =
        scheme === 'http'
          ? await fetch(`http://${address}:${port}/v2/`).then(
              (r) => r.status < 500,
              () => false,
            )
          : await new Promise<boolean>((resolve) => {
              const socket = createConnection(port, address, () => (socket.destroy(), resolve(true)));
              socket.on('error', () => resolve(false));
            });
      if (up) return registry;
      await new Promise((r) => setTimeout(r, 100));
    }
    await registry.stop();
    throw new Error(`docker-registry did not start: ${log}`);
  }

  /** Copies an image archive into the registry with skopeo (an independent client). */
  async pushArchive(archive: string, name: string): Promise<void> {
    const res = await run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${this.host}/${name}`]);
    if (res.code !== 0) throw new Error(`skopeo copy: ${res.stderr}`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = once(this.child, 'exit');
      this.child.kill('SIGKILL');
      await exited;
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
