// testcontainers-node 11 against berth, as CI users run it: GenericContainer with exposed ports (HostPort
// "0", an ephemeral host port) and each wait strategy, the container options CI users set, exec, copies in
// and out, networks and aliases, withReuse, streamed logs, builds and commits, restart and stop. Each test
// asserts what the library reports.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { TEST_BASE } from './helpers/engine.js';
import { suiteEngine } from './helpers/suite.js';

const images = inject('images');
const engine = suiteEngine({ load: [images.busybox.archive] });
// busybox:latest is loaded, so the default pull policy finds it and never pulls.
const IMAGE = 'busybox:latest';
/** An HTTP server on 8080 that says "ready" once it is about to listen. */
const HTTPD = ['sh', '-c', 'mkdir -p /www && echo hello > /www/index.html && echo ready && exec httpd -f -p 8080 -h /www'];

let tc: typeof import('testcontainers');
let home = '';
const savedEnv = { ...process.env };

beforeAll(async () => {
  home = await mkdtemp(join(TEST_BASE, 'berth-tc-home-'));
  for (const key of Object.keys(process.env)) if (key.startsWith('TESTCONTAINERS_')) delete process.env[key];
  Object.assign(process.env, {
    DOCKER_HOST: `unix://${engine.socket}`,
    // The library reads ~/.testcontainers.properties and ~/.docker/config.json: not the user's.
    HOME: home,
    DOCKER_CONFIG: join(home, '.docker'),
    // Ryuk, the reaper container, comes from Docker Hub, which tests cannot reach: each test stops what it starts.
    TESTCONTAINERS_RYUK_DISABLED: 'true',
    TESTCONTAINERS_REUSE_ENABLE: 'true',
  });
  // Imported only now: the library settles its configuration from the environment when first used.
  tc = await import('testcontainers');
});

afterAll(async () => {
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
  Object.assign(process.env, savedEnv);
  await rm(home, { recursive: true, force: true });
});

/** The body of an HTTP GET to what the library says the container's port is. */
async function get(host: string, port: number, path = '/'): Promise<string> {
  const res = await fetch(`http://${host}:${port}${path}`);
  return `${res.status} ${await res.text()}`;
}

/** Files of a tar stream, by name. */
async function untar(stream: NodeJS.ReadableStream): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const extract = tar.extract();
  stream.pipe(extract);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) if (Buffer.isBuffer(chunk)) chunks.push(chunk);
    out[entry.header.name] = entry.header.type === 'directory' ? '<dir>' : Buffer.concat(chunks).toString();
  }
  return out;
}

/** What the engine still holds: containers and networks of its own making (bridge, host, none stay). */
async function remaining(): Promise<{ containers: string[]; networks: string[] }> {
  const containers = (await engine.http('GET', '/containers/json?all=1')).json().map((c: { Names: string[] }) => c.Names[0]);
  const networks = (await engine.http('GET', '/networks'))
    .json()
    .map((n: { Name: string }) => n.Name)
    .filter((n: string) => !['bridge', 'host', 'none'].includes(n));
  return { containers, networks };
}

describe('testcontainers against berth', () => {
  it('starts with the default wait (listening ports), maps 8080 to an ephemeral host port, and answers there', async () => {
    const c = await new tc.GenericContainer(IMAGE).withCommand(HTTPD).withExposedPorts(8080).withEnvironment({ K: 'V' }).withLabels({ suite: 'tc' }).start();
    try {
      const port = c.getMappedPort(8080);
      expect(port).toBeGreaterThanOrEqual(1024);
      expect(c.getFirstMappedPort()).toBe(port);
      expect(await get(c.getHost(), port)).toBe('200 hello\n');
      expect(c.getLabels()).toMatchObject({ suite: 'tc', 'org.testcontainers': 'true' });
      // Inside a container (/.dockerenv) the library takes the bridge's gateway as the host: berth reports one,
      // so it never runs its alpine probe (which would need Docker Hub).
      const gateway = (await engine.http('GET', '/networks/bridge')).json().IPAM.Config[0].Gateway;
      expect(c.getHost()).toBe(existsSync('/.dockerenv') ? gateway : 'localhost');
      // What the docker CLI sees of the same container.
      expect((await engine.docker(['port', c.getId(), '8080/tcp'])).stdout.trim()).toBe(`0.0.0.0:${port}`);
      const inspected = JSON.parse((await engine.docker(['inspect', c.getId()])).stdout)[0];
      expect(inspected.HostConfig.PortBindings).toEqual({ '8080/tcp': [{ HostIp: '', HostPort: '0' }] });
      expect(inspected.Config.Env).toContain('K=V');
    } finally {
      await c.stop();
    }
    expect((await engine.http('GET', `/containers/${c.getId()}/json`)).status).toBe(404); // stop removes it
  });

  it('waits for a log message, an HTTP answer and a successful command', async () => {
    const settled = await Promise.allSettled([
      new tc.GenericContainer(IMAGE)
        .withCommand(['sh', '-c', 'sleep 1; echo warming; echo all systems go; exec sleep 300'])
        .withWaitStrategy(tc.Wait.forLogMessage('all systems go'))
        .withStartupTimeout(20_000)
        .start(),
      new tc.GenericContainer(IMAGE)
        .withCommand(['sh', '-c', `sleep 1; ${HTTPD[2]}`])
        .withExposedPorts(8080)
        .withWaitStrategy(tc.Wait.forHttp('/index.html', 8080).forStatusCode(200))
        .withStartupTimeout(20_000)
        .start(),
      new tc.GenericContainer(IMAGE)
        .withCommand(['sh', '-c', 'sleep 1; touch /tmp/ready; exec sleep 300'])
        .withWaitStrategy(tc.Wait.forSuccessfulCommand('test -f /tmp/ready'))
        .withStartupTimeout(20_000)
        .start(),
    ]);
    const started = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    try {
      const failed = settled.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      const [byLog, byHttp, byCommand] = started as [(typeof started)[0], (typeof started)[0], (typeof started)[0]];
      expect((await byLog.exec(['echo', 'up'])).output).toBe('up\n');
      expect(await get(byHttp.getHost(), byHttp.getMappedPort(8080), '/index.html')).toBe('200 hello\n');
      expect((await byCommand.exec(['ls', '/tmp/ready'])).exitCode).toBe(0);
    } finally {
      await Promise.all(started.map((c) => c.stop()));
    }
  });

  it('waits for a healthy health check', async () => {
    const c = await new tc.GenericContainer(IMAGE)
      .withCommand(['sh', '-c', 'sleep 1; touch /tmp/healthy; exec sleep 300'])
      .withHealthCheck({ test: ['CMD-SHELL', 'test -f /tmp/healthy'], interval: 500, timeout: 1000, retries: 10, startPeriod: 0 })
      .withWaitStrategy(tc.Wait.forHealthCheck())
      .withStartupTimeout(20_000)
      .start();
    try {
      const state = JSON.parse((await engine.docker(['inspect', '-f', '{{json .State.Health}}', c.getId()])).stdout);
      expect(state.Status).toBe('healthy');
    } finally {
      await c.stop();
    }
    // A check that never passes: start() rejects with the library's words once the container is unhealthy.
    const failing = new tc.GenericContainer(IMAGE)
      .withName('tc-unhealthy')
      .withCommand(['sleep', '300'])
      .withHealthCheck({ test: ['CMD', 'false'], interval: 200, timeout: 1000, retries: 2 })
      .withWaitStrategy(tc.Wait.forHealthCheck())
      .withStartupTimeout(20_000);
    await expect(failing.start()).rejects.toThrow('Health check failed: unhealthy');
    await engine.docker(['rm', '-f', 'tc-unhealthy']);
  });

  it('applies name, hostname, tmpfs, binds, extra hosts, quotas, shm, ulimits, capabilities; execs with output, exit code, user, dir, env', async () => {
    const c = await new tc.GenericContainer(IMAGE)
      .withCommand(['sleep', '300'])
      .withName('tc-exec')
      .withHostname('tchost')
      .withTmpFs({ '/scratch': 'rw,size=1m' })
      .withBindMounts([{ source: home, target: '/home-dir', mode: 'ro' }])
      .withExtraHosts([{ host: 'db.test', ipAddress: '10.1.2.3' }])
      .withResourcesQuota({ memory: 0.25, cpu: 0.5 })
      .withSharedMemorySize(8 * 1024 * 1024)
      .withUlimits({ nofile: { soft: 1000, hard: 1000 } })
      .withAddedCapabilities('NET_ADMIN')
      .withWorkingDir('/etc')
      .withWaitStrategy(tc.Wait.forAll([tc.Wait.forSuccessfulCommand('test -d /scratch'), tc.Wait.forSuccessfulCommand('test -d /home-dir')]))
      .start();
    try {
      expect(c.getName()).toBe('/tc-exec');
      expect(c.getHostname()).toBe('tchost');
      const mounts = await c.exec(['sh', '-c', 'hostname; grep -E " /(scratch|home-dir) " /proc/mounts | cut -d" " -f2,3,4 | cut -d, -f1']);
      expect(mounts.stdout).toMatch(/^tchost\n\/home-dir \S+ ro\n\/scratch tmpfs rw\n$/);
      const limits = await c.exec([
        'sh',
        '-c',
        'pwd; grep db.test /etc/hosts; df -k /dev/shm | tail -1; ulimit -n; ip link set lo mtu 1500 && echo net-admin; cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max',
      ]);
      expect(limits.stdout, limits.stderr).toMatch(/^\/etc\n10\.1\.2\.3\tdb\.test\nshm +8192 .*\n1000\nnet-admin\n268435456\n$/);
      const hc = JSON.parse((await engine.docker(['inspect', '-f', '{{json .HostConfig}}', c.getId()])).stdout);
      expect(hc).toMatchObject({
        Memory: 268435456,
        NanoCpus: 500000000,
        ShmSize: 8388608,
        CapAdd: ['NET_ADMIN'],
        Ulimits: [{ Name: 'nofile', Soft: 1000, Hard: 1000 }],
      });
      const res = await c.exec(['sh', '-c', 'echo out; echo err >&2; exit 3']);
      expect(res).toEqual({ output: 'out\nerr\n', stdout: 'out\n', stderr: 'err\n', exitCode: 3 });
      const opts = await c.exec(['sh', '-c', 'id -u; pwd; echo $GREETING'], { user: '1000', workingDir: '/tmp', env: { GREETING: 'hi' } });
      expect(opts).toMatchObject({ stdout: '1000\n/tmp\nhi\n', exitCode: 0 });
      const missing = await c.exec(['/no/such/binary']);
      expect(missing.exitCode).toBe(126);
    } finally {
      await c.stop();
    }
  });

  it('copies content, files and archives in before and after start, and archives out, also from a stopped container', async () => {
    const file = join(home, 'file.txt');
    await writeFile(file, 'from a file\n');
    const c = await new tc.GenericContainer(IMAGE)
      .withCommand(['sleep', '300'])
      .withCopyContentToContainer([{ content: 'before start\n', target: '/data/before.txt', mode: 0o640 }])
      .withCopyFilesToContainer([{ source: file, target: '/data/file.txt' }])
      .withWaitStrategy(tc.Wait.forSuccessfulCommand('test -f /data/before.txt'))
      .start();
    let stopped: Awaited<ReturnType<typeof c.stop>> | undefined;
    try {
      await c.copyContentToContainer([{ content: Buffer.from('after start\n'), target: '/data/after.txt' }]);
      const pack = tar.pack();
      pack.entry({ name: 'packed/one.txt' }, 'one\n');
      pack.finalize();
      await c.copyArchiveToContainer(Readable.from(pack), '/data');
      const listed = await c.exec(['sh', '-c', 'stat -c "%n %a" /data/before.txt; cat /data/before.txt /data/file.txt /data/after.txt /data/packed/one.txt']);
      expect(listed.stdout).toBe('/data/before.txt 640\nbefore start\nfrom a file\nafter start\none\n');
      const out = await untar(await c.copyArchiveFromContainer('/data'));
      expect(out).toMatchObject({
        'data/before.txt': 'before start\n',
        'data/file.txt': 'from a file\n',
        'data/after.txt': 'after start\n',
        'data/packed/one.txt': 'one\n',
      });
      await c.exec(['sh', '-c', 'echo last > /data/last.txt']);
      stopped = await c.stop({ remove: false });
      expect(await untar(await stopped.copyArchiveFromContainer('/data/last.txt'))).toEqual({ 'last.txt': 'last\n' });
      await expect(stopped.copyArchiveFromContainer('/no/such/path')).rejects.toThrow(/404|[Nn]o such|not find/);
    } finally {
      if (stopped) await engine.http('DELETE', `/containers/${c.getId()}?force=1`);
      else await c.stop();
    }
  });

  it('joins a network with an alias that a second container reaches', async () => {
    // Named to sort before "bridge", so that the order the library reports is the order dockerd encodes.
    const network = await new tc.Network({ nextUuid: () => 'appnet' }).start();
    try {
      const web = await new tc.GenericContainer(IMAGE).withCommand(HTTPD).withExposedPorts(8080).withNetwork(network).withNetworkAliases('web', 'www').start();
      try {
        // With aliases the library creates on the default bridge and then connects: both, in dockerd's (sorted) order.
        expect(web.getNetworkNames()).toEqual([network.getName(), 'bridge'].sort());
        expect(web.getIpAddress(network.getName())).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
        expect(web.getNetworkId(network.getName())).toBe(network.getId());
        const client = await new tc.GenericContainer(IMAGE)
          .withCommand(['sleep', '300'])
          .withNetwork(network)
          .withWaitStrategy(tc.Wait.forSuccessfulCommand('true'))
          .start();
        try {
          const fetched = await client.exec(['wget', '-qO-', 'http://web:8080/index.html']);
          expect(fetched).toMatchObject({ exitCode: 0, stdout: 'hello\n' });
          const looked = await client.exec(['nslookup', 'www']);
          expect(looked.stdout).toContain(web.getIpAddress(network.getName()));
        } finally {
          await client.stop();
        }
      } finally {
        await web.stop();
      }
    } finally {
      await network.stop();
    }
    expect(await remaining()).toEqual({ containers: [], networks: [] });
  });

  it('reuses a running container with withReuse, and starts a new one when the configuration differs', async () => {
    const reusable = () =>
      new tc.GenericContainer(IMAGE)
        .withCommand(['sleep', '300'])
        .withLabels({ reuse: 'me' })
        .withWaitStrategy(tc.Wait.forSuccessfulCommand('true'))
        .withReuse();
    const first = await reusable().start();
    const second = await reusable().start();
    const other = await new tc.GenericContainer(IMAGE).withCommand(['sleep', '301']).withWaitStrategy(tc.Wait.forSuccessfulCommand('true')).withReuse().start();
    try {
      expect(second.getId()).toBe(first.getId());
      expect(other.getId()).not.toBe(first.getId());
      expect((await remaining()).containers).toHaveLength(2);
    } finally {
      await first.stop();
      await other.stop();
    }
  });

  it('streams logs as they are written, and the log consumer sees them too', async () => {
    const consumed: string[] = [];
    const c = await new tc.GenericContainer(IMAGE)
      .withCommand(['sh', '-c', 'echo first; echo to-stderr >&2; sleep 1; echo second; exec sleep 300'])
      .withLogConsumer((stream) => stream.on('data', (line: Buffer | string) => consumed.push(line.toString())))
      .withWaitStrategy(tc.Wait.forLogMessage('first'))
      .start();
    try {
      const stream = await c.logs();
      const seen: string[] = [];
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only saw ${JSON.stringify(seen)}`)), 10_000);
        stream.on('data', (line: Buffer | string) => {
          seen.push(line.toString());
          if (seen.join('').includes('second')) {
            clearTimeout(timer);
            resolve();
          }
        });
        stream.on('error', reject);
      });
      stream.destroy();
      expect(seen.join('')).toBe('first\nto-stderr\nsecond\n');
      // The consumer has its own follow stream: it sees the same lines, maybe a moment later.
      for (let i = 0; i < 50 && !consumed.join('').includes('second'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(consumed.join('')).toBe('first\nto-stderr\nsecond\n');
      const tail = await c.logs({ tail: 1 });
      const last = await new Promise<string>((resolve) => tail.once('data', (line: Buffer | string) => resolve(line.toString())));
      tail.destroy();
      expect(last).toBe('second\n');
    } finally {
      await c.stop();
    }
  });

  it('builds from a Dockerfile with build args, runs the image, and commits a container with changes', async () => {
    const context = join(home, 'context');
    await mkdir(context);
    await writeFile(join(context, 'hello.txt'), 'hello from the context\n');
    await writeFile(
      join(context, 'Dockerfile'),
      [`FROM ${IMAGE}`, 'ARG WORD=unset', 'COPY hello.txt /hello.txt', 'RUN echo "$WORD" > /word', 'CMD ["sh", "-c", "cat /word; exec sleep 300"]', ''].join(
        '\n',
      ),
    );
    // deleteOnExit needs Ryuk (disabled here): the test removes its images itself.
    const built = await tc.GenericContainer.fromDockerfile(context).withBuildArgs({ WORD: 'argued' }).build('tc-built:1', { deleteOnExit: false });
    const made: string[] = ['tc-built:1'];
    try {
      const c = await built.withWaitStrategy(tc.Wait.forLogMessage('argued')).start();
      try {
        expect((await c.exec(['cat', '/hello.txt'])).stdout).toBe('hello from the context\n');
        await c.exec(['sh', '-c', 'echo changed > /changed']);
        const id = await c.commit({ repo: 'tc-committed', tag: 'v1', deleteOnExit: false, changes: ['ENV COMMITTED=yes'] });
        made.push(id);
        expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
      } finally {
        await c.stop();
      }
      const committed = await new tc.GenericContainer('tc-committed:v1').withWaitStrategy(tc.Wait.forLogMessage('argued')).start();
      try {
        expect((await committed.exec(['sh', '-c', 'cat /changed; echo $COMMITTED'])).stdout).toBe('changed\nyes\n');
      } finally {
        await committed.stop();
      }
    } finally {
      for (const image of made.reverse()) await engine.docker(['rmi', '-f', image]);
      await engine.docker(['rmi', 'tc-committed:v1']);
    }
  });

  it('restarts (the container runs again and answers on its mapped port) and stops', async () => {
    const c = await new tc.GenericContainer(IMAGE)
      .withCommand(['sh', '-c', 'echo started; echo "$(date +%s%N)" > /tmp/boot; ' + HTTPD[2]])
      .withExposedPorts(8080)
      .start();
    try {
      const boot = (await c.exec(['cat', '/tmp/boot'])).stdout;
      await c.restart({ timeout: 1_000 });
      const state = JSON.parse((await engine.docker(['inspect', '-f', '{{json .State}}', c.getId()])).stdout);
      expect(state).toMatchObject({ Running: true, Restarting: false });
      for (let i = 0; i < 50 && (await get(c.getHost(), c.getMappedPort(8080)).catch(() => '')) !== '200 hello\n'; i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(await get(c.getHost(), c.getMappedPort(8080))).toBe('200 hello\n');
      expect((await c.exec(['cat', '/tmp/boot'])).stdout).not.toBe(boot);
    } finally {
      await c.stop({ timeout: 1_000 });
    }
    expect(await remaining()).toEqual({ containers: [], networks: [] });
  });
});
