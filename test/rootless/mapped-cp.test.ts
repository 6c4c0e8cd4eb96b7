// docker cp and podman --remote cp of a rootless container in a user namespace of its own (--userns
// keep-id, nomap, auto): owners cross as the container sees them. Out, tar writes the ids it sees (as
// export does); in, the archive's owners (or, with -a, the container's user) are container ids, stored
// as the ns ids the container maps them from; an id it does not map fails the copy, as podman's copier.
// A container of the engine's own namespace (host, the default) is the regression guard.
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Result } from '../helpers/engine.js';
import { RootlessEngine } from '../helpers/rootless.js';

let engine: RootlessEngine;

beforeAll(async () => {
  engine = await RootlessEngine.forNewUser('rlc', { load: inject('images').busybox.archive });
  const home = engine.user.home;
  must(await engine.user.run('sh', ['-c', 'echo hi > in.txt']), 'in.txt');
  // Entries of root's, named by number (the test user cannot chown; tar records what it is told).
  must(await engine.user.run('tar', ['--owner=0', '--group=0', '--numeric-owner', '-C', home, '-cf', 'root.tar', 'in.txt']), 'root.tar');
  // A member below a directory the archive does not hold: cp makes that directory.
  must(
    await engine.user.run('tar', ['--owner=0', '--group=0', '--numeric-owner', '--transform=s,^,deep/,', '-C', home, '-cf', 'deep.tar', 'in.txt']),
    'deep.tar',
  );
  must(await engine.user.run('tar', ['--owner=5000', '--group=5000', '--numeric-owner', '-C', home, '-cf', 'far.tar', 'in.txt']), 'far.tar');
}, 180_000);

afterAll(() => engine?.destroyWithUser());

function must(r: Result, what: string): string {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

const file = (name: string) => join(engine.user.home, name);
const readTar = (name: string) => readFile(file(name));
const exec = async (name: string, cmd: string) => (await engine.ok(['exec', '-u', '0', name, 'sh', '-c', cmd])).trim();

/** A running container of `mode` ('' for the default) made through podman --remote (the docker CLI refuses --userns but host). */
async function container(name: string, mode: string, flags: string[] = []): Promise<void> {
  const userns = mode ? ['--userns', mode] : [];
  must(await engine.podman(['run', '-d', '--name', name, '--network', 'none', ...userns, ...flags, 'busybox', 'sleep', '600']), `run ${name}`);
  // What the container's root made for container uid 1000.
  await exec(name, 'touch /tmp/u && chown 1000:1000 /tmp/u');
}

/** `docker cp name:path -`'s entries as `owner path` (numeric uid/gid as tar lists them). */
async function copiedOut(name: string, path: string): Promise<string[]> {
  const listing = must(
    await engine.user.run('bash', ['-o', 'pipefail', '-c', `docker cp ${name}:${path} - | tar --numeric-owner -tvf -`], {
      env: { DOCKER_HOST: `unix://${engine.socket}` },
    }),
    `docker cp ${name}:${path} -`,
  );
  return listing
    .trim()
    .split('\n')
    .map((l) => l.split(/\s+/))
    .map((f) => `${f[1]} ${f[f.length - 1]}`);
}

async function upperOwner(name: string, path: string): Promise<{ uid: number; gid: number }> {
  const id = (await engine.ok(['inspect', '-f', '{{.Id}}', name])).trim();
  const st = await lstat(join(engine.root, 'containers', id, 'diff', path));
  return { uid: st.uid, gid: st.gid };
}

describe.each(['keep-id', 'nomap', 'auto'])('--userns=%s', (mode) => {
  const name = `cp-${mode}`;
  beforeAll(() => container(name, mode), 120_000);
  afterAll(() => engine.docker(['rm', '-f', name]));

  it('docker cp out: owners as the container sees them', async () => {
    expect(await copiedOut(name, '/bin/busybox')).toEqual(['0/0 busybox']);
    expect(await copiedOut(name, '/tmp/u')).toEqual(['1000/1000 u']);
    expect(await copiedOut(name, '/tmp')).toEqual(expect.arrayContaining(['0/0 tmp/', '1000/1000 tmp/u']));
    // A file mounted at the path itself (tarred through its descriptor): the owner `stat` shows inside.
    const seen = (await exec(name, 'stat -c %u/%g /etc/hosts')).trim();
    expect(await copiedOut(name, '/etc/hosts')).toEqual([`${seen} hosts`]);
  });

  it('docker export: the same owners (tar-owner-map.ts, shared with cp out)', async () => {
    const listing = must(
      await engine.user.run('bash', ['-o', 'pipefail', '-c', `docker export ${name} | tar --numeric-owner -tvf - ./bin/busybox ./tmp/u`], {
        env: { DOCKER_HOST: `unix://${engine.socket}` },
      }),
      'docker export',
    );
    const owners = listing
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/))
      .map((f) => `${f[1]} ${f[f.length - 1]}`);
    expect(owners.sort()).toEqual(['0/0 ./bin/busybox', '1000/1000 ./tmp/u']);
  });

  it('docker cp in: root’s entries are the container root’s, the directories made on the way too', async () => {
    await engine.ok(['cp', '-', `${name}:/tmp`], { input: await readTar('root.tar') });
    expect(await exec(name, 'stat -c %u:%g /tmp/in.txt')).toBe('0:0');
    await engine.ok(['cp', '-', `${name}:/tmp`], { input: await readTar('deep.tar') });
    expect(await exec(name, 'stat -c "%u:%g %n" /tmp/deep /tmp/deep/in.txt')).toBe('0:0 /tmp/deep\n0:0 /tmp/deep/in.txt');
    if (mode === 'nomap') expect(await upperOwner(name, 'tmp/in.txt')).toEqual({ uid: engine.user.subuid.start, gid: engine.user.subuid.start });
  });
});

describe('docker cp -a and podman cp: the container user', () => {
  it('keep-id: -a gives the user’s ids, which are the user on the host', async () => {
    await container('cp-keep-a', 'keep-id');
    try {
      const { uid, gid } = engine.user;
      await engine.ok(['cp', '-a', file('in.txt'), 'cp-keep-a:/tmp/a.txt']);
      expect(await exec('cp-keep-a', 'stat -c %u:%g /tmp/a.txt')).toBe(`${uid}:${gid}`);
      expect(await upperOwner('cp-keep-a', 'tmp/a.txt')).toEqual({ uid, gid });
      // podman's cp owns by the container's user too.
      must(await engine.podman(['cp', file('in.txt'), 'cp-keep-a:/tmp/p.txt']), 'podman cp');
      expect(await exec('cp-keep-a', 'stat -c %u:%g /tmp/p.txt')).toBe(`${uid}:${gid}`);
    } finally {
      await engine.docker(['rm', '-f', 'cp-keep-a']);
    }
  });

  it('nomap with --user 1000:1000: -a gives 1000:1000; podman cp too', async () => {
    await container('cp-nomap-a', 'nomap', ['--user', '1000:1000']);
    try {
      await engine.ok(['cp', '-a', file('in.txt'), 'cp-nomap-a:/tmp/a.txt']);
      expect(await exec('cp-nomap-a', 'stat -c %u:%g /tmp/a.txt')).toBe('1000:1000');
      must(await engine.podman(['cp', file('in.txt'), 'cp-nomap-a:/tmp/p.txt']), 'podman cp');
      expect(await exec('cp-nomap-a', 'stat -c %u:%g /tmp/p.txt')).toBe('1000:1000');
    } finally {
      await engine.docker(['rm', '-f', 'cp-nomap-a']);
    }
  });

  it('auto: an owner past its 1024 ids fails the copy, as podman’s copier', async () => {
    await container('cp-auto-far', 'auto');
    try {
      const r = await engine.docker(['cp', '-', 'cp-auto-far:/tmp'], { input: await readTar('far.tar') });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(
        'copier: put: error mapping container filesystem owner 5000:5000 to host filesystem owners: container UID 5000 cannot be mapped to a host ID',
      );
      expect(await exec('cp-auto-far', 'ls /tmp')).not.toContain('in.txt');
    } finally {
      await engine.docker(['rm', '-f', 'cp-auto-far']);
    }
  });
});

describe('the default --userns (host): unchanged', () => {
  it('cp out and in keep owners as stored', async () => {
    await container('cp-host', '');
    try {
      expect(await copiedOut('cp-host', '/bin/busybox')).toEqual(['0/0 busybox']);
      expect(await copiedOut('cp-host', '/tmp/u')).toEqual(['1000/1000 u']);
      await engine.ok(['cp', '-', 'cp-host:/tmp'], { input: await readTar('root.tar') });
      expect(await exec('cp-host', 'stat -c %u:%g /tmp/in.txt')).toBe('0:0');
      expect(await upperOwner('cp-host', 'tmp/in.txt')).toEqual({ uid: engine.user.uid, gid: engine.user.gid });
      await engine.ok(['cp', '-a', file('in.txt'), 'cp-host:/tmp/a.txt']);
      expect(await exec('cp-host', 'stat -c %u:%g /tmp/a.txt')).toBe(`${engine.user.uid}:${engine.user.gid}`);
    } finally {
      await engine.docker(['rm', '-f', 'cp-host']);
    }
  });
});
