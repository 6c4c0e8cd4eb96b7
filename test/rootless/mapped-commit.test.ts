// commit, diff and export of a rootless container in a user namespace of its own (--userns keep-id,
// nomap, auto). Its image is seen through a mapped copy of the image's layers below its own upper dir
// (as podman's storage does), so the upper dir holds only what the container changed, and commit and
// export write owners as the container sees them. The mapped copy is made once (a crash while it is
// made leaves nothing shifted twice) and goes with the container.
import { lstat, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { run } from '../helpers/engine.js';
import { RootlessEngine } from '../helpers/rootless.js';

let engine: RootlessEngine;

beforeAll(async () => {
  engine = await RootlessEngine.forNewUser('rlm', { load: inject('images').busybox.archive });
});

afterAll(() => engine?.destroyWithUser());

/** As container root: a new file given to container uid 1000 and group 1000. */
const CHANGE = 'touch /tmp/x && chown 1000:1000 /tmp/x';
/** Owners (container ids, as a container of the default --userns sees them) of a file and the image's busybox. */
const OWNERS = 'stat -c "%u:%g %n" /tmp/x /bin/busybox';

const idOf = async (name: string) => (await engine.ok(['inspect', '-f', '{{.Id}}', name])).trim();
const lines = (text: string) => text.trim().split('\n').filter(Boolean);
const sizeOf = async (image: string) => Number((await engine.ok(['image', 'inspect', '-f', '{{.Size}}', image])).trim());

/** podman --remote's stdout (the docker CLI refuses --userns other than host before it asks the engine). */
async function podmanOk(args: string[]): Promise<string> {
  const r = await engine.podman(args);
  if (r.code !== 0) throw new Error(`podman ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** A container of `mode` that ran CHANGE as its root and exited. */
async function changed(name: string, mode: string): Promise<void> {
  await podmanOk(['run', '--name', name, '--network', 'none', '--userns', mode, '-u', '0', 'busybox', 'sh', '-c', CHANGE]);
}

/** docker diff's lines: only the container's own changes. */
async function expectOwnChanges(name: string): Promise<void> {
  const diff = lines(await engine.ok(['diff', name]));
  expect(diff).toEqual(expect.arrayContaining(['C /tmp', 'A /tmp/x']));
  expect(diff.filter((l) => !['C /tmp', 'A /tmp/x'].includes(l))).toEqual([]);
}

/** Commits a container and checks the image as the default --userns runs it; returns its layer's size. */
async function expectCommitted(name: string, image: string): Promise<void> {
  await engine.ok(['commit', name, image]);
  const owners = lines(await engine.ok(['run', '--rm', '--network', 'none', image, 'sh', '-c', OWNERS]));
  expect(owners).toEqual(['1000:1000 /tmp/x', '0:0 /bin/busybox']);
  // The container's own change, not a copy of the image's every file.
  expect((await sizeOf(image)) - (await sizeOf('busybox'))).toBeLessThan(64 * 1024);
}

describe('a container in a user namespace of its own', () => {
  it('keep-id: diff lists only its changes; commit records the owners it sees, in a small layer', async () => {
    await changed('keep', 'keep-id');
    try {
      await expectOwnChanges('keep');
      await expectCommitted('keep', 'keep-image');
      // The container's upper dir holds its change alone: the image's files are in its mapped layer.
      const dir = join(engine.root, 'containers', await idOf('keep'));
      expect(await readdir(join(dir, 'diff'))).not.toContain('bin');
      expect((await lstat(join(dir, 'mapped', 'bin', 'busybox'))).uid).toBe(engine.user.subuid.start); // container root: ns 1
      // inspect names the mapped layer as the top lower dir, as the overlay mounts it (it named the image's alone).
      const lower = (await engine.ok(['inspect', '-f', '{{.GraphDriver.Data.LowerDir}}', 'keep'])).trim().split(':');
      expect(lower[0]).toBe(join(dir, 'mapped'));
      expect(lower.length).toBeGreaterThan(1);
    } finally {
      await engine.docker(['rm', 'keep']);
      await engine.docker(['rmi', 'keep-image']);
    }
  });

  it('auto: diff and commit as keep-id; export writes the owners the container sees', async () => {
    await changed('auto', 'auto');
    try {
      await expectOwnChanges('auto');
      await expectCommitted('auto', 'auto-image');
      expect((await engine.docker(['export', '-o', 'auto.tar', 'auto'])).code).toBe(0);
      const listing = await run('tar', ['--numeric-owner', '-tvf', join(engine.user.home, 'auto.tar')]);
      const owner = (path: string) =>
        lines(listing.stdout)
          .find((l) => l.endsWith(` ${path}`))
          ?.split(/\s+/)[1];
      expect({ x: owner('./tmp/x'), busybox: owner('./bin/busybox'), bin: owner('./bin/'), root: owner('./') }).toEqual({
        x: '1000/1000',
        busybox: '0/0',
        bin: '0/0',
        root: '0/0',
      });
    } finally {
      await engine.docker(['rm', 'auto']);
      await engine.docker(['rmi', 'auto-image']);
    }
  });

  it('nomap: podman --remote diff and commit', async () => {
    const r = await engine.podman(['run', '--name', 'nomap', '--network', 'none', '--userns', 'nomap', '-u', '0', 'busybox', 'sh', '-c', CHANGE]);
    expect(r.code, r.stderr).toBe(0);
    try {
      const diff = await engine.podman(['diff', 'nomap']);
      expect(diff.code, diff.stderr).toBe(0);
      // podman's view hides the runtime's files but shows /etc, which holds their mount points (as for any container).
      expect(lines(diff.stdout).sort()).toEqual(['A /tmp/x', 'C /etc', 'C /tmp']);
      const committed = await engine.podman(['commit', 'nomap', 'nomap-image']);
      expect(committed.code, committed.stderr).toBe(0);
      const owners = await engine.podman(['run', '--rm', '--network', 'none', 'nomap-image', 'sh', '-c', OWNERS]);
      expect(lines(owners.stdout)).toEqual(['1000:1000 /tmp/x', '0:0 /bin/busybox']);
    } finally {
      await engine.podman(['rm', 'nomap']);
      await engine.podman(['rmi', 'nomap-image']);
    }
  });

  it('a restarted container keeps its mapped layer as it was (not shifted again)', async () => {
    await podmanOk([
      'create',
      '--name',
      'again',
      '--network',
      'none',
      '--userns',
      'keep-id',
      '-u',
      '0',
      'busybox',
      'stat',
      '-c',
      '%u:%g %n',
      '/',
      '/bin/busybox',
    ]);
    try {
      // `/` too: the upper dir's root, made by the engine, is given the image root's owner as the container sees it.
      for (let i = 0; i < 2; i++) expect(lines(await engine.ok(['start', '-a', 'again']))).toEqual(['0:0 /', '0:0 /bin/busybox']);
      const mapped = join(engine.root, 'containers', await idOf('again'), 'mapped');
      expect((await lstat(join(mapped, 'bin', 'busybox'))).uid).toBe(engine.user.subuid.start);
    } finally {
      await engine.docker(['rm', 'again']);
    }
  });

  it('an engine killed while it maps the layer makes it afresh at the next start: owners shifted once', async () => {
    await engine.stop();
    await engine.restart({ env: { BERTH_CRASH_AT: 'mapped:shifting' } });
    await engine.podman(['run', '--name', 'crashed', '--network', 'none', '--userns', 'keep-id', '-u', '0', 'busybox', 'true']);
    await engine.kill9(); // dead already (the crash point), or its launcher left
    const left = join(engine.root, 'containers', lines((await readdir(join(engine.root, 'containers'))).join('\n'))[0]!);
    expect(await readdir(left)).toEqual(expect.arrayContaining(['mapped.tmp', 'mapped.mnt'])); // killed mid-shift
    expect(await readdir(left)).not.toContain('mapped');
    await engine.restart({ env: {} });
    try {
      const r = await engine.docker(['start', '-a', 'crashed']);
      expect(r.code, r.stderr).toBe(0);
      const dir = join(engine.root, 'containers', await idOf('crashed'));
      expect((await lstat(join(dir, 'mapped', 'bin', 'busybox'))).uid).toBe(engine.user.subuid.start);
      expect((await readdir(dir)).filter((n) => n.startsWith('mapped'))).toEqual(['mapped']);
      expect(lines(await engine.ok(['diff', 'crashed']))).toEqual([]);
    } finally {
      await engine.docker(['rm', 'crashed']);
    }
  });

  it('a container whose rootfs an older engine chowned in place keeps working; commit, diff and export stay refused', async () => {
    await podmanOk(['create', '--name', 'legacy', '--network', 'none', '--userns', 'keep-id', '-u', '0', 'busybox', 'stat', '-c', '%u', '/bin/busybox']);
    const dir = join(engine.root, 'containers', await idOf('legacy'));
    try {
      // What the older engine left: the image's files shifted in the upper dir, its marker in the bundle, no mapped layer.
      await engine.ok(['diff', 'legacy']); // waits for the mapped layer the create's mount (made ahead) makes
      const made = await engine.unshare([
        'sh',
        '-c',
        `umount ${dir}/merged 2>/dev/null; cp -a ${dir}/mapped/. ${dir}/diff/ && rm -rf ${dir}/mapped && echo '{}' > ${dir}/userdata/userns-mapped`,
      ]);
      expect(made.code, made.stderr).toBe(0);
      expect((await engine.ok(['start', '-a', 'legacy'])).trim()).toBe('0');
      expect(await readdir(dir)).not.toContain('mapped');
      expect((await engine.ok(['inspect', '-f', '{{.GraphDriver.Data.LowerDir}}', 'legacy'])).trim()).not.toContain('mapped');
      for (const [verb, args] of [
        ['commit', ['commit', 'legacy', 'legacy-image']],
        ['diff', ['diff', 'legacy']],
        ['export', ['export', '-o', 'legacy.tar', 'legacy']],
      ] as const) {
        const r = await engine.docker([...args]);
        expect(r.stderr, verb).toContain(`berth cannot ${verb} a container with --userns=keep-id`);
      }
    } finally {
      await engine.docker(['rm', 'legacy']);
    }
  });

  it('rm removes the mapped layer, of a never-started container too', async () => {
    await changed('gone', 'keep-id');
    await podmanOk(['create', '--name', 'unstarted', '--network', 'none', '--userns', 'nomap', 'busybox', 'true']);
    const dirs = [join(engine.root, 'containers', await idOf('gone')), join(engine.root, 'containers', await idOf('unstarted'))];
    expect((await stat(join(dirs[0]!, 'mapped'))).isDirectory()).toBe(true);
    await engine.ok(['rm', 'gone', 'unstarted']);
    for (const dir of dirs) expect(await lstat(dir).catch(() => undefined), dir).toBeUndefined();
    expect(await readdir(join(engine.root, 'containers'))).toEqual([]);
  });

  it('through fuse-overlayfs (where the kernel refuses overlay with userxattr): the same diff and commit', async () => {
    await run('setfacl', ['-m', `u:${engine.user.uid}:rw`, '/dev/fuse']); // the user's destroy takes it away
    await engine.stop();
    await engine.restart({ env: { BERTH_ROOTLESS_OVERLAY: 'fuse-overlayfs' } });
    await changed('fuse', 'keep-id');
    try {
      await expectOwnChanges('fuse');
      await expectCommitted('fuse', 'fuse-image');
    } finally {
      await engine.docker(['rm', 'fuse']);
      await engine.docker(['rmi', 'fuse-image']);
    }
  });
});
