// podman --remote's system commands against berth, beside Podman's own service: version, info (host,
// store, registries from registries.conf), events (libpod's names, filters, times, live streaming),
// system df, system prune, and a system connection to berth's socket.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TEST_BASE, TestEngine, run } from '../helpers/engine.js';
import { PODMAN, PodmanService, podmanClient, type PodmanClient } from '../helpers/podman.js';

const images = inject('images');
const REGISTRIES = `unqualified-search-registries = ["docker.io", "quay.io"]
[[registry]]
prefix = "example.com/foo"
location = "localhost:5000/foo"
insecure = true
[[registry.mirror]]
location = "mirror.example.com"
[[registry]]
location = "blocked.example.com"
blocked = true
`;

let confDir: string;
let engine: TestEngine;
let berth: PodmanClient;
let oracle: PodmanService;
beforeAll(async () => {
  confDir = await mkdtemp(join(TEST_BASE, 'berth-sysconf-'));
  const registries = join(confDir, 'registries.conf');
  await writeFile(registries, REGISTRIES);
  [engine, oracle] = await Promise.all([
    TestEngine.start(['--registries-conf', registries]),
    PodmanService.start({ subnet: '10.231.27.0/24', env: { CONTAINERS_REGISTRIES_CONF: registries } }),
  ]);
  berth = await podmanClient(engine.socket, engine.dir);
  await writeFile(join(engine.dir, 'podman-client', 'auth.json'), '{}');
  await writeFile(join(oracle.dir, 'podman-client', 'auth.json'), '{}');
  expect((await engine.docker(['load', '-i', images.busybox.archive])).code).toBe(0);
  expect((await oracle.podman(['load', '-i', images.busybox.archive])).code).toBe(0);
}, 120_000);
afterAll(async () => {
  await Promise.all([engine?.destroy(), oracle?.stop()]);
  if (confDir) await rm(confDir, { recursive: true, force: true });
});

const docker = async (args: string[]) => {
  const r = await engine.docker(args);
  expect(r.code, `docker ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout.trim();
};
const both = (args: string[]) => Promise.all([berth.podman(args), oracle.podman(args)]);

interface PodmanEvent {
  ID?: string;
  Name?: string;
  Image?: string;
  Status: string;
  Type: string;
  Attributes?: Record<string, string>;
}
/** `podman events --stream=false --format json` with the filters given: podman's Event structs, in order, `sync` left out. */
async function events(client: { podman: PodmanClient['podman'] }, ...args: string[]): Promise<PodmanEvent[]> {
  const r = await client.podman(['events', '--stream=false', '--format', 'json', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as PodmanEvent)
    .filter((e) => e.Status !== 'sync');
}

describe('podman --remote version and info', () => {
  it('prints the server version as podman does (its Go version aside)', async () => {
    const [ours, theirs] = await both(['version']);
    expect(theirs.code).toBe(0);
    const server = (out: string) => out.slice(out.indexOf('Server:')).replace(/^Go Version:.*$/m, '');
    expect(ours.code, ours.stderr).toBe(0);
    expect(server(ours.stdout)).toBe(server(theirs.stdout));
  });

  it('prints the info document: host, store and plugins as podman has them on this host', async () => {
    const [ours, theirs] = await both(['info', '--format', 'json']);
    expect(theirs.code).toBe(0);
    expect(ours.code, ours.stderr).toBe(0);
    const o = JSON.parse(ours.stdout);
    const t = JSON.parse(theirs.stdout);
    const pick = (i: typeof o) => ({
      host: {
        arch: i.host.arch,
        buildahVersion: i.host.buildahVersion,
        cgroupManager: i.host.cgroupManager,
        cgroupVersion: i.host.cgroupVersion,
        cgroupControllers: i.host.cgroupControllers,
        conmon: i.host.conmon,
        cpus: i.host.cpus,
        distribution: i.host.distribution,
        eventLogger: i.host.eventLogger,
        hostname: i.host.hostname,
        kernel: i.host.kernel,
        linkmode: i.host.linkmode,
        logDriver: i.host.logDriver,
        memTotal: i.host.memTotal,
        networkBackend: i.host.networkBackend,
        runtime: [i.host.ociRuntime.name, i.host.ociRuntime.package, i.host.ociRuntime.version],
        os: i.host.os,
        security: { ...i.host.security, seccompProfilePath: undefined },
        swapTotal: i.host.swapTotal,
        days: /\(Approximately [\d.]+ days\)$/.test(i.host.uptime),
      },
      store: {
        graphDriverName: i.store.graphDriverName,
        graphStatus: i.store.graphStatus,
        graphRootAllocated: i.store.graphRootAllocated > 0,
        containerStore: i.store.containerStore,
      },
      version: { ...i.version, GoVersion: undefined },
    });
    expect(pick(o)).toEqual(pick(t));
    expect(o.store).toMatchObject({ graphRoot: engine.root, runRoot: engine.runRoot, volumePath: join(engine.root, 'volumes'), imageStore: { number: 1 } });
    expect(o.host.remoteSocket).toEqual({ path: `unix://${engine.socket}`, exists: true });
    expect(o.host.memFree).toBeGreaterThan(0);
  });

  it('shows registries.conf: the search registries and each [[registry]], as podman does', async () => {
    const format = ['info', '--format', '{{json .Registries}}'];
    const [ours, theirs] = await both(format);
    expect(theirs.code).toBe(0);
    expect(JSON.parse(theirs.stdout).search).toEqual(['docker.io', 'quay.io']);
    expect(ours).toMatchObject({ code: 0, stdout: theirs.stdout });
    // The YAML podman prints by default, too.
    const [yours, mine] = await both(['info']);
    const section = (out: string) => out.slice(out.indexOf('registries:'), out.indexOf('store:'));
    expect(mine.code, mine.stderr).toBe(0);
    expect(section(mine.stdout)).toBe(section(yours.stdout));
  });
});

describe('podman --remote events', () => {
  it("names a container's life as podman does: init, died and cleanup, remove; labels and exit code in the attributes", async () => {
    const flow = async (run: (args: string[]) => Promise<unknown>) => {
      await run(['run', '-d', '--name', 'evlife', '--label', 'tier=web', 'busybox', 'sleep', '100']);
      await run(['kill', 'evlife']);
      await run(['wait', 'evlife']);
      await run(['rm', 'evlife']);
    };
    await flow(docker);
    await flow(async (args) => expect((await oracle.podman(args)).code).toBe(0));
    const project = (list: PodmanEvent[]) =>
      list
        .map((e) => `${e.Status} ${e.Name} tier=${e.Attributes?.tier}`)
        .filter((line, i, all) => line !== all[i - 1]) // podman records a second cleanup at times
        .join('\n');
    const [ours, theirs] = await Promise.all([events(berth, '--filter', 'container=evlife'), events(oracle, '--filter', 'container=evlife')]);
    expect(project(theirs)).toBe(['create', 'init', 'start', 'kill', 'died', 'cleanup', 'remove'].map((s) => `${s} evlife tier=web`).join('\n'));
    expect(project(ours)).toBe(project(theirs));
    expect(ours.find((e) => e.Status === 'died')?.Attributes).toMatchObject({ tier: 'web' });
    expect(ours[0]!.Image).toBe('docker.io/library/busybox:latest');
    // The exit code podman's client reads (it prints it with --format '{{.ContainerExitCode}}').
    const codes = await berth.podman([
      'events',
      '--stream=false',
      '--filter',
      'container=evlife',
      '--filter',
      'event=died',
      '--format',
      '{{.ContainerExitCode}}',
    ]);
    expect(codes.stdout.trim()).toBe('137');
    // The Docker API keeps Docker's names and never shows libpod's own events.
    const dockerSide = await docker([
      'events',
      '--since',
      '0',
      '--until',
      String(Math.floor(Date.now() / 1000) + 1),
      '--filter',
      'container=evlife',
      '--format',
      '{{.Action}}',
    ]);
    expect(dockerSide.split('\n')).toEqual(['create', 'start', 'kill', 'die', 'destroy']);
  });

  it('reports exec, rename, pause and image tags in libpod terms, and drops what podman cannot decode', async () => {
    await docker(['run', '-d', '--name', 'evmore', 'busybox', 'sleep', '100']);
    await docker(['exec', 'evmore', 'true']);
    await docker(['rename', 'evmore', 'evmore2']);
    await docker(['pause', 'evmore2']);
    await docker(['unpause', 'evmore2']);
    await docker(['top', 'evmore2']); // Docker's `top` event: podman has none
    await docker(['tag', 'busybox', 'evtag:1']);
    const id = (await docker(['image', 'inspect', '--format', '{{.Id}}', 'busybox'])).replace('sha256:', '');
    const list = await events(berth, '--filter', 'container=evmore', '--filter', 'container=evmore2');
    expect(list.map((e) => `${e.Status} ${e.Name}`)).toEqual([
      'create evmore',
      'init evmore',
      'start evmore',
      'exec evmore',
      'exec_died evmore',
      'rename evmore2',
      'pause evmore2',
      'unpause evmore2',
    ]);
    const tags = await events(berth, '--filter', `image=${id.slice(0, 12)}`, '--filter', 'event=tag');
    expect(tags.at(-1)).toMatchObject({ ID: id, Name: 'docker.io/library/evtag:1', Type: 'image' });
    // Every event the whole log holds decodes in podman's client (an unknown status makes it panic).
    const all = await berth.podman(['events', '--stream=false']);
    expect(all).toMatchObject({ code: 0, stderr: '' });
    await docker(['rm', '-f', 'evmore2']);
    await docker(['rmi', 'evtag:1']); // system df below counts one row per image name, as podman does
  });

  it("gives Docker's `health_status: x` as libpod's health_status with the status beside it", async () => {
    await docker(['run', '-d', '--name', 'evhealth', '--health-cmd', 'true', '--health-interval', '1s', 'busybox', 'sleep', '100']);
    try {
      const deadline = Date.now() + 15_000;
      let out = '';
      while (!out && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        const r = await berth.podman([
          'events',
          '--stream=false',
          '--filter',
          'container=evhealth',
          '--filter',
          'event=health_status',
          '--format',
          '{{.Status}} {{.HealthStatus}}',
        ]);
        expect(r.code, r.stderr).toBe(0);
        out = r.stdout.trim();
      }
      expect(out.split('\n')[0]).toBe('health_status healthy');
    } finally {
      await docker(['rm', '-f', 'evhealth']);
    }
  });

  it('takes --since and --until as durations, RFC 3339 or Unix times', async () => {
    await docker(['run', '--name', 'evtime', 'busybox', 'true']);
    const names = async (...args: string[]) => (await events(berth, '--filter', 'container=evtime', '--filter', 'event=start', ...args)).length;
    expect(await names('--since', '1m')).toBe(1);
    expect(await names('--since', '1h30m')).toBe(1);
    expect(await names('--since', new Date(Date.now() - 60_000).toISOString())).toBe(1);
    // A duration for --until is after now (podman's ParseInputTime adds it: `podman events --since 1m
    // --until 1m --stream=false` lists the start, checked against podman 4.3 itself).
    expect(await names('--until', '1m')).toBe(1);
    expect(await names('--until', String(Math.floor(Date.now() / 1000) - 3600))).toBe(0);
    await docker(['rm', 'evtime']);
  });

  it('answers a filter or a time podman refuses as podman does: 200, then its error body', async () => {
    const invalidFilter = await engine.http('GET', '/v4.3.1/libpod/events?stream=false&filters=%7B%22foo%22%3A%5B%22x%22%5D%7D');
    expect(invalidFilter.status).toBe(200);
    expect(invalidFilter.json()).toEqual({
      cause: 'foo is an invalid filter',
      message: 'failed to parse event filters: foo is an invalid filter',
      response: 500,
    });
    const badTime = await engine.http('GET', '/v4.3.1/libpod/events?stream=false&since=garbage');
    expect(badTime.status).toBe(200);
    expect(badTime.json()).toEqual({
      cause: 'unable to interpret time value',
      message: 'failed to parse event filters: unable to convert since time of garbage: unable to interpret time value',
      response: 500,
    });
    // podman's client fails on it the same way against both (it does not decode error bodies here).
    const [ours, theirs] = await both(['events', '--stream=false', '--filter', 'foo=bar']);
    expect(ours.code).toBe(theirs.code);
  });

  it('streams live events as they happen, filtered', async () => {
    const child = spawn(PODMAN, [...berth.argv, 'events', '--filter', 'container=evlive', '--filter', 'event=start', '--format', '{{.Status}} {{.Name}}'], {
      env: berth.env,
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await new Promise((r) => setTimeout(r, 1000)); // the client has connected
      await docker(['run', '--name', 'evlive', 'busybox', 'true']);
      const deadline = Date.now() + 10_000;
      while (!out.includes('\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(out).toBe('start evlive\n');
    } finally {
      child.kill();
      await docker(['rm', '-f', 'evlive']);
    }
  });
});

describe('podman --remote system df and prune', () => {
  it('system df counts images, containers and volumes as podman does', async () => {
    const flow = async (run: (args: string[]) => Promise<unknown>) => {
      await run(['run', '--name', 'dfc', '-v', 'dfvol:/data', 'busybox', 'sh', '-c', 'echo hi > /data/x']);
      await run(['volume', 'create', 'dfvol2']);
    };
    await flow(docker);
    await flow(async (args) => expect((await oracle.podman(args)).code).toBe(0));
    const format = ['system', 'df', '--format', '{{.Type}} {{.Total}} {{.Active}}'];
    const [ours, theirs] = await both(format);
    expect(theirs.code).toBe(0);
    expect(ours).toMatchObject({ code: 0, stdout: theirs.stdout });
    const verbose = await berth.podman(['system', 'df', '-v']);
    expect(verbose.code, verbose.stderr).toBe(0);
    expect(verbose.stdout).toMatch(/docker\.io\/library\/busybox\s+latest/);
    expect(verbose.stdout).toMatch(/dfvol\s+1\s+3B/);
    expect(verbose.stdout).toMatch(/sh -c echo hi > \/data\/x\s+1\s+/);
  });

  it('system prune removes stopped containers and unused networks, then volumes and images when asked, and says so as podman does', async () => {
    const flow = async (run: (args: string[]) => Promise<unknown>) => {
      await run(['run', '--name', 'prunec', 'busybox', 'true']);
      await run(['network', 'create', 'prunenet']);
    };
    await flow(docker);
    await flow(async (args) => expect((await oracle.podman(args)).code).toBe(0));
    // Only the section headers and the names are comparable (IDs and sizes differ).
    const shape = (out: string) =>
      out
        .split('\n')
        .filter((l) => l && !/^[0-9a-f]{64}$/.test(l))
        .map((l) => l.replace(/space: .*/, 'space: N'))
        .join('\n');
    const [ours, theirs] = await both(['system', 'prune', '-f']);
    expect(theirs.code).toBe(0);
    expect(ours.code, ours.stderr).toBe(0);
    expect(shape(ours.stdout)).toBe(shape(theirs.stdout));
    expect(ours.stdout).toContain('prunenet');
    const [ours2, theirs2] = await both(['system', 'prune', '-a', '-f', '--volumes']);
    expect(theirs2.code).toBe(0);
    expect(ours2.code, ours2.stderr).toBe(0);
    expect(shape(ours2.stdout)).toBe(shape(theirs2.stdout));
    expect(ours2.stdout).toContain('Deleted Images');
    expect((await berth.podman(['volume', 'ls', '-q'])).stdout).toBe((await oracle.podman(['volume', 'ls', '-q'])).stdout);
    expect(await docker(['images', '-q'])).toBe('');
    // Put the image back for the tests that follow.
    expect((await engine.docker(['load', '-i', images.busybox.archive])).code).toBe(0);
  });
});

describe('podman system connection', () => {
  it('adds berth as a connection and reaches it by name', async () => {
    const client = berth.env;
    const add = await run(PODMAN, ['system', 'connection', 'add', 'berth', `unix://${engine.socket}`], { env: client });
    expect(add.code, add.stderr).toBe(0);
    const info = await run(PODMAN, ['--connection', 'berth', 'info', '--format', '{{.Host.RemoteSocket.Path}} {{.Store.GraphRoot}}'], { env: client });
    expect(info).toMatchObject({ code: 0, stdout: `unix://${engine.socket} ${engine.root}\n` });
    const version = await run(PODMAN, ['--connection', 'berth', 'version', '--format', '{{.Server.APIVersion}}'], { env: client });
    expect(version).toMatchObject({ code: 0, stdout: '4.3.1\n' });
  });
});
