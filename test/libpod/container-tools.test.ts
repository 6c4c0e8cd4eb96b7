// podman --remote's container tools against berth, beside Podman's own service: cp both ways, diff,
// commit, export, top, stats, healthcheck run, and the checkpoint/restore and mount refusals. berth's
// containers are made with the docker CLI (same engine), the oracle's with podman run.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TEST_BASE, TestEngine, run } from '../helpers/engine.js';
import { PodmanService, sideBySide, type PodmanClient } from '../helpers/podman.js';

const images = inject('images');

let engine: TestEngine;
let berth: PodmanClient;
let oracle: PodmanService;
let work: string;

/**
 * The same container on both: berth's through docker run, the oracle's through podman run (`podmanArgs`
 * where podman's flags differ: its timer-less healthcheck is `--health-interval disable`).
 */
async function both(name: string, args: string[], podmanArgs = args): Promise<void> {
  const [ours, theirs] = await Promise.all([
    engine.docker(['run', '-d', '--name', name, ...args]),
    oracle.podman(['run', '-d', '--name', name, ...podmanArgs]),
  ]);
  expect(ours.code, ours.stderr).toBe(0);
  expect(theirs.code, theirs.stderr).toBe(0);
}

/** Both clients' results of the same command. */
const side = (args: string[]) => Promise.all([berth.podman(args), oracle.podman(args)]);

/** Container IDs (64 hex) made comparable. */
const noIds = (s: string) => s.replace(/\b[0-9a-f]{64}\b/g, '<id>');

beforeAll(async () => {
  ({ engine, berth, oracle } = await sideBySide({ subnet: '10.231.3.0/24', busybox: images.busybox.archive }));
  work = await mkdtemp(join(TEST_BASE, 'berth-tools-'));
  // podman run reads the client's auth file (for its pull): it must exist.
  for (const client of [berth, oracle.client]) await writeFile(client.env.REGISTRY_AUTH_FILE!, '{"auths":{}}');
  await both('tools', ['busybox', 'sleep', '1000']);
  await both('quit', ['busybox', 'true']);
  const probe = (cmd: string, interval: string) => ['--health-cmd', cmd, '--health-interval', interval, 'busybox', 'sleep', '1000'];
  await both('hc-ok', probe('true', '1h'), probe('true', 'disable'));
  await both('hc-bad', probe('echo bad; exit 1', '1h'), probe('echo bad; exit 1', 'disable'));
  // The same changes in both: an added directory and file, a deleted and a modified one.
  for (const client of [berth, oracle.client])
    await client.ok(['exec', 'tools', 'sh', '-c', 'mkdir /data && echo hi > /data/x && rm /etc/group && echo >> /etc/passwd && ln -s /data /dl']);
  // `true` has exited in both by now (podman run -d returns once started).
  expect((await engine.docker(['wait', 'quit'])).stdout).toBe('0\n');
  await oracle.client.ok(['wait', 'quit']);
}, 120_000);

afterAll(async () => {
  await Promise.all([engine?.destroy(), oracle?.stop(), work && rm(work, { recursive: true, force: true })]);
});

describe('podman cp', () => {
  it('copies a file in and out, through a symlinked directory too', async () => {
    const file = join(work, 'hello.txt');
    await writeFile(file, 'hello\n');
    await berth.ok(['cp', file, 'tools:/data/']);
    expect(await berth.ok(['exec', 'tools', 'cat', '/data/hello.txt'])).toBe('hello\n');
    await berth.ok(['cp', 'tools:/dl/hello.txt', join(work, 'back.txt')]);
    expect(await readFile(join(work, 'back.txt'), 'utf8')).toBe('hello\n');
    await berth.ok(['cp', 'tools:/dl', join(work, 'dir')]);
    expect(await readFile(join(work, 'dir', 'x'), 'utf8')).toBe('hi\n');
  });

  it('owns what it copies in by the container user (root here), as podman does; --archive=false keeps the owners', async () => {
    const file = join(work, 'owned.txt');
    await writeFile(file, 'owned\n');
    await run('chown', ['4321:4321', file]);
    const owners = async (client: PodmanClient) => {
      await client.ok(['cp', file, 'tools:/data/owned-a.txt']);
      await client.ok(['cp', '--archive=false', file, 'tools:/data/owned-b.txt']);
      return client.ok(['exec', 'tools', 'stat', '-c', '%u:%g', '/data/owned-a.txt', '/data/owned-b.txt']);
    };
    const [ours, theirs] = await Promise.all([owners(berth), owners(oracle.client)]);
    expect(theirs).toBe('0:0\n4321:4321\n');
    expect(ours).toBe(theirs);
  });

  it('sends a tar that ends where Podman’s service ends it (no record padding after the end marker)', async () => {
    const { httpOn } = await import('../helpers/engine.js');
    for (const client of [berth, oracle.client]) await client.ok(['exec', 'tools', 'sh', '-c', 'mkdir -p /same/sub && echo s > /same/sub/f']);
    for (const path of ['/data/x', '/same']) {
      const url = `/v4.3.1/libpod/containers/tools/archive?path=${encodeURIComponent(path)}`;
      const [ours, theirs] = await Promise.all([engine.http('GET', url), httpOn(oracle.socket, 'GET', url)]);
      expect(theirs.status).toBe(200);
      expect(ours.body.length, path).toBe(theirs.body.length);
    }
    // podman cp out then succeeds every time (it failed with "io: read/write on closed pipe" when the
    // padding came after it had closed its reader).
    for (let i = 0; i < 5; i++) await berth.ok(['cp', 'tools:/data/x', join(work, `x${i}`)]);
  });

  it('says as podman does that a source is missing', async () => {
    const [ours, theirs] = await side(['cp', 'tools:/nosuchfile', join(work, 'none')]);
    expect(theirs.code).toBe(125);
    expect(ours).toEqual(theirs);
  });

  it('sends the stat header podman sends: the resolved path and isDir', async () => {
    const stat = async (sock: string, path: string) => {
      const res = await (sock === 'berth' ? engine.http('HEAD', `/v4.3.1/libpod/containers/tools/archive?path=${encodeURIComponent(path)}`) : httpOracle(path));
      const header = res.headers['x-docker-container-path-stat'];
      const { name, isDir, linkTarget, mode } = JSON.parse(Buffer.from(String(header), 'base64').toString('utf8'));
      return { status: res.status, name, isDir, linkTarget, mode };
    };
    const httpOracle = (path: string) =>
      import('../helpers/engine.js').then(({ httpOn }) =>
        httpOn(oracle.socket, 'HEAD', `/v4.3.1/libpod/containers/tools/archive?path=${encodeURIComponent(path)}`),
      );
    for (const path of ['/data', '/data/', '/data/x/..', '/dl', '/dl/', '/dl/x', '/etc/../data/x', '/data/./x'])
      expect(await stat('berth', path), path).toEqual(await stat('oracle', path));
  });
});

describe('podman diff', () => {
  it('lists the changes as podman does', async () => {
    const [ours, theirs] = await side(['diff', 'tools']);
    expect(theirs.code).toBe(0);
    // The copy of the cp test is berth's alone.
    const mine = ours.stdout.replace('A /data/hello.txt\n', '');
    expect({ ...ours, stdout: mine }).toEqual(theirs);
  });

  it('shows a fresh container’s /etc as changed, and refuses an unknown name as podman does', async () => {
    for (const args of [
      ['diff', 'quit'],
      ['diff', 'nosuch'],
      ['container', 'diff', 'nosuch'],
      ['image', 'diff', 'nosuch'],
    ]) {
      const [ours, theirs] = await side(args);
      expect(ours, args.join(' ')).toEqual(theirs);
    }
  });

  it('lists an image’s top layer as podman does', async () => {
    for (const args of [
      ['diff', 'busybox'],
      ['image', 'diff', 'busybox'],
    ]) {
      const [ours, theirs] = await side(args);
      expect(theirs.code).toBe(0);
      expect(ours, args.join(' ')).toEqual(theirs);
    }
  });

  it('finds the image by podman’s short-name lookup (a name only under localhost/)', async () => {
    const [tagged, taggedThere] = await side(['tag', 'busybox', 'onlyhere']);
    expect([tagged.code, taggedThere.code]).toEqual([0, 0]);
    for (const args of [
      ['diff', 'onlyhere'],
      ['image', 'diff', 'onlyhere'],
    ]) {
      const [ours, theirs] = await side(args);
      expect(theirs.code).toBe(0);
      expect(ours, args.join(' ')).toEqual(theirs);
    }
  });
});

describe('podman commit', () => {
  /** The image as the Docker API 1.41 shows it (which still has Container and ContainerConfig). */
  const image = async (name: string) => {
    const res = await engine.http('GET', `/v1.41/images/${name}/json`);
    expect(res.status, name).toBe(200);
    return JSON.parse(res.body.toString());
  };

  it('prints the new image ID and names it in localhost, in OCI format by default', async () => {
    const out = await berth.ok(['commit', 'tools', 'committed:1']);
    expect(out).toMatch(/^[0-9a-f]{64}\n$/);
    const committed = await image('localhost/committed:1');
    expect(committed.Id).toBe(`sha256:${out.trim()}`);
    // OCI's config has no container, and only the fields of the OCI spec.
    expect(committed.Container).toBe('');
    expect(committed.Config.Cmd).toEqual(['sleep', '1000']);
    expect(committed.Config).not.toHaveProperty('Hostname');
  });

  it('applies -c changes, author and message, in Docker format', async () => {
    await berth.ok(['commit', '--format', 'docker', '-c', 'CMD ["sh"]', '-c', 'ENV A=1', '--author', 'me', '-m', 'msg', 'tools', 'docker.io/x/committed:2']);
    const committed = await image('x/committed:2');
    expect(committed).toMatchObject({ Author: 'me', Comment: 'msg', Container: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(committed.Config.Cmd).toEqual(['sh']);
    expect(committed.Config.Env).toContain('A=1');
  });

  it('words its refusals as podman does', async () => {
    for (const args of [
      ['commit', '-c', 'BOGUS x', 'tools', 'bogus'],
      ['commit', 'nosuch', 'x'],
    ]) {
      const [ours, theirs] = await side(args);
      expect(theirs.code, args.join(' ')).toBe(125);
      expect(ours, args.join(' ')).toEqual(theirs);
    }
  });
});

describe('podman export', () => {
  it('writes the container’s filesystem as a tar', async () => {
    const tar = join(work, 'export.tar');
    await berth.ok(['export', '-o', tar, 'tools']);
    const listed = await run('tar', ['-tf', tar]);
    expect(listed.stdout.split('\n')).toEqual(expect.arrayContaining(['./data/x', './bin/busybox']));
  });
});

describe('podman top', () => {
  const row = (out: string) =>
    out
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s{2,}/));

  it('shows psgo’s default columns as podman does', async () => {
    const [ours, theirs] = await side(['top', 'tools']);
    expect(ours.code, ours.stderr).toBe(0);
    const [oursHead, oursRow] = row(ours.stdout);
    const [theirHead, theirRow] = row(theirs.stdout);
    expect(oursHead).toEqual(theirHead);
    // USER PID PPID %CPU ELAPSED TTY TIME COMMAND: all but the elapsed time.
    expect(oursRow!.filter((_, i) => i !== 4)).toEqual(theirRow!.filter((_, i) => i !== 4));
    expect(oursRow![4]).toMatch(/^[\d.]+(ms|s)$|^\d+m[\d.]+s$/);
  });

  it('takes descriptors and AIX codes, and falls back to ps in the container for other arguments', async () => {
    for (const args of [
      ['top', 'tools', 'pid,ppid,comm,nice,pgid,state,user,ruser,seccomp,tty,capeff,capamb,label,args'],
      ['top', 'tools', 'pid,uid'], // no uid in 4.3.1's psgo: ps's output
      ['top', 'tools', '%p', '%U', '%c', '%n'],
      ['top', 'tools', '-ef'],
    ]) {
      const [ours, theirs] = await side(args);
      expect(theirs.code, theirs.stderr).toBe(0);
      expect(ours, args.join(' ')).toEqual(theirs);
    }
  });

  it('shows every line of a long ps output', async () => {
    const made = await engine.docker(['run', '-d', '--name', 'many', 'busybox', 'sh', '-c', 'for i in $(seq 200); do sleep 1000 & done; wait']);
    expect(made.code, made.stderr).toBe(0);
    try {
      // A forked child shows as `sh` until it has exec'd sleep: wait for all 200 sleeps.
      let lines: string[] = [];
      const sleeps = () => lines.filter((l) => l.endsWith('sleep 1000')).length;
      for (let i = 0; i < 50 && sleeps() < 200; i++) {
        lines = (await berth.ok(['top', 'many', '-ef'])).trimEnd().split('\n');
        if (sleeps() < 200) await new Promise((r) => setTimeout(r, 100));
      }
      // ps's header, sh and its 200 sleeps (some 8 kB: more than a health probe's output keeps).
      expect(lines).toHaveLength(202);
      expect(lines.filter((l) => l.endsWith('sleep 1000'))).toHaveLength(200);
    } finally {
      await engine.docker(['rm', '-f', 'many']);
    }
  });

  it('fails as podman does on a stopped container and an unknown one', async () => {
    for (const args of [
      ['top', 'quit'],
      ['top', 'nosuch'],
      ['top', 'tools', '-o', 'pid'], // ps -o,pid in the container: refused by ps
    ]) {
      const [ours, theirs] = await side(args);
      expect(theirs.code).toBe(125);
      expect(ours, args.join(' ')).toEqual(theirs);
    }
  });
});

describe('podman stats', () => {
  it('shows one sample of a running and a stopped container', async () => {
    const format = ['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}} {{.NetIO}}', 'quit'];
    const [ours, theirs] = await side(format);
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours).toEqual(theirs);
    const [running, runningThere] = await side(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', 'tools']);
    expect(running).toEqual(runningThere);
    const json = await berth.ok(['stats', '--no-stream', '--format', 'json', 'tools']);
    const [sample] = JSON.parse(json);
    expect(sample).toMatchObject({ name: 'tools', pids: '1', block_io: expect.stringMatching(/ \/ /) });
    expect(sample.mem_usage).toMatch(/^[\d.]+[kMG]?B \/ [\d.]+[kMG]?B$/);
    expect(sample.cpu_time).toMatch(/s$/);
  });

  it('answers libpod’s sample without Content-Type', async () => {
    const res = await engine.http('GET', '/v4.3.1/libpod/containers/stats?containers=tools&stream=false');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBeUndefined();
    const report = JSON.parse(res.body.toString());
    expect(report.Error).toBeNull();
    expect(Object.keys(report.Stats[0])).toEqual([
      'AvgCPU',
      'ContainerID',
      'Name',
      'PerCPU',
      'CPU',
      'CPUNano',
      'CPUSystemNano',
      'SystemNano',
      'MemUsage',
      'MemLimit',
      'MemPerc',
      'NetInput',
      'NetOutput',
      'BlockInput',
      'BlockOutput',
      'PIDs',
      'UpTime',
      'Duration',
    ]);
    expect(report.Stats[0]).toMatchObject({ Name: 'tools', PIDs: 1 });
    expect(report.Stats[0].CPUNano).toBeGreaterThan(0);
    // podman 4.3.1 reports eth0's transmitted bytes as NetInput and received ones as NetOutput. ARP
    // requests for 100 addresses no one has are sent only (4 to 13 kB), well above what the bridge's
    // multicast noise brings in meanwhile.
    const sample = async () => JSON.parse((await engine.http('GET', '/v4.3.1/libpod/containers/stats?containers=tools&stream=false')).body.toString()).Stats[0];
    const prefix = /default via (\d+\.\d+\.\d+)\./.exec(await berth.ok(['exec', 'tools', 'ip', 'route']))![1];
    const before = await sample();
    await berth.ok(['exec', 'tools', 'sh', '-c', 'for i in $(seq 150 249); do ping -c 1 -W 2 "$0.$i" >/dev/null & done; wait; true', prefix!]);
    const after = await sample();
    const sent = after.NetInput - before.NetInput;
    expect(sent).toBeGreaterThanOrEqual(100 * 42); // an ARP request (42 bytes) for each at least
    expect(after.NetOutput - before.NetOutput).toBeLessThan(sent / 2);
  });

  it('streams a sample every interval', async () => {
    const { request } = await import('node:http');
    const lines = await new Promise<string[]>((resolve, reject) => {
      const got: string[] = [];
      const req = request({ socketPath: engine.socket, path: '/v4.3.1/libpod/containers/stats?containers=tools&stream=true&interval=1' }, (res) => {
        res.setEncoding('utf8');
        let buffer = '';
        res.on('data', (d: string) => {
          buffer += d;
          const parts = buffer.split('\n');
          buffer = parts.pop()!;
          got.push(...parts);
          if (got.length >= 2) {
            req.destroy();
            resolve(got);
          }
        });
      });
      req.on('error', (err) => (got.length >= 2 ? undefined : reject(err)));
      req.end();
    });
    const [first, second] = lines.map((l) => JSON.parse(l).Stats[0]);
    expect(second.SystemNano - first.SystemNano).toBeGreaterThanOrEqual(0.9e9);
  });

  it('fails on an unknown container as podman does', async () => {
    const [ours, theirs] = await side(['stats', '--no-stream', 'nosuch']);
    expect(theirs.code).toBe(125);
    expect(ours).toEqual(theirs);
  });
});

describe('podman healthcheck run', () => {
  it('exits 0 silently when healthy, prints unhealthy and exits 1 otherwise', async () => {
    for (const name of ['hc-ok', 'hc-bad']) {
      const [ours, theirs] = await side(['healthcheck', 'run', name]);
      expect(ours, name).toEqual(theirs);
    }
    // The probe is recorded as the monitor's are.
    const health = await engine.docker([
      'inspect',
      'hc-bad',
      '--format',
      '{{len .State.Health.Log}} {{(index .State.Health.Log 0).ExitCode}} {{.State.Health.FailingStreak}}',
    ]);
    expect(health.stdout).toBe('1 1 1\n');
  });

  it('refuses a container without healthcheck, a stopped one and an unknown one as podman does', async () => {
    await Promise.all([engine.docker(['stop', '-t', '0', 'hc-ok']), oracle.podman(['stop', '-t', '0', 'hc-ok'])]);
    for (const name of ['tools', 'hc-ok', 'nosuch']) {
      const [ours, theirs] = await side(['healthcheck', 'run', name]);
      expect(theirs.code, name).toBe(125);
      expect({ ...ours, stderr: noIds(ours.stderr) }, name).toEqual({ ...theirs, stderr: noIds(theirs.stderr) });
    }
  });
});

describe('checkpoint, restore, mount', () => {
  it('refuses checkpoint and restore as podman’s service does without CRIU', async () => {
    const { httpOn } = await import('../helpers/engine.js');
    for (const verb of ['checkpoint', 'restore']) {
      const path = `/v4.3.1/libpod/containers/tools/${verb}`;
      const [ours, theirs] = await Promise.all([engine.http('POST', path), httpOn(oracle.socket, 'POST', path)]);
      expect(theirs.status).toBe(500);
      expect({ status: ours.status, body: JSON.parse(ours.body.toString()) }).toEqual({ status: theirs.status, body: JSON.parse(theirs.body.toString()) });
    }
    const missing = await engine.http('POST', '/v4.3.1/libpod/containers/nosuch/checkpoint');
    expect(missing.status).toBe(404);
  });

  it('answers the client’s checkpoint and restore (it inspects first) as podman’s service does', async () => {
    for (const verb of ['checkpoint', 'restore']) {
      for (const extra of [['tools'], ['quit'], ['nosuch'], ['--all']]) {
        const [ours, theirs] = await side(['container', verb, ...extra]);
        expect(theirs.code).not.toBe(0);
        expect(ours).toEqual(theirs);
      }
    }
  });

  it('leaves mount and unmount to the client, which refuses them remotely', async () => {
    for (const verb of ['mount', 'unmount']) {
      const [ours, theirs] = await side([verb, 'tools']);
      expect(theirs).toMatchObject({ code: 125, stderr: `Error: cannot use command "podman ${verb}" with the remote podman client\n` });
      expect(ours).toEqual(theirs);
    }
  });
});
