// A rootless engine can never write outside what its user could: container root is the user on the
// host, with capabilities only over the user namespace's own ids. The rootful engine's race-free path
// handling holds as well (the same code), and past it the kernel refuses the rest.
import { readFile, stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { run } from '../helpers/engine.js';
import { RootlessEngine, RootlessUser } from '../helpers/rootless.js';

let user: RootlessUser;
let other: RootlessUser;
let engine: RootlessEngine;

beforeAll(async () => {
  user = await RootlessUser.create('rlsec');
  other = await RootlessUser.create('rlsec');
  engine = await RootlessEngine.start(user);
  await engine.load(inject('images').busybox.archive);
});

afterAll(async () => {
  await engine?.destroy();
  await user?.destroy();
  await other?.destroy();
});

describe('a rootless container’s root', () => {
  it('cannot write the host’s files through a bind mount: they belong to nobody in the namespace', async () => {
    const before = await readFile('/etc/passwd', 'utf8');
    const r = await engine.docker([
      'run',
      '--rm',
      '--network',
      'none',
      '-v',
      '/etc:/host-etc',
      'busybox',
      'sh',
      '-c',
      'ls -ln /host-etc/passwd; echo owned >> /host-etc/passwd',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toMatch(/ 65534 +65534 /); // the host's root is unmapped: the overflow id
    expect(r.stderr).toMatch(/Permission denied/);
    expect(await readFile('/etc/passwd', 'utf8')).toBe(before);
  });

  it('cannot bind-mount a directory the user cannot enter (root’s home, another user’s private dir)', async () => {
    const privateDir = `${other.home}/private`;
    await run('install', ['-d', '-m', '0700', '-o', other.name, privateDir]);
    for (const dir of ['/root', privateDir]) {
      const r = await engine.docker(['run', '--rm', '--network', 'none', '-v', `${dir}:/h`, 'busybox', 'ls', '/h']);
      expect(r.code, dir).not.toBe(0);
      expect(r.stderr, dir).toMatch(/permission denied/i);
    }
  });

  it('cannot chown the user’s own files to an id outside its namespace, nor make devices', async () => {
    const r = await engine.docker([
      'run',
      '--rm',
      '--network',
      'none',
      'busybox',
      'sh',
      '-c',
      'mknod /tmp/sda b 8 0 || echo no-mknod; touch /tmp/f; chown 70000 /tmp/f || echo no-chown',
    ]);
    expect(r.stdout).toContain('no-mknod');
    expect(r.stdout).toContain('no-chown');
  });

  it('copied into through a symlink to the host’s /etc, lands inside the container (and nothing on the host)', async () => {
    const id = (await engine.ok(['create', '--network', 'none', 'busybox', 'sleep', '100'])).trim();
    await engine.ok(['start', id]);
    await engine.ok(['exec', id, 'ln', '-s', '/../../../../../../etc', '/out']);
    await user.run('sh', ['-c', 'echo hi > rl-sec-file']);
    const cp = await engine.docker(['cp', `${user.home}/rl-sec-file`, `${id}:/out/`]);
    expect(cp).toMatchObject({ code: 0 });
    expect(await engine.ok(['exec', id, 'cat', '/etc/rl-sec-file'])).toBe('hi\n');
    await expect(stat('/etc/rl-sec-file')).rejects.toThrow(/ENOENT/);
    await engine.ok(['rm', '-f', id]);
  });

  it('runs every process as the user or its subordinate ids on the host, never as root', async () => {
    const id = (await engine.ok(['run', '-d', '--network', 'none', 'busybox', 'sh', '-c', 'adduser -D -u 1000 u; su u -c "sleep 100" & sleep 100'])).trim();
    const pids = await user.processes();
    expect(pids.length).toBeGreaterThan(3);
    for (const pid of pids) {
      const uid = Number(/^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${pid}/status`, 'utf8').catch(() => 'Uid: -1'))?.[1]);
      if (uid === -1) continue; // ended meanwhile
      expect(uid === user.uid || (uid >= user.subuid.start && uid < user.subuid.start + user.subuid.count), `pid ${pid} uid ${uid}`).toBe(true);
    }
    await engine.ok(['rm', '-f', id]);
  });
});
