// fuse-overlayfs, the rootless overlay where the kernel refuses overlayfs with userxattr in a user
// namespace. This kernel takes userxattr, so BERTH_ROOTLESS_OVERLAY=fuse-overlayfs forces the fallback,
// and the test user gets /dev/fuse (root-only on this VM; 0666 where udev runs) for the test's length.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { run } from '../helpers/engine.js';
import { RootlessEngine, RootlessUser } from '../helpers/rootless.js';

let user: RootlessUser;
let engine: RootlessEngine;

beforeAll(async () => {
  user = await RootlessUser.create('rlfuse');
  await run('setfacl', ['-m', `u:${user.uid}:rw`, '/dev/fuse']);
  engine = await RootlessEngine.start(user, { env: { BERTH_ROOTLESS_OVERLAY: 'fuse-overlayfs' } });
  await engine.load(inject('images').busybox.archive);
});

afterAll(async () => {
  await engine?.destroy();
  if (user) await run('setfacl', ['-x', `u:${user.uid}`, '/dev/fuse']);
  await user?.destroy();
});

// Live ones: an ended daemon stays a zombie until this VM's PID 1 reaps it.
const fuseDaemons = async () => {
  const r = await run('ps', ['-u', String(user.uid), '-o', 'stat=,comm=']);
  return r.stdout.split('\n').filter((l) => /^[^Z]\S*\s+fuse-overlayfs$/.test(l.trim())).length;
};

const fuseMounts = async () => {
  const r = await run('nsenter', ['-t', String(await engine.pausePid()), '-U', '-m', '--preserve-credentials', 'cat', '/proc/self/mountinfo']);
  return r.stdout.split('\n').filter((l) => l.includes('fuse-overlayfs')).length;
};

describe('rootless storage through fuse-overlayfs', () => {
  it('mounts the root with fuse-overlayfs, deletes and remakes a lower directory, commits it as opaque', async () => {
    const root = await engine.ok(['run', '--rm', '--network', 'none', 'busybox', 'grep', ' / ', '/proc/mounts']);
    expect(root).toMatch(/^fuse-overlayfs \/ fuse\.fuse-overlayfs /);
    const id = (await engine.ok(['run', '-d', '--network', 'none', 'busybox', 'sleep', '100'])).trim();
    expect(await fuseMounts()).toBe(1);
    await engine.ok(['rm', '-f', id]);
    await engine.ok(['run', '--name', 'fo-base', '--network', 'none', 'busybox', 'sh', '-c', 'mkdir -p /d/sub && touch /d/sub/f /d/g']);
    await engine.ok(['commit', 'fo-base', 'fo:base']);
    const remade = await engine.docker([
      'run',
      '--name',
      'fo-remade',
      '--network',
      'none',
      'fo:base',
      'sh',
      '-c',
      'rm -rf /d && mkdir /d && touch /d/new && ls -A /d',
    ]);
    expect(remade).toMatchObject({ code: 0, stdout: 'new\n' });
    await engine.ok(['commit', 'fo-remade', 'fo:remade']);
    expect(await engine.ok(['run', '--rm', '--network', 'none', 'fo:remade', 'ls', '-A', '/d'])).toBe('new\n');
  });

  it('leaves no fuse-overlayfs behind once the containers are gone', async () => {
    await engine.ok(['rm', '-f', 'fo-base', 'fo-remade']);
    await engine.ok(['rmi', 'fo:base', 'fo:remade']);
    expect(await fuseMounts()).toBe(0);
    expect(await fuseDaemons()).toBe(0);
  });
});
