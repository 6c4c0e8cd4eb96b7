// --userns on a rootless engine, against podman 4.3 run by the same user on the same machine (its own
// storage, runc, --network none): host (the default), keep-id, nomap and auto, through podman --remote
// and the Docker API's HostConfig.UsernsMode; a rootful engine's refusals in podman's words.
import { readFile, rm, stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TestEngine, httpOn } from '../helpers/engine.js';
import { RootlessEngine, RootlessUser, squeeze } from '../helpers/rootless.js';

let user: RootlessUser;
let engine: RootlessEngine;

// What a container tells of its user namespace: who it is, its maps, the last passwd and group lines.
const PROBE = 'id; cat /proc/self/uid_map /proc/self/gid_map; tail -1 /etc/passwd; tail -1 /etc/group; ls -ln /bin/busybox | cut -c1-30';

/** podman run by the user itself (its own storage: the oracle). */
const podman = (args: string[]) => user.run('podman', args);
const podmanRun = (flags: string[], cmd: string[]) => podman(['run', '--rm', '--runtime', 'runc', '--network', 'none', ...flags, 'busybox', ...cmd]);
/** The same through berth's libpod API. */
const berthRun = (flags: string[], cmd: string[]) => engine.podman(['run', '--rm', '--network', 'none', ...flags, 'busybox', ...cmd]);

beforeAll(async () => {
  user = await RootlessUser.create('rlns');
  engine = await RootlessEngine.start(user);
  const archive = await readFile(inject('images').busybox.archive);
  await engine.load(inject('images').busybox.archive);
  const loaded = await user.run('podman', ['load'], { input: archive });
  if (loaded.code !== 0) throw new Error(`podman load: ${loaded.stderr}`);
});

afterAll(async () => {
  await engine?.destroy();
  if (user) {
    // podman's lock file outside the user's dirs (its pause and storage go with the user).
    await rm(`/dev/shm/libpod_rootless_lock_${user.uid}`, { force: true });
    await user.destroy();
  }
});

describe('--userns modes as podman runs them rootless', () => {
  it.each([
    ['host (the default)', []],
    ['host', ['--userns', 'host']],
    ['keep-id', ['--userns', 'keep-id']],
    ['keep-id:uid=200,gid=210', ['--userns', 'keep-id:uid=200,gid=210']],
    ['nomap', ['--userns', 'nomap']],
    ['auto', ['--userns', 'auto']],
    ['auto:size=500', ['--userns', 'auto:size=500']],
    // containers/storage's extra runs: the rest of the slice around them (the user as container root, 1000, ...).
    ['auto:uidmapping=0:0:1', ['--userns', 'auto:uidmapping=0:0:1']],
    ['auto:uidmapping=1000:0:1', ['--userns', 'auto:uidmapping=1000:0:1']],
    ['auto:gidmapping=0:500:2,size=100', ['--userns', 'auto:gidmapping=0:500:2,size=100']],
    ['auto:uidmapping=0:5:1,uidmapping=10:20:2', ['--userns', 'auto:uidmapping=0:5:1,uidmapping=10:20:2']],
  ])('%s: the same user, maps, passwd and group lines and image owners as podman', async (_name, flags) => {
    const [ours, theirs] = [await berthRun(flags, ['sh', '-c', PROBE]), await podmanRun(flags, ['sh', '-c', PROBE])];
    expect(theirs.code).toBe(0);
    // podman lists no supplementary groups for root in the engine's own namespace: berth lists the
    // primary group as dockerd does (not a --userns matter).
    const normal = (text: string) => squeeze(text).replace(/^(uid=0\(root\) gid=0\(root\)) groups=0\(root\)/, '$1');
    expect({ code: ours.code, out: normal(ours.stdout) }).toEqual({ code: 0, out: normal(theirs.stdout) });
  });

  // (Containers here end by themselves: a rootless engine without cgroups stops a running one slowly.)
  it('keep-id: the process and an exec run as the user; a file it writes is the user’s on the host', async () => {
    const waitForStop = 'until [ -f /tmp/stop ]; do sleep 0.1; done';
    expect((await engine.podman(['run', '-d', '--name', 'keep', '--network', 'none', '--userns', 'keep-id', 'busybox', 'sh', '-c', waitForStop])).code).toBe(0);
    try {
      expect((await engine.podman(['exec', 'keep', 'id', '-u'])).stdout.trim()).toBe(String(user.uid));
      const inspect = JSON.parse((await engine.podman(['inspect', 'keep'])).stdout)[0];
      expect({ user: inspect.Config.User, userns: inspect.HostConfig.UsernsMode }).toEqual({ user: `${user.uid}:${user.gid}`, userns: 'private' });
      // /proc/<pid>/root: the container's rootfs from the host's side (root may look in).
      const pid: number = inspect.State.Pid;
      expect((await engine.podman(['exec', 'keep', 'sh', '-c', 'echo x > /tmp/mine'])).code).toBe(0);
      const st = await stat(`/proc/${pid}/root/tmp/mine`);
      expect({ uid: st.uid, gid: st.gid }).toEqual({ uid: user.uid, gid: user.gid });
      // Container root (the image's owner of /bin/busybox) is the first subordinate id, not the user.
      expect((await stat(`/proc/${pid}/root/bin/busybox`)).uid).toBe(user.subuid.start);
    } finally {
      await engine.podman(['exec', 'keep', 'touch', '/tmp/stop']);
      await engine.podman(['wait', 'keep']);
      await engine.podman(['rm', 'keep']);
    }
  });

  it('nomap: the user is not in the container: container root writes as a subordinate id', async () => {
    const r = await berthRun(['--userns', 'nomap'], ['sh', '-c', "grep -c . /proc/self/uid_map; awk '$2==0' /proc/self/uid_map | wc -l"]);
    expect(squeeze(r.stdout)).toBe('1\n0'); // one line, and no line maps ns 0 (the user)
  });

  it.each([['keep-id'], ['nomap'], ['auto']])(
    '%s on the default network: the bridge’s address inside (sysfs of a namespace it does not own is bound)',
    async (mode) => {
      const r = await engine.podman([
        'run',
        '--rm',
        '--userns',
        mode,
        'busybox',
        'sh',
        '-c',
        'ip -o -4 addr show eth0 | wc -l; ls /sys/class/net | grep -c lo',
      ]);
      expect({ code: r.code, out: squeeze(r.stdout), err: r.stderr }).toEqual({ code: 0, out: '1\n1', err: '' });
    },
  );

  it.each([['keep-id'], ['nomap'], ['auto']])('%s on the default network: exec (podman and docker) and a published port', async (mode) => {
    const name = `ex-${mode}`;
    const up = await engine.podman([
      'run',
      '-d',
      '--name',
      name,
      '-p',
      '18089:8080',
      '--userns',
      mode,
      'busybox',
      'sh',
      '-c',
      'echo hi > /tmp/i; exec httpd -f -p 8080 -h /tmp',
    ]);
    expect(up.stderr).toBe('');
    try {
      // runc exec joins the user namespace first, then the network namespace: made in it, so within reach.
      const viaPodman = await engine.podman(['exec', name, 'sh', '-c', 'cat /tmp/i']);
      expect({ code: viaPodman.code, out: viaPodman.stdout, err: viaPodman.stderr }).toEqual({ code: 0, out: 'hi\n', err: '' });
      expect((await engine.docker(['exec', name, 'cat', '/tmp/i'])).stdout).toBe('hi\n');
      expect(await (await fetch('http://127.0.0.1:18089/i')).text()).toBe('hi\n');
    } finally {
      await engine.podman(['rm', '-f', '-t', '0', name]);
    }
  });

  it('auto: each existing container holds its slice (created or exited), removal frees it, as podman’s', async () => {
    const map = async (flags: string[]) => squeeze((await berthRun(flags, ['head', '-1', '/proc/self/uid_map'])).stdout);
    try {
      expect((await engine.podman(['create', '--name', 'a1', '--network', 'none', '--userns', 'auto', 'busybox', 'true'])).code).toBe(0);
      expect(await map(['--userns', 'auto'])).toBe('0 1025 1024');
      // One made through the Docker API draws from the same slices, and keeps its slice once exited.
      const viaDocker = await httpOn(engine.socket, 'POST', '/v1.41/containers/create?name=a3', {
        Image: 'busybox',
        Cmd: ['head', '-1', '/proc/self/uid_map'],
        HostConfig: { UsernsMode: 'auto', NetworkMode: 'none' },
      });
      expect(viaDocker.status).toBe(201);
      expect(squeeze((await engine.docker(['start', '-a', 'a3'])).stdout)).toBe('0 1025 1024');
      expect((await engine.podman(['create', '--name', 'a2', '--network', 'none', '--userns', 'auto:size=2000', 'busybox', 'true'])).code).toBe(0);
      expect(await map(['--userns', 'auto'])).toBe('0 4049 1024'); // a1 1.., a3 1025.., a2 2049..4048
      await engine.podman(['rm', 'a3']);
      expect(await map(['--userns', 'auto'])).toBe('0 1025 1024');
      await engine.podman(['rm', 'a1']);
      expect(await map(['--userns', 'auto'])).toBe('0 1 1024');
    } finally {
      await engine.podman(['rm', '-f', 'a1', 'a2', 'a3']);
    }
  });

  it.each([
    ['auto:size=70000'], // more than the subuid range
    ['auto:size=1000000000'], // refused at once, not after a walk of every ID
    ['auto:size=abc'],
    ['auto:foo=1'],
    ['auto:uidmapping=0:0'],
    ['keep-id:foo=1'],
    ['bogus'],
    ['private'],
  ])('--userns %s: refused with podman’s message', async (mode) => {
    const [ours, theirs] = [await berthRun(['--userns', mode], ['true']), await podmanRun(['--userns', mode], ['true'])];
    expect(theirs.code).toBe(125);
    const last = (text: string) => text.trim().split('\n').pop();
    expect({ code: ours.code, err: last(ours.stderr) }).toEqual({ code: 125, err: last(theirs.stderr) });
  });
});

describe('HostConfig.UsernsMode (the Docker API, as podman’s compat API reads it)', () => {
  it('keep-id through /containers/create: the user inside with podman’s mapping, echoed by inspect', async () => {
    // The rootless engine's API as root calls it (root may open the user's 0600 socket).
    const http = (method: string, path: string, body?: object) => httpOn(engine.socket, method, path, body);
    const created = await http('POST', '/v1.41/containers/create', {
      Image: 'busybox',
      Cmd: ['sh', '-c', 'id -u; head -2 /proc/self/uid_map'],
      HostConfig: { UsernsMode: 'keep-id', NetworkMode: 'none' },
    });
    expect(created.status).toBe(201);
    const id: string = created.json().Id;
    try {
      expect((await http('POST', `/v1.41/containers/${id}/start`)).status).toBe(204);
      expect((await http('POST', `/v1.41/containers/${id}/wait`)).json().StatusCode).toBe(0);
      expect(squeeze(await engine.ok(['logs', id]))).toBe(`${user.uid}\n0 1 ${user.uid}\n${user.uid} 0 1`);
      expect((await engine.ok(['inspect', '--format', '{{.HostConfig.UsernsMode}} {{.Config.User}}', id])).trim()).toBe(`keep-id ${user.uid}:${user.gid}`);
    } finally {
      await http('DELETE', `/v1.41/containers/${id}?force=1`);
    }
  });

  it('an unknown mode is a 400 in podman’s words; host is the engine’s own namespace', async () => {
    const bad = await httpOn(engine.socket, 'POST', '/v1.41/containers/create', { Image: 'busybox', HostConfig: { UsernsMode: 'bogus' } });
    expect([bad.status, bad.json().message]).toEqual([400, 'unrecognized namespace mode bogus passed']);
    const host = squeeze(await engine.ok(['run', '--rm', '--network', 'none', '--userns', 'host', 'busybox', 'cat', '/proc/self/uid_map']));
    expect(host).toBe(`0 ${user.uid} 1\n1 ${user.subuid.start} ${user.subuid.count}`);
  });
});

describe('a rootful engine', () => {
  it.each([['keep-id'], ['nomap']])('refuses --userns %s as rootful podman does', async (mode) => {
    const rootful = await TestEngine.start();
    try {
      expect((await rootful.docker(['load', '-i', inject('images').busybox.archive])).code).toBe(0);
      const r = await rootful.http('POST', '/v4.3.1/libpod/containers/create', { image: 'busybox', userns: { nsmode: mode } });
      expect([r.status, r.json().message]).toEqual([400, `${mode} is only supported in rootless mode`]);
    } finally {
      await rootful.destroy();
    }
  });
});
