// docker-compose v1 (Debian's 1.29.2, on docker-py, speaking API 1.38) unchanged against berth: what its
// own integration suite showed failing where dockerd 20.10 passes.
import { afterEach, describe, expect, inject, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suiteEngine } from './helpers/suite.js';
import { TEST_BASE, run } from './helpers/engine.js';
import { dockerPy } from './helpers/docker-py.js';

const images = inject('images');
const engine = suiteEngine({ load: [images.busybox.archive] });

let dir: string | undefined;

/** A project directory holding `compose` as docker-compose.yml; its project name is `name`. */
async function project(name: string, compose: string): Promise<string> {
  dir = await mkdtemp(join(TEST_BASE, 'berth-compose-'));
  const d = join(dir, name);
  await run('mkdir', [d]);
  await writeFile(join(d, 'docker-compose.yml'), compose);
  return d;
}

/** docker-compose in the project directory against the engine, which must succeed; its output. */
async function compose(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const res = await run('/usr/bin/docker-compose', args, { cwd, env: { PATH: process.env.PATH, ...env, DOCKER_HOST: `unix://${engine.socket}` } });
  expect(res.code, res.stderr).toBe(0);
  return res.stdout;
}

const inspect = async (id: string) => JSON.parse((await engine.docker(['inspect', id])).stdout)[0];

afterEach(async () => {
  if (!dir) return;
  for (const name of ['recreate', 'mounts', 'envipc', 'echo']) {
    await run('/usr/bin/docker-compose', ['down', '-v'], {
      cwd: join(dir, name),
      env: { PATH: process.env.PATH, DOCKER_HOST: `unix://${engine.socket}` },
    }).catch(() => undefined);
  }
  await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('docker-compose 1.29', () => {
  it("recreates a service (it reads the image's ContainerConfig.Volumes, an object even for an image without one)", async () => {
    const d = await project('recreate', "version: '2.4'\nservices:\n  web:\n    image: busybox:latest\n    command: top\n");
    await compose(d, ['up', '-d']);
    const before = (await compose(d, ['ps', '-q'])).trim();
    await compose(d, ['up', '-d', '--force-recreate']);
    const after = (await compose(d, ['ps', '-q'])).trim();
    expect(after).toMatch(/^[0-9a-f]{64}$/);
    expect(after).not.toBe(before);
    // docker-py's image inspect at dockerd 20.10's API: the zero container.Config, not null.
    const res = await dockerPy(engine.socket, "print(json.dumps(client.api.inspect_image('busybox:latest')['ContainerConfig']))", { version: '1.41' });
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ Hostname: '', Env: null, Cmd: null, Image: '', Volumes: null, Labels: null });
  });

  it('creates long-syntax tmpfs and anonymous volume mounts (docker-py sends Source and ReadOnly null)', async () => {
    const d = await project(
      'mounts',
      "version: '3.7'\nservices:\n  web:\n    image: busybox:latest\n    command: top\n    volumes:\n      - type: tmpfs\n        target: /scratch\n      - type: volume\n        target: /data\n",
    );
    await compose(d, ['up', '-d']);
    const id = (await compose(d, ['ps', '-q'])).trim();
    const mounts = (await inspect(id)).Mounts as { Type: string; Destination: string }[];
    expect(mounts.map((m) => `${m.Type}:${m.Destination}`).sort()).toEqual(['tmpfs:/scratch', 'volume:/data']);
  });

  it("runs a service whose environment names an unset variable, and gives an API 1.38 client's containers shareable IPC", async () => {
    const d = await project(
      'envipc',
      "version: '2.4'\nservices:\n  web:\n    image: busybox:latest\n    command: top\n    environment:\n      - NO_DEF\n      - SET=1\n",
    );
    // compose's own suite pins API 1.38 (COMPOSE_API_VERSION does so for the CLI).
    await compose(d, ['up', '-d'], { COMPOSE_API_VERSION: '1.38' });
    const id = (await compose(d, ['ps', '-q'])).trim();
    const c = await inspect(id);
    expect(c.State.Running).toBe(true);
    expect(c.Config.Env).toContain('NO_DEF');
    expect(c.HostConfig.IpcMode).toBe('shareable');
    const env = (await engine.docker(['exec', id, 'env'])).stdout;
    expect(env).toContain('SET=1');
    expect(env).not.toContain('NO_DEF');
  });

  it('shows HostConfig.Dns, DnsOptions and DnsSearch as sent: null when a docker-py client sent none, [] from the CLI', async () => {
    const res = await dockerPy(
      engine.socket,
      "x = client.api.create_container('busybox:latest', ['true'], host_config=client.api.create_host_config())\n" +
        "h = client.api.inspect_container(x)['HostConfig']\nprint(json.dumps([h['Dns'], h['DnsOptions'], h['DnsSearch']]))\nclient.api.remove_container(x)",
      { version: '1.38' },
    );
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual([null, null, null]);
    const id = (await engine.docker(['create', 'busybox:latest', 'true'])).stdout.trim();
    const hc = (await inspect(id)).HostConfig;
    await engine.docker(['rm', id]);
    expect([hc.Dns, hc.DnsOptions, hc.DnsSearch]).toEqual([[], [], []]);
  });

  it("`up` attached prints every container's exit: its die event comes once a wait would answer", async () => {
    // compose stops tailing on a container's die event; the tail's last line needs a wait answered first.
    const d = await project(
      'echo',
      'services:\n  simple:\n    image: busybox:latest\n    command: echo simple\n  another:\n    image: busybox:latest\n    command: echo another\n',
    );
    for (let i = 0; i < 4; i++) {
      const out = await compose(d, ['up']);
      expect(out).toMatch(/echo_simple_1 exited with code 0/);
      expect(out).toMatch(/echo_another_1 exited with code 0/);
    }
  }, 120_000);
});
