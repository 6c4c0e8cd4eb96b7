// The user flows of issue 19 as a normal user lives them: the real docker CLI and podman --remote,
// run as the user against its rootless berth — run, exec, logs, cp both ways, build, commit, volumes,
// push and pull with a local registry, pods — then the engine killed -9 and started again (its
// containers kept running and still obeying), and at the end nothing of the user left on the host.
// Where the output is the point it is compared with rootless podman run by the same user (runc: crun
// refuses this hybrid cgroup host). Containers use --network none where networking is not the point;
// the default network, -p and a user network have flows of their own.
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { run, type Result } from '../helpers/engine.js';
import { TestRegistry } from '../helpers/registry.js';
import { RootlessEngine, RootlessUser } from '../helpers/rootless.js';
import { freePort } from '../helpers/network.js';

let user: RootlessUser;
let engine: RootlessEngine;
let registry: TestRegistry;
let destroyed = false;

const NONE = ['--network', 'none'];

/** Rootless podman itself, as the same user (its own storage under the user's home). */
const podmanLocal = (args: string[], o: { input?: Buffer } = {}) => user.run('podman', ['--runtime', 'runc', ...args], o);

function ok(r: Result, what: string): string {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** podman --remote against the rootless berth: its stdout, or a throw with its stderr. */
const podman = async (args: string[], o: { input?: string | Buffer } = {}) => ok(await engine.podman(args, o), `podman --remote ${args.join(' ')}`);

/** As the user: a shell command (to make files the way the user would). */
const sh = async (script: string) => ok(await user.run('sh', ['-c', script]), script);

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const owner = async (path: string) => {
  const st = await stat(path);
  return { uid: st.uid, gid: st.gid };
};

/** A tar of `entries` (ustar headers written here: the test decides owners and types the CLI would not). */
function tarOf(entries: { name: string; uid?: number; type?: 'file' | 'char' | 'fifo'; body?: string }[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const h = Buffer.alloc(512);
    const put = (value: string, offset: number, length: number) => h.write(value, offset, length, 'ascii');
    const octal = (n: number, length: number) => n.toString(8).padStart(length - 1, '0');
    put(e.name, 0, 100);
    put(octal(e.type === 'fifo' || e.type === 'char' ? 0o600 : 0o644, 8), 100, 8);
    put(octal(e.uid ?? 0, 8), 108, 8);
    put(octal(e.uid ?? 0, 8), 116, 8);
    put(octal(body.length, 12), 124, 12);
    put(octal(Math.floor(Date.now() / 1000), 12), 136, 12);
    put(e.type === 'char' ? '3' : e.type === 'fifo' ? '6' : '0', 156, 1);
    put('ustar\x0000', 257, 8);
    if (e.type === 'char') {
      put(octal(1, 8), 329, 8);
      put(octal(3, 8), 337, 8);
    }
    put('        ', 148, 8);
    let sum = 0;
    for (const byte of h) sum += byte;
    put(`${octal(sum, 7)}\0`, 148, 8);
    blocks.push(h, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  return Buffer.concat([...blocks, Buffer.alloc(1024)]);
}

/** Each entry's name and uid in a tar (ustar headers; PAX and GNU long-name records skipped over). */
function tarOwners(tar: Buffer): [string, number][] {
  const out: [string, number][] = [];
  for (let at = 0; at + 512 <= tar.length; ) {
    const h = tar.subarray(at, at + 512);
    if (h.every((b) => b === 0)) break;
    const field = (offset: number, length: number) => h.toString('ascii', offset, offset + length).replace(/\0.*$/s, '');
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    const name = (field(345, 155) ? `${field(345, 155)}/` : '') + field(0, 100);
    if (type !== 'x' && type !== 'g' && type !== 'L') out.push([name.replace(/^\.\//, ''), Number.parseInt(field(108, 8).trim() || '0', 8)]);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  user = await RootlessUser.create('rlflows');
  engine = await RootlessEngine.start(user);
  const archive = await readFile(inject('images').busybox.archive);
  await engine.load(inject('images').busybox.archive);
  ok(await podmanLocal(['load'], { input: archive }), 'podman load');
  registry = await TestRegistry.start();
});

afterAll(async () => {
  if (!destroyed) {
    await engine?.destroy();
    await user?.destroy();
  }
  // Rootless podman's lock file outlives its user (docs/rootless/network-cgroups-systemd.md §7).
  if (user) await run('rm', ['-f', `/dev/shm/libpod_rootless_lock_${user.uid}`]);
  await registry?.stop();
});

describe('run, exec, logs', () => {
  it('docker run --rm busybox id: root in the container, as rootless podman says', async () => {
    // dockerd adds the primary group as a supplementary one (groups=0(root)); podman does not.
    expect(await engine.ok(['run', '--rm', ...NONE, 'busybox', 'id'])).toBe('uid=0(root) gid=0(root) groups=0(root)\n');
    const ids = 'echo $(id -u):$(id -g) $(id -un):$(id -gn); cat /proc/self/uid_map /proc/self/gid_map';
    const ours = await engine.ok(['run', '--rm', ...NONE, 'busybox', 'sh', '-c', ids]);
    expect(ours).toContain('0:0 root:root\n');
    expect(ours).toBe(ok(await podmanLocal(['run', '--rm', ...NONE, 'busybox', 'sh', '-c', ids]), 'podman run'));
  });

  it('docker run --rm busybox id on the default network (rootless networking)', async () => {
    expect(await engine.ok(['run', '--rm', 'busybox', 'id'])).toBe('uid=0(root) gid=0(root) groups=0(root)\n');
  });

  it('podman --remote run --rm busybox id: the same as rootless podman', async () => {
    const ours = await podman(['run', '--rm', ...NONE, 'busybox', 'id']);
    expect(ours).toMatch(/^uid=0\(root\) gid=0\(root\)/);
    const ids = 'echo $(id -u):$(id -g) $(id -un):$(id -gn); cat /proc/self/uid_map /proc/self/gid_map';
    expect(await podman(['run', '--rm', ...NONE, 'busybox', 'sh', '-c', ids])).toBe(
      ok(await podmanLocal(['run', '--rm', ...NONE, 'busybox', 'sh', '-c', ids]), 'podman run'),
    );
  });

  it('run -i: stdin in, the exit code out (docker and podman --remote)', async () => {
    for (const client of [engine.docker.bind(engine), engine.podman.bind(engine)]) {
      const r = await client(['run', '--rm', '-i', ...NONE, 'busybox', 'sh', '-c', 'cat; exit 3'], { input: 'piped\n' });
      expect({ code: r.code, out: r.stdout }).toEqual({ code: 3, out: 'piped\n' });
    }
  });

  it('a healthcheck runs in the rootless container', async () => {
    await engine.ok([
      'run',
      '-d',
      ...NONE,
      '--name',
      'hc',
      '--health-cmd',
      'test -e /tmp/ok',
      '--health-interval',
      '1s',
      'busybox',
      'sh',
      '-c',
      'touch /tmp/ok; exec sleep 600',
    ]);
    const health = await until('healthy', async () => {
      const h = (await engine.ok(['inspect', '-f', '{{.State.Health.Status}}', 'hc'])).trim();
      return h === 'healthy' ? h : undefined;
    });
    expect(health).toBe('healthy');
    await engine.ok(['rm', '-f', 'hc']);
  });

  it('run -d, logs, exec: the container root is the user on the host, uid 1000 a subordinate id', async () => {
    const id = (await engine.ok(['run', '-d', ...NONE, '--name', 'web', 'busybox', 'sh', '-c', 'echo started; echo to-stderr >&2; exec sleep 600'])).trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const logs = await until('the logs', async () => {
      const r = await engine.docker(['logs', 'web']);
      return r.stdout.includes('started') && r.stderr.includes('to-stderr') ? r : undefined;
    });
    expect(logs.stdout).toBe('started\n');
    expect(logs.stderr).toBe('to-stderr\n');

    expect(await engine.ok(['exec', 'web', 'id', '-u'])).toBe('0\n');
    expect(await engine.ok(['exec', '-u', '1000', 'web', 'id', '-u'])).toBe('1000\n');
    expect(await engine.ok(['exec', '-i', 'web', 'cat'], { input: 'through stdin\n' })).toBe('through stdin\n');
    expect((await engine.docker(['exec', 'web', 'sh', '-c', 'exit 3'])).code).toBe(3);
    expect(await podman(['exec', 'web', 'cat', '/proc/self/uid_map'])).toMatch(
      new RegExp(`^\\s*0\\s+${user.uid}\\s+1\\n\\s*1\\s+${user.subuid.start}\\s+${user.subuid.count}\\n$`),
    );

    expect((await engine.ok(['top', 'web', '-o', 'pid,args'])).split('\n')[1]).toMatch(/^\s*\d+\s+sleep 600$/);
    // The container's process as the host sees it: the user, not root.
    const pid = Number((await engine.ok(['inspect', '-f', '{{.State.Pid}}', 'web'])).trim());
    expect(/^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1]).toBe(String(user.uid));
  });
});

describe('cp both ways', () => {
  let bind: string;

  beforeAll(async () => {
    bind = join(user.home, 'bind');
    await sh(`mkdir -p ${bind} && echo payload > ~/in.txt`);
    await engine.ok(['run', '-d', ...NONE, '--name', 'cpc', '-v', `${bind}:/data`, 'busybox', 'sleep', '600']);
  });

  it('podman --remote cp in: container root owns it, so the user owns it on the bind mount (as rootless podman)', async () => {
    await podman(['cp', join(user.home, 'in.txt'), 'cpc:/data/by-podman.txt']);
    expect(await engine.ok(['exec', 'cpc', 'stat', '-c', '%u:%g', '/data/by-podman.txt'])).toBe('0:0\n');
    expect(await owner(join(bind, 'by-podman.txt'))).toEqual({ uid: user.uid, gid: user.gid });

    // Rootless podman itself, same user, same kind of bind.
    const theirs = join(user.home, 'bind-podman');
    await sh(`mkdir -p ${theirs}`);
    ok(await podmanLocal(['run', '-d', ...NONE, '--name', 'cpc', '-v', `${theirs}:/data`, 'busybox', 'sleep', '600']), 'podman run');
    ok(await podmanLocal(['cp', join(user.home, 'in.txt'), 'cpc:/data/by-podman.txt']), 'podman cp');
    expect(await owner(join(theirs, 'by-podman.txt'))).toEqual(await owner(join(bind, 'by-podman.txt')));
    ok(await podmanLocal(['rm', '-f', '-t', '0', 'cpc']), 'podman rm');
  });

  it('docker cp in: entries owned by root land as container root, the user on the bind mount', async () => {
    // dockerd keeps an archive's owners (with or without -a when the container names no user): a tar
    // of root's entries is container root's.
    const tar = ok(await user.run('tar', ['--owner=0', '--group=0', '-C', user.home, '-cf', `${user.home}/in.tar`, 'in.txt']), 'tar');
    expect(tar).toBe('');
    await engine.ok(['cp', '-', 'cpc:/data'], { input: await readFile(join(user.home, 'in.tar')) });
    expect(await engine.ok(['exec', 'cpc', 'stat', '-c', '%u:%g', '/data/in.txt'])).toBe('0:0\n');
    expect(await owner(join(bind, 'in.txt'))).toEqual({ uid: user.uid, gid: user.gid });
    // The CLI's own tar of the user's file names the user's uid: kept, as dockerd keeps it; inside the
    // container that is uid <user's uid>, on the host the subordinate id for it.
    await engine.ok(['cp', join(user.home, 'in.txt'), 'cpc:/data/by-docker.txt']);
    expect(await engine.ok(['exec', 'cpc', 'stat', '-c', '%u', '/data/by-docker.txt'])).toBe(`${user.uid}\n`);
    expect((await owner(join(bind, 'by-docker.txt'))).uid).toBe(user.subuid.start + user.uid - 1);
  });

  it('docker cp out: what the container root (and uid 1000) made comes out owned by the user', async () => {
    await engine.ok(['exec', 'cpc', 'sh', '-c', 'mkdir /made && echo root > /made/r && echo app > /made/a && chown 1000:1000 /made/a']);
    // In the container's rootfs the host sees the user and a subordinate id.
    await engine.ok(['cp', 'cpc:/made', join(user.home, 'out')]);
    expect(await readFile(join(user.home, 'out/r'), 'utf8')).toBe('root\n');
    expect(await owner(join(user.home, 'out/r'))).toEqual({ uid: user.uid, gid: user.gid });
    expect(await owner(join(user.home, 'out/a'))).toEqual({ uid: user.uid, gid: user.gid });
    // podman cp out, a few times: it used to fail now and then on the tar's record padding (tar-end.ts).
    for (let i = 0; i < 3; i++) await podman(['cp', 'cpc:/made/a', join(user.home, 'out-podman')]);
    expect(await readFile(join(user.home, 'out-podman'), 'utf8')).toBe('app\n');
    expect(await owner(join(user.home, 'out-podman'))).toEqual({ uid: user.uid, gid: user.gid });
  });

  it('docker cp in of an id past the subuid range: podman’s error naming the file; device nodes skipped, a FIFO made', async () => {
    const far = tarOf([{ name: 'far.txt', uid: 70000, body: 'x\n' }]);
    const r = await engine.docker(['cp', '-', 'cpc:/tmp'], { input: far });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      `error setting ownership of "/tmp/far.txt" to 70000:70000: lchown /tmp/far.txt: invalid argument: 70000:70000 is not mapped in the rootless user namespace (ids 0-${user.subuid.count}; see /etc/subuid and /etc/subgid)`,
    );
    await engine.ok(['exec', 'cpc', 'mkdir', '/devs']);
    await engine.ok(['cp', '-', 'cpc:/devs'], {
      input: tarOf([
        { name: 'null2', type: 'char' },
        { name: 'pipe', type: 'fifo' },
        { name: 'plain', body: 'p\n' },
      ]),
    });
    expect(await engine.ok(['exec', 'cpc', 'sh', '-c', 'cd /devs && for f in *; do stat -c "%F %n" $f; done'])).toBe('fifo pipe\nregular file plain\n');
  });

  it('cp through a bind of the host’s /etc: nothing the user may not read comes out, nothing goes in', async () => {
    await engine.ok(['run', '-d', ...NONE, '--name', 'etcc', '-v', '/etc:/hostetc', 'busybox', 'sleep', '600']);
    try {
      // /etc/shadow is root's: an error, not an empty archive that "copies" nothing.
      const out = await engine.docker(['cp', 'etcc:/hostetc/shadow', join(user.home, 'shadow')]);
      expect({ code: out.code, stderr: out.stderr.trim() }).toEqual({ code: 1, stderr: 'Error response from daemon: open /hostetc/shadow: permission denied' });
      await expect(stat(join(user.home, 'shadow'))).rejects.toThrow(/ENOENT/);
      expect((await engine.podman(['cp', 'etcc:/hostetc/shadow', join(user.home, 'shadow')])).stderr).toContain('open /hostetc/shadow: permission denied');
      // What the user may read comes out.
      await engine.ok(['cp', 'etcc:/hostetc/hostname', join(user.home, 'hostname')]);
      expect(await readFile(join(user.home, 'hostname'), 'utf8')).toBe(await readFile('/etc/hostname', 'utf8'));
      const into = await engine.docker(['cp', join(user.home, 'in.txt'), 'etcc:/hostetc/']);
      expect(into.stderr.trim()).toBe('Error response from daemon: cannot extract the archive: open /hostetc/in.txt: permission denied');
      await expect(stat('/etc/in.txt')).rejects.toThrow(/ENOENT/);
    } finally {
      await engine.docker(['rm', '-f', 'etcc']);
    }
  });

  it('a file the container root writes on the bind is the user’s; uid 1000’s is subuid start + 999', async () => {
    await engine.ok(['exec', 'cpc', 'sh', '-c', 'echo x > /data/r && echo y > /data/a && chown 1000:1000 /data/a']);
    expect(await owner(join(bind, 'r'))).toEqual({ uid: user.uid, gid: user.gid });
    expect(await owner(join(bind, 'a'))).toEqual({ uid: user.subuid.start + 999, gid: user.subuid.start + 999 });
  });
});

describe('build and commit', () => {
  it('docker build: RUN, COPY, COPY --chown, USER 1000', async () => {
    await sh(
      [
        'mkdir -p ~/ctx && cd ~/ctx && echo copied > f.txt',
        `printf '%s\\n' 'FROM busybox' 'RUN echo built > /built && echo app:x:1000:1000::/home/app:/bin/sh >> /etc/passwd && mkdir -p /home/app && chown 1000:1000 /home/app' 'COPY f.txt /app/f.txt' 'COPY --chown=1000:1000 f.txt /home/app/g.txt' 'USER 1000' 'RUN id -u > /home/app/uid && whoami >> /home/app/uid' 'CMD cat /built /app/f.txt /home/app/uid' > Dockerfile`,
      ].join(' && '),
    );
    const out = await engine.docker(['build', ...NONE, '-t', 'flows/built', join(user.home, 'ctx')]);
    expect(out.stderr + out.stdout).toContain('Successfully tagged flows/built:latest');
    expect(out.code).toBe(0);
    expect(await engine.ok(['run', '--rm', ...NONE, 'flows/built'])).toBe('built\ncopied\n1000\napp\n');
    expect(await engine.ok(['run', '--rm', ...NONE, 'flows/built', 'stat', '-c', '%u:%g %n', '/app/f.txt', '/home/app/g.txt', '/home/app/uid'])).toBe(
      '0:0 /app/f.txt\n1000:1000 /home/app/g.txt\n1000:1000 /home/app/uid\n',
    );
    expect((await engine.ok(['inspect', '-f', '{{.Config.User}}', 'flows/built'])).trim()).toBe('1000');
  });

  it('podman --remote build of the same context: the image rootless podman builds from it', async () => {
    await podman(['build', ...NONE, '-t', 'flows/built-podman', join(user.home, 'ctx')]);
    const probe = ['stat', '-c', '%u:%g %a %n', '/built', '/app/f.txt', '/home/app/g.txt', '/home/app/uid'];
    const ours = [await podman(['run', '--rm', ...NONE, 'flows/built-podman']), await podman(['run', '--rm', ...NONE, 'flows/built-podman', ...probe])];
    expect(ours[0]).toBe('built\ncopied\n1000\napp\n');
    ok(await podmanLocal(['build', ...NONE, '-t', 'flows/built-podman', join(user.home, 'ctx')]), 'podman build');
    const theirs = [
      ok(await podmanLocal(['run', '--rm', ...NONE, 'flows/built-podman']), 'podman run'),
      ok(await podmanLocal(['run', '--rm', ...NONE, 'flows/built-podman', ...probe]), 'podman run'),
    ];
    expect(ours).toEqual(theirs);
  });

  it('docker commit of a running container (no freezer rootless on cgroup v1: committed running)', async () => {
    await engine.ok(['run', '-d', ...NONE, '--name', 'tocommit', 'busybox', 'sleep', '600']);
    await engine.ok(['exec', 'tocommit', 'sh', '-c', 'echo committed > /c.txt']);
    const id = (await engine.ok(['commit', '-c', 'CMD ["cat", "/c.txt"]', 'tocommit', 'flows/committed'])).trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await engine.ok(['run', '--rm', ...NONE, 'flows/committed'])).toBe('committed\n');
    expect((await engine.ok(['inspect', '-f', '{{.State.Status}}', 'tocommit'])).trim()).toBe('running');
    await engine.ok(['rm', '-f', 'tocommit']);
  });
});

describe('volumes', () => {
  it('volume create, ls, a file written in it owned by the user on the host, rm', async () => {
    await engine.ok(['volume', 'create', 'fv']);
    expect(await engine.ok(['volume', 'ls', '-q'])).toContain('fv\n');
    const mountpoint = (await engine.ok(['volume', 'inspect', '-f', '{{.Mountpoint}}', 'fv'])).trim();
    expect(mountpoint).toBe(join(engine.root, 'volumes/fv/_data'));
    await engine.ok(['run', '--rm', ...NONE, '-v', 'fv:/v', 'busybox', 'sh', '-c', 'echo vol > /v/f && mkdir /v/d && chown 1000:1000 /v/d']);
    expect(await readFile(join(mountpoint, 'f'), 'utf8')).toBe('vol\n');
    expect(await owner(join(mountpoint, 'f'))).toEqual({ uid: user.uid, gid: user.gid });
    expect(await owner(join(mountpoint, 'd'))).toEqual({ uid: user.subuid.start + 999, gid: user.subuid.start + 999 });
    // Another container sees it.
    expect(await engine.ok(['run', '--rm', ...NONE, '-v', 'fv:/v', 'busybox', 'cat', '/v/f'])).toBe('vol\n');
    // Rootless podman's volume holds the same owners on the host.
    ok(await podmanLocal(['volume', 'create', 'fv']), 'podman volume create');
    ok(
      await podmanLocal(['run', '--rm', ...NONE, '-v', 'fv:/v', 'busybox', 'sh', '-c', 'echo vol > /v/f && mkdir /v/d && chown 1000:1000 /v/d']),
      'podman run',
    );
    const theirs = ok(await podmanLocal(['volume', 'inspect', '-f', '{{.Mountpoint}}', 'fv']), 'podman volume inspect').trim();
    for (const name of ['f', 'd']) expect(await owner(join(theirs, name))).toEqual(await owner(join(mountpoint, name)));
    ok(await podmanLocal(['volume', 'rm', 'fv']), 'podman volume rm');
    await engine.ok(['volume', 'rm', 'fv']);
    expect(await engine.ok(['volume', 'ls', '-q'])).not.toContain('fv');
    await expect(stat(join(engine.root, 'volumes/fv'))).rejects.toThrow(/ENOENT/);
  });

  it('podman --remote run -v vol:/v:U --user 1000: the volume chowned to the container user (subuid start + 999 on the host)', async () => {
    await podman(['volume', 'create', 'uv']);
    await podman(['run', '--rm', ...NONE, '-v', 'uv:/v:U', '--user', '1000:1000', 'busybox', 'touch', '/v/x']);
    const data = join(engine.root, 'volumes/uv/_data');
    expect(await owner(data)).toEqual({ uid: user.subuid.start + 999, gid: user.subuid.start + 999 });
    expect(await owner(join(data, 'x'))).toEqual({ uid: user.subuid.start + 999, gid: user.subuid.start + 999 });
    await podman(['volume', 'rm', 'uv']);
  });

  it('podman --remote volume create / ls / rm', async () => {
    await podman(['volume', 'create', 'pv']);
    expect(await podman(['volume', 'ls', '-q'])).toContain('pv\n');
    await podman(['run', '--rm', ...NONE, '-v', 'pv:/v', 'busybox', 'touch', '/v/f']);
    expect(await owner(join(engine.root, 'volumes/pv/_data/f'))).toEqual({ uid: user.uid, gid: user.gid });
    await podman(['volume', 'rm', 'pv']);
    expect(await podman(['volume', 'ls', '-q'])).not.toContain('pv');
  });
});

describe('registry', () => {
  it('docker push from the rootless engine to a local registry, then pull it back and run it', async () => {
    const ref = `${registry.host}/flows/built:1`;
    await engine.ok(['tag', 'flows/built', ref]);
    const pushed = await engine.ok(['push', ref]);
    expect(pushed).toMatch(/1: digest: sha256:[0-9a-f]{64}/);
    const tags = (await (await fetch(`http://${registry.host}/v2/flows/built/tags/list`)).json()) as { tags: string[] };
    expect(tags.tags).toEqual(['1']);
    // The pushed layers carry the container's ids (0, 1000), never the host's subordinate ones.
    const manifest = (await (
      await fetch(`http://${registry.host}/v2/flows/built/manifests/1`, { headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' } })
    ).json()) as { layers: { digest: string }[] };
    const owners = new Map<string, number>();
    for (const layer of manifest.layers) {
      const blob = Buffer.from(await (await fetch(`http://${registry.host}/v2/flows/built/blobs/${layer.digest}`)).arrayBuffer());
      for (const [name, uid] of tarOwners(gunzipSync(blob))) owners.set(name, uid);
    }
    expect(owners.get('home/app/g.txt')).toBe(1000);
    expect(owners.get('app/f.txt')).toBe(0);
    expect([...owners.values()].filter((uid) => uid >= 65536)).toEqual([]);
    await engine.ok(['rmi', ref, 'flows/built']);
    expect(await engine.ok(['pull', ref])).toContain(`Status: Downloaded newer image for ${ref}`);
    // uid 1000's files came back owned by uid 1000 (the subuid range held them through the round trip).
    expect(await engine.ok(['run', '--rm', ...NONE, ref, 'stat', '-c', '%u:%g', '/home/app/g.txt'])).toBe('1000:1000\n');
  });

  it('pull of an image another client pushed (skopeo), by docker and podman --remote', async () => {
    await registry.pushArchive(inject('images').busybox.archive, 'flows/bb:1');
    const ref = `${registry.host}/flows/bb:1`;
    await engine.ok(['pull', ref]);
    expect(await engine.ok(['run', '--rm', ...NONE, ref, 'echo', 'pulled'])).toBe('pulled\n');
    await engine.ok(['rmi', ref]);
    await podman(['pull', '--tls-verify=false', ref]);
    expect(await podman(['run', '--rm', ...NONE, ref, 'id', '-u'])).toBe('0\n');
  });

  it('reads the user’s own ~/.config/containers/registries.conf, as rootless podman does', async () => {
    await registry.pushArchive(inject('images').busybox.archive, 'flows/conf:1');
    const conf = join(user.home, '.config/containers/registries.conf');
    const text = `[[registry]]\nprefix = "mirror.example"\nlocation = "${registry.host}"\ninsecure = true\n`;
    ok(await user.run('sh', ['-c', `mkdir -p "$(dirname "$1")" && cat > "$1"`, 'sh', conf], { input: text }), 'writing registries.conf');
    await engine.stop();
    await engine.restart();
    try {
      await engine.ok(['pull', 'mirror.example/flows/conf:1']);
      expect(await engine.ok(['run', '--rm', ...NONE, 'mirror.example/flows/conf:1', 'echo', 'via the user’s conf'])).toBe('via the user’s conf\n');
      await engine.ok(['rmi', 'mirror.example/flows/conf:1']);
    } finally {
      await rm(conf, { force: true });
      await engine.stop();
      await engine.restart();
    }
  });
});

describe('save and load', () => {
  it('docker save to a file of the user’s, rmi, docker load: the image back with its owners; podman --remote too', async () => {
    await engine.ok(['tag', 'localhost/flows/built-podman', 'flows/saved']);
    await engine.ok(['save', '-o', join(user.home, 'saved.tar'), 'flows/saved']);
    expect(await owner(join(user.home, 'saved.tar'))).toEqual({ uid: user.uid, gid: user.gid });
    await engine.ok(['rmi', 'flows/saved']);
    expect(await engine.ok(['load', '-i', join(user.home, 'saved.tar')])).toBe('Loaded image: flows/saved:latest\n');
    const owners = ['stat', '-c', '%u:%g %n', '/app/f.txt', '/home/app/g.txt'];
    expect(await engine.ok(['run', '--rm', ...NONE, 'flows/saved', ...owners])).toBe('0:0 /app/f.txt\n1000:1000 /home/app/g.txt\n');
    await podman(['save', '-o', join(user.home, 'saved-podman.tar'), 'flows/saved']);
    await podman(['rmi', 'flows/saved']);
    expect(await podman(['load', '-i', join(user.home, 'saved-podman.tar')])).toContain('flows/saved:latest');
    expect(await podman(['run', '--rm', ...NONE, 'flows/saved', ...owners])).toBe('0:0 /app/f.txt\n1000:1000 /home/app/g.txt\n');
  });
});

describe('pods through podman --remote', () => {
  /** The pod flow through one client; what it saw, to compare. */
  async function podFlow(client: (args: string[]) => Promise<Result>): Promise<string[]> {
    const out = async (args: string[]) => ok(await client(args), `podman ${args.join(' ')}`);
    const seen: string[] = [];
    seen.push((await out(['pod', 'create', '--name', 'fp', ...NONE])).replace(/^[0-9a-f]{64}\n$/, '<pod id>'));
    await out(['run', '-d', '--pod', 'fp', '--name', 'fpc', 'busybox', 'sleep', '600']);
    seen.push(
      await until('the pod running', async () => {
        const row = await out(['pod', 'ps', '--filter', 'name=fp', '--format', '{{.Name}} {{.Status}} {{.NumberOfContainers}}']);
        return row.includes('Running') ? row : undefined;
      }),
    );
    // Members share the infra container's UTS namespace: the pod's name is the hostname.
    seen.push(await out(['exec', 'fpc', 'hostname']), await out(['exec', 'fpc', 'id', '-u']));
    // top (rootless on cgroup v1 there is no cgroup to ask): the members' processes. Rootless podman's
    // psgo ends each command line with a space (the cmdline's last NUL); its rootful service does not.
    const top = await out(['pod', 'top', 'fp', 'args']);
    seen.push(
      top
        .split('\n')
        .map((l) => l.trimEnd())
        .filter(Boolean)
        .sort()
        .join('|'),
    );
    await out(['pod', 'stop', '-t', '1', 'fp']);
    seen.push(await out(['pod', 'ps', '--filter', 'name=fp', '--format', '{{.Status}}']));
    await out(['pod', 'rm', 'fp']);
    seen.push(await out(['pod', 'ps', '-q']));
    return seen;
  }

  it('pod create, a container in it, pod ps, exec, pod top, pod stop and rm: as rootless podman shows them', async () => {
    const ours = await podFlow((args) => engine.podman(args));
    expect(ours).toEqual(['<pod id>', 'fp Running 2\n', 'fp\n', '0\n', '/catatonit -P|COMMAND|sleep 600', 'Exited\n', '']);
    expect(ours).toEqual(await podFlow((args) => podmanLocal(args)));
  });
});

// Rootless networking (runtime/network/rootless-*.ts): the rootless netns, slirp4netns, port forwarding.
describe('networks (rootless netns, slirp4netns, port forwarding)', () => {
  it('run -d -p: the host reaches the container’s httpd on 127.0.0.1:<port>', async () => {
    const port = await freePort();
    await engine.ok([
      'run',
      '-d',
      '--name',
      'pub',
      '-p',
      `${port}:80`,
      'busybox',
      'sh',
      '-c',
      'mkdir -p /www && echo hello-rootless > /www/index.html && exec httpd -f -h /www',
    ]);
    try {
      const body = await until('the published port', async () => {
        const r = await fetch(`http://127.0.0.1:${port}/`);
        return r.ok ? r.text() : undefined;
      });
      expect(body).toBe('hello-rootless\n');
      expect(await engine.ok(['port', 'pub', '80/tcp'])).toBe(`0.0.0.0:${port}\n`);
    } finally {
      await engine.docker(['rm', '-f', 'pub']);
    }
  });

  it('a pod publishing a port (podman --remote pod create -p), its member serving it', async () => {
    const port = await freePort();
    await podman(['pod', 'create', '--name', 'pubpod', '-p', `${port}:80`]);
    try {
      await podman([
        'run',
        '-d',
        '--pod',
        'pubpod',
        '--name',
        'pubpodc',
        'busybox',
        'sh',
        '-c',
        'mkdir -p /w && echo pod-web > /w/index.html && exec httpd -f -h /w',
      ]);
      const body = await until('the pod’s port', async () => {
        const r = await fetch(`http://127.0.0.1:${port}/`);
        return r.ok ? r.text() : undefined;
      });
      expect(body).toBe('pod-web\n');
    } finally {
      await engine.podman(['pod', 'rm', '-f', '-t', '0', 'pubpod']);
    }
  });

  it('docker build on the default network (its RUN steps in containers with a network)', async () => {
    await sh(`mkdir -p ~/netctx && printf '%s\\n' 'FROM busybox' 'RUN ip -o -4 addr show | grep -v " lo " | wc -l > /ifaces' > ~/netctx/Dockerfile`);
    const out = await engine.docker(['build', '-t', 'flows/netbuilt', join(user.home, 'netctx')]);
    expect(out.code, out.stderr).toBe(0);
    expect(await engine.ok(['run', '--rm', ...NONE, 'flows/netbuilt', 'cat', '/ifaces'])).toBe('1\n');
  });

  it('network create: containers resolve each other by name (docker CLI), and podman --remote joins it', async () => {
    await engine.ok(['network', 'create', 'fnet']);
    try {
      await engine.ok([
        'run',
        '-d',
        '--network',
        'fnet',
        '--name',
        'srv',
        'busybox',
        'sh',
        '-c',
        'mkdir -p /www && echo by-name > /www/index.html && exec httpd -f -h /www',
      ]);
      const got = await until('srv by name', async () => {
        const r = await engine.docker(['run', '--rm', '--network', 'fnet', 'busybox', 'wget', '-qO-', 'http://srv/']);
        return r.code === 0 ? r.stdout : undefined;
      });
      expect(got).toBe('by-name\n');
      expect(await podman(['run', '--rm', '--network', 'fnet', 'busybox', 'wget', '-qO-', 'http://srv/'])).toBe('by-name\n');
    } finally {
      await engine.docker(['rm', '-f', 'srv']);
      await engine.docker(['network', 'rm', 'fnet']);
    }
  });
});

describe('the engine killed -9', () => {
  it('leaves its containers running; a restarted engine sees them running and can stop them', async () => {
    await engine.ok(['run', '-d', ...NONE, '--name', 'survivor', 'busybox', 'sh', '-c', 'trap "exit 7" TERM; echo up; while :; do sleep 1; done']);
    await until('the survivor up', async () => ((await engine.ok(['logs', 'survivor'])).includes('up') ? true : undefined));
    await engine.ok(['run', '-d', ...NONE, '--name', 'sleeper', 'busybox', 'sleep', '600']);
    const pids = new Map<string, number>();
    for (const name of ['survivor', 'sleeper']) pids.set(name, Number((await engine.ok(['inspect', '-f', '{{.State.Pid}}', name])).trim()));

    await engine.kill9();
    for (const [name, pid] of pids) expect(alive(pid), `${name} (pid ${pid}) alive`).toBe(true);

    await engine.restart();
    const running = await engine.ok(['ps', '--filter', 'name=survivor', '--filter', 'name=sleeper', '--format', '{{.Names}} {{.State}}']);
    expect(running.split('\n').filter(Boolean).sort()).toEqual(['sleeper running', 'survivor running']);
    for (const [name, pid] of pids) expect((await engine.ok(['inspect', '-f', '{{.State.Pid}}', name])).trim()).toBe(String(pid));
    // Still theirs to use: exec and logs through the new engine.
    expect(await engine.ok(['exec', 'survivor', 'echo', 'still here'])).toBe('still here\n');
    expect(await engine.ok(['logs', 'survivor'])).toBe('up\n');

    // SIGTERM, trapped: exit code 7; sleep as PID 1 ignores SIGTERM: killed after the timeout.
    await engine.ok(['stop', '-t', '10', 'survivor']);
    expect((await engine.ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'survivor'])).trim()).toBe('exited 7');
    const started = Date.now();
    await engine.ok(['stop', '-t', '1', 'sleeper']);
    expect(Date.now() - started).toBeLessThan(15_000);
    for (const name of ['sleeper']) expect((await engine.ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', name])).trim()).toBe('exited 137');
    for (const [name, pid] of pids) await until(`${name}'s process gone`, async () => (alive(pid) ? undefined : true));
    await engine.ok(['rm', 'survivor', 'sleeper']);
    expect(await engine.ok(['ps', '-a', '--filter', 'name=survivor', '--filter', 'name=sleeper', '--format', '{{.Names}}'])).toBe('');
  });
});

describe('a published port across an engine kill -9', () => {
  it('keeps serving while no engine runs and after the restart; stop closes it, rm releases it', async () => {
    const port = await freePort();
    await engine.ok(['run', '-d', '--name', 'kp', '-p', `${port}:80`, 'busybox', 'sh', '-c', 'mkdir -p /w && echo kp > /w/index.html && exec httpd -f -h /w']);
    const get = async () => {
      const r = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) });
      return r.ok ? r.text() : undefined;
    };
    expect(await until('the port', get)).toBe('kp\n');
    await engine.kill9();
    expect(await get()).toBe('kp\n');
    await engine.restart();
    expect(await get()).toBe('kp\n');
    await engine.ok(['stop', '-t', '0', 'kp']);
    await expect(get()).rejects.toThrow();
    await engine.ok(['rm', 'kp']);
    // The port is free again: the host can listen on it.
    const server = createServer();
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    await new Promise((r) => server.close(r));
  });
});

describe('the engine down while its containers end', () => {
  it('a container that exits and a --rm one that exits while no engine runs: seen exited (and removed) after the restart', async () => {
    const gate = join(user.home, 'gate');
    await sh(`mkdir -p ${gate}`);
    const wait = 'while [ ! -e /gate/go ]; do sleep 0.1; done; exit 5';
    await engine.ok(['run', '-d', ...NONE, '--name', 'ends', '-v', `${gate}:/gate`, 'busybox', 'sh', '-c', wait]);
    await engine.ok(['run', '-d', ...NONE, '--rm', '--name', 'goes', '-v', `${gate}:/gate`, 'busybox', 'sh', '-c', wait]);
    const pids = await Promise.all(['ends', 'goes'].map(async (n) => Number((await engine.ok(['inspect', '-f', '{{.State.Pid}}', n])).trim())));
    await engine.kill9();
    await sh(`touch ${gate}/go`);
    for (const pid of pids) await until(`pid ${pid} gone`, async () => (alive(pid) ? undefined : true));
    await engine.restart();
    const ended = await until('the exit recorded', async () => {
      const out = (await engine.ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'ends'])).trim();
      return out === 'exited 5' ? out : undefined;
    });
    expect(ended).toBe('exited 5');
    await until('the --rm container removed', async () => ((await engine.docker(['inspect', 'goes'])).code !== 0 ? true : undefined));
    // It starts again (its rootfs mounted anew) and ends at once: the gate is open.
    expect((await engine.docker(['start', '-a', 'ends'])).code).toBe(5);
    await engine.ok(['rm', 'ends']);
  });

  it('the pause process killed while containers run, then the engine killed -9: the restarted engine still reaches and stops them', async () => {
    await engine.ok(['run', '-d', ...NONE, '--name', 'kept', 'busybox', 'sleep', '600']);
    const pid = Number((await engine.ok(['inspect', '-f', '{{.State.Pid}}', 'kept'])).trim());
    const pause = await engine.pausePid();
    process.kill(pause, 'SIGKILL');
    await engine.kill9();
    expect(alive(pid)).toBe(true);
    try {
      await engine.restart();
    } catch (err) {
      // An engine for the flows after this one, once PID 1 has reaped the killed pause.
      await until('the killed pause reaped', async () => (existsSync(`/proc/${pause}`) ? undefined : true), 60_000);
      await engine.restart();
      throw err;
    }
    expect((await engine.ok(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', 'kept'])).trim()).toBe(`running ${pid}`);
    // The same user namespace as the container's: the new pause joined it.
    expect(await RootlessEngine.userns(engine.pid)).toBe(await RootlessEngine.userns(pid));
    expect(await engine.ok(['exec', 'kept', 'echo', 'reached'])).toBe('reached\n');
    await engine.ok(['stop', '-t', '1', 'kept']);
    await until('its process gone', async () => (alive(pid) ? undefined : true));
    await engine.ok(['rm', 'kept']);
  });

  it('everything of the user killed (the pause too, as an OOM or a logout would): the engine starts anew, its containers exited and able to start again', async () => {
    await engine.ok(['run', '-d', ...NONE, '--name', 'orphan', 'busybox', 'sleep', '600']);
    const oldPause = await engine.pausePid();
    await engine.kill9();
    await user.killAll();
    await engine.restart();
    expect(await engine.pausePid()).not.toBe(oldPause);
    const state = await until('the container seen exited', async () => {
      const out = (await engine.ok(['inspect', '-f', '{{.State.Status}}', 'orphan'])).trim();
      return out === 'exited' ? out : undefined;
    });
    expect(state).toBe('exited');
    await engine.ok(['start', 'orphan']);
    expect(await engine.ok(['exec', 'orphan', 'echo', 'again'])).toBe('again\n');
    await engine.ok(['rm', '-f', 'orphan']);
    expect(await engine.ok(['ps', '-a', '--filter', 'name=orphan', '--format', '{{.Names}}'])).toBe('');
  });
});

describe('a reboot (or a logout that empties /run/user/<uid>)', () => {
  it('every process of the user gone and the run root wiped: the engine starts anew, containers exited, volumes and images kept', async () => {
    await engine.ok(['volume', 'create', 'kept']);
    await engine.ok(['run', '-d', ...NONE, '--name', 'rebooted', '-v', 'kept:/k', 'busybox', 'sh', '-c', 'echo before > /k/f; exec sleep 600']);
    await until('the volume written', async () => ((await engine.docker(['exec', 'rebooted', 'cat', '/k/f'])).stdout === 'before\n' ? true : undefined));
    await engine.kill9();
    await user.killAll();
    await run('rm', ['-rf', engine.runRoot]);
    await engine.restart();
    expect((await engine.ok(['inspect', '-f', '{{.State.Status}}', 'rebooted'])).trim()).toBe('exited');
    await engine.ok(['start', 'rebooted']);
    expect(await engine.ok(['exec', 'rebooted', 'cat', '/k/f'])).toBe('before\n');
    expect(await engine.ok(['images', '-q', 'busybox'])).not.toBe('');
    await engine.ok(['rm', '-f', 'rebooted']);
    await engine.ok(['volume', 'rm', 'kept']);
  });
});

describe('destroy', () => {
  it('leaves nothing: no process of the uid or its subordinate ids, no mount under its dirs, no user', async () => {
    // Something running to take away, in berth and in podman.
    await engine.ok(['run', '-d', ...NONE, 'busybox', 'sleep', '600']);
    ok(await podmanLocal(['run', '-d', ...NONE, 'busybox', 'sleep', '600']), 'podman run -d');
    const { uid, name, home, runtimeDir } = user;
    destroyed = true;
    await engine.destroy();
    await user.destroy();
    await run('rm', ['-f', `/dev/shm/libpod_rootless_lock_${uid}`]);

    expect(await user.processes()).toEqual([]);
    const mounts = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').map((l) => l.split(' ')[4] ?? '');
    expect(mounts.filter((m) => m.startsWith(home) || m.startsWith(runtimeDir))).toEqual([]);
    expect((await run('id', [name])).code).not.toBe(0);
    for (const file of ['/etc/subuid', '/etc/subgid']) expect(await readFile(file, 'utf8')).not.toMatch(new RegExp(`^${name}:`, 'm'));
    expect((await run('getfacl', ['-p', '/dev/net/tun'])).stdout).not.toContain(`user:${name}:`);
    expect((await run('getfacl', ['-n', '-p', '/dev/net/tun'])).stdout).not.toContain(`user:${uid}:`);
    for (const dir of [home, runtimeDir, `/tmp/berth-run-${uid}`]) await expect(stat(dir)).rejects.toThrow(/ENOENT/);
    expect((await readdir('/dev/shm')).filter((f) => f.endsWith(`_${uid}`))).toEqual([]);
  });
});
