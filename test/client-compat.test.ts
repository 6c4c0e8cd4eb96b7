// Real clients unchanged (issue 13): docker-py and the docker CLI see what dockerd 20.10 shows them for
// swarm paths, kill/wait then rm/commit, exec framing and detach keys, attach without stream, ps -n,
// prune, a JSON-labelled build context, `serve --help`, and a shutdown held by stalled clients.
import { describe, expect, inject, it } from 'vitest';
import { connect } from 'node:net';
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suiteEngine } from './helpers/suite.js';
import { cliOf } from './helpers/cli.js';
import { MAIN, TestEngine, run } from './helpers/engine.js';
import { hijack } from './helpers/hijack.js';
import { dockerPy } from './helpers/docker-py.js';
import { dockerArchive, tarOf } from './helpers/archive.js';

const images = inject('images');
const engine = suiteEngine({ load: [images.busybox.archive] });
const { docker, ok, env } = cliOf(() => engine);
const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

/** A docker-py script against the engine, which must succeed; its stdout. */
async function py(script: string): Promise<string> {
  const res = await dockerPy(engine.socket, script, { env: env() });
  expect(res.code, res.stderr).toBe(0);
  return res.stdout;
}

describe('swarm endpoints without swarm mode', () => {
  it('answers 503 as a dockerd outside a swarm: docker-py leave(force) passes, the CLI says why', async () => {
    expect(await py('print(client.swarm.leave(force=True))')).toBe('True\n');
    const notManager = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
    for (const path of ['/swarm', '/services', '/nodes', '/tasks', '/secrets', '/configs', '/services/x']) {
      const res = await engine.http('GET', `/v1.41${path}`);
      expect([path, res.status, res.json()]).toEqual([path, 503, { message: notManager }]);
    }
    const leave = await engine.http('POST', '/v1.41/swarm/leave?force=1');
    expect([leave.status, leave.json()]).toEqual([503, { message: 'This node is not part of a swarm' }]);
    expect((await engine.http('POST', '/v1.41/swarm/init', {})).status).toBe(503);
    const nodes = await docker(['node', 'ls']);
    expect(nodes.code).not.toBe(0);
    expect(nodes.stderr).toContain('This node is not a swarm manager');
    const services = await docker(['service', 'ls']);
    expect(services.code).not.toBe(0);
    expect(services.stderr).toContain('This node is not a swarm manager');
  });
});

describe('state settled before the answer', () => {
  it('docker kill && docker rm succeeds 50 times in a row', async () => {
    for (let i = 0; i < 50; i++) {
      await ok(['run', '-d', '--name', `killrm${i}`, 'busybox', 'sleep', '1000']);
      await ok(['kill', `killrm${i}`]);
      const rm = await docker(['rm', `killrm${i}`]);
      expect(rm.stderr, `round ${i}`).toBe('');
      expect(rm.code).toBe(0);
    }
  }, 120_000);

  it('docker-py kill then commit and remove; docker wait then commit', async () => {
    const out = await py(`
for i in range(10):
    c = client.containers.run('busybox', ['sh', '-c', 'echo x > /f; sleep 1000'], detach=True, name='pykill%d' % i)
    c.kill()
    c.reload()
    assert c.status == 'exited', c.status
    img = c.commit()
    c.remove()
    client.images.remove(img.id)
print('ok')
`);
    expect(out).toBe('ok\n');
    await ok(['run', '-d', '--name', 'waited', 'busybox', 'sh', '-c', 'echo a > /f; sleep 0.3']);
    expect((await ok(['wait', 'waited'])).trim()).toBe('0');
    await ok(['commit', 'waited', 'waited-img']);
    await ok(['rm', 'waited']);
    await ok(['rmi', 'waited-img']);
  }, 60_000);
});

describe('exec through docker-py', () => {
  it("exec_run gets the whole output, framed by the start request's Tty", async () => {
    await ok(['run', '-d', '--name', 'pyexec', 'busybox', 'sleep', '1000']);
    const out = await py(`
c = client.containers.get('pyexec')
bad = []
for i in range(20):
    r = c.exec_run(['sh', '-c', 'echo hi'])
    if r.output != b'hi\\n': bad.append(r.output)
    r = c.exec_run(['sh', '-c', 'echo hi'], tty=True)
    if r.output != b'hi\\r\\n': bad.append(r.output)
print(bad)
# The start request's Tty frames the stream, whatever the exec was created with.
e = client.api.exec_create(c.id, ['sh', '-c', 'echo out'], tty=False)
print(repr(client.api.exec_start(e['Id'], tty=True)))
`);
    expect(out).toBe("[]\nb'out\\n'\n");
  }, 60_000);

  it("honours the exec's detach keys (docker-py sends detachKeys)", async () => {
    const out = await py(`
e = client.api.exec_create('pyexec', ['cat'], stdin=True, tty=True, detach_keys='ctrl-a,a')
s = client.api.exec_start(e['Id'], socket=True, tty=True)._sock
s.sendall(b'abc\\n')
time.sleep(0.5)
s.sendall(b'\\x01a')
s.settimeout(5)
out = b''
while True:
    d = s.recv(4096)
    if not d: break
    out += d
print(repr(out))
`);
    expect(out).toBe("b'abc\\r\\nabc\\r\\nexec attach failed: error on attach stdin: read escape sequence\\r\\n'\n");
    const bad = await engine.http('POST', '/containers/pyexec/exec', { Cmd: ['true'], detachKeys: 'ctrl-' });
    expect([bad.status, bad.json()]).toEqual([500, { message: 'Invalid escape keys (ctrl-) provided' }]);
  }, 30_000);
});

describe('attach without stream', () => {
  it('answers the logs and ends while the container runs', async () => {
    await ok(['run', '-d', '--name', 'attlogs', 'busybox', 'sh', '-c', 'echo one; sleep 1000']);
    await ok(['logs', 'attlogs']);
    const out = await py(`print(set(client.containers.get('attlogs').attach(logs=True, stream=False) for i in range(20)))`);
    expect(out).toBe("{b'one\\n'}\n");
    // Nothing asked for: the stream ends at once (it waited for the container's exit).
    const started = Date.now();
    const res = await hijack(engine.socket, '/v1.41/containers/attlogs/attach?logs=1&stream=0', '', undefined, { keepOpen: true, timeoutMs: 5_000 });
    expect(res.head).toMatch(/^HTTP\/1.1 101/);
    expect(Date.now() - started).toBeLessThan(3_000);
    await ok(['rm', '-f', 'attlogs', 'pyexec']);
  }, 30_000);
});

describe('docker logs', () => {
  it('sends one frame per line, as dockerd: docker-py yields a line at a time', async () => {
    await ok(['run', '--name', 'lines', 'busybox', 'sh', '-c', 'echo a; echo b; echo c; echo e >&2']);
    const out = await py(`
c = client.containers.get('lines')
print([x for x in c.logs(stream=True, stderr=False)])
print(len(list(c.logs(stream=True, timestamps=True))))
print(c.logs())
`);
    expect(out).toBe("[b'a\\n', b'b\\n', b'c\\n']\n4\nb'a\\nb\\nc\\ne\\n'\n");
    await ok(['rm', 'lines']);
  }, 30_000);
});

describe('lists and prune', () => {
  it('ps -n counts stopped and created containers; prune reports SpaceReclaimed', async () => {
    await ok(['run', '-d', '--name', 'lim-run', 'busybox', 'sleep', '1000']);
    await ok(['run', '--name', 'lim-exited', 'busybox', 'sh', '-c', 'head -c 100000 /dev/zero > /z']);
    await ok(['create', '--name', 'lim-created', 'busybox']);
    expect((await ok(['ps', '-n', '3', '--format', '{{.Names}}', '--filter', 'name=lim-'])).trim().split('\n')).toEqual([
      'lim-created',
      'lim-exited',
      'lim-run',
    ]);
    expect((await ok(['ps', '-n', '1', '--format', '{{.Names}}', '--filter', 'name=lim-exited'])).trim()).toBe('lim-exited');
    expect(await py(`print(sorted(c.name for c in client.containers.list(limit=3, filters={'name': 'lim-'})))`)).toBe(
      "['lim-created', 'lim-exited', 'lim-run']\n",
    );
    const pruned = await py(`print(client.containers.prune())`);
    const reclaimed = Number(/'SpaceReclaimed': (\d+)/.exec(pruned)?.[1]);
    expect(reclaimed).toBeGreaterThanOrEqual(100_000);
    expect(pruned).toContain("'ContainersDeleted': [");
    await ok(['rm', '-f', 'lim-run']);
  }, 60_000);
});

describe('docker load', () => {
  it('reports a failure after progress inside the JSON stream, as dockerd; quiet by default', async () => {
    const good = await tarOf([{ name: 'a', content: 'a\n' }]);
    const bad = await tarOf([{ name: 'b', content: 'b\n' }]);
    // The second layer's diff ID is not its digest: it fails once the first one is loaded and reported.
    const { archive } = await dockerArchive([good, bad], 'halfbad:1', [sha(good), sha(good)]);
    const file = join(engine.dir, 'halfbad.tar');
    await writeFile(file, archive);
    const fine = join(engine.dir, 'fine.tar');
    await writeFile(fine, (await dockerArchive([await tarOf([{ name: 'c', content: 'c\n' }])], 'loadfine:1')).archive);
    const out = await py(`
msgs = list(client.api.load_image(open('${file}', 'rb').read(), quiet=False))
print(msgs[0]['status'], 'errorDetail' in msgs[-1], msgs[-1]['error'] == msgs[-1]['errorDetail']['message'])
# No quiet parameter: dockerd's default is quiet, so no progress.
print(list(client.api.load_image(open('${fine}', 'rb').read())))
`);
    expect(out).toBe("Loading layer True True\n[{'stream': 'Loaded image: loadfine:1\\n'}]\n");
    expect((await engine.http('GET', '/images/halfbad:1/json')).status).toBe(404);
    await ok(['rmi', 'loadfine:1']);
    await Promise.all([rm(file), rm(fine)]);
  }, 30_000);
});

describe('build', () => {
  it('takes the context whatever the Content-Type says', async () => {
    const context = await tarOf([{ name: 'Dockerfile', content: 'FROM busybox\nLABEL built=json\n' }]);
    const res = await engine.http('POST', '/v1.41/build?t=jsonctx', context, { 'content-type': 'application/json' });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toContain('Successfully tagged jsonctx:latest');
    await ok(['rmi', 'jsonctx']);
  }, 60_000);
});

describe('berth serve', () => {
  it('--help lists every flag the README names', () => {
    const help = execFileSync(process.execPath, [MAIN, 'serve', '--help']).toString();
    for (const flag of [
      '--socket',
      '--root',
      '--run-root',
      '--runtime',
      '--idle-exit',
      '--max-layer-size',
      '--insecure-registry',
      '--certs-dir',
      '--registries-conf',
      '--log',
      '--accept-empty-db',
    ]) {
      expect(help).toContain(flag);
    }
  });

  it('SIGTERM ends within its bound while attached clients stopped reading', async () => {
    const own = await TestEngine.start();
    try {
      expect((await own.docker(['load', '-i', images.busybox.archive])).code).toBe(0);
      expect(
        (
          await own.docker([
            'run',
            '-d',
            '--name',
            'chatty',
            'busybox',
            'sh',
            '-c',
            'while :; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; done',
          ])
        ).code,
      ).toBe(0);
      // Two hijacked attaches that never read: their socket buffers fill and stay full.
      const stalled = await Promise.all(
        [0, 1].map(async () => {
          const socket = connect(own.socket);
          await once(socket, 'connect');
          socket.write(
            'POST /v1.41/containers/chatty/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n',
          );
          socket.pause();
          socket.on('error', () => undefined);
          return socket;
        }),
      );
      await new Promise((r) => setTimeout(r, 1_500));
      const started = Date.now();
      // Bounded here too: a hung engine fails the test and `destroy` (SIGKILL) still cleans up.
      const outcome = await Promise.race([own.stop('SIGTERM').then(() => 'exited'), new Promise((r) => setTimeout(() => r('still running'), 20_000))]);
      expect(outcome).toBe('exited');
      expect(Date.now() - started).toBeLessThan(13_000);
      for (const socket of stalled) socket.destroy();
    } finally {
      await own.destroy();
    }
  }, 60_000);
});
