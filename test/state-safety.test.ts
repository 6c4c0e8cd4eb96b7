// State is never lost silently: a lost DB is refused instead of collecting everything on disk, a
// container a crash left frozen is thawed, and a root that cannot be written or read says why.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TestEngine, run } from './helpers/engine.js';
import { cliOf } from './helpers/cli.js';

const images = inject('images');
let engine: TestEngine;
const { docker, ok } = cliOf(() => engine);

/** What a start that must fail wrote before it exited. */
async function refusedStart(e: TestEngine, args: string[] = []): Promise<string> {
  const err = await e.start(args).then(
    () => undefined,
    (error: Error) => error,
  );
  expect(err, 'the engine refused to start').toBeDefined();
  expect(e.process?.exitCode).toBe(1);
  return err!.message;
}

const listing = async (root: string) => ({
  layers: (await readdir(join(root, 'layers'))).sort(),
  blobs: (await readdir(join(root, 'blobs', 'sha256'))).sort(),
  containers: (await readdir(join(root, 'containers'))).sort(),
});

const runcState = async (id: string) => {
  const res = await run('runc', ['--root', join(engine.runRoot, 'runc'), 'state', id]);
  return (JSON.parse(res.stdout) as { status: string }).status;
};

describe('a lost state DB', () => {
  beforeAll(async () => {
    engine = await TestEngine.start();
    await ok(['load', '-i', images.busybox.archive]);
    await ok(['create', '--name', 'kept', 'busybox', 'true']);
  });
  afterAll(async () => {
    await engine?.destroy();
  });

  it('is refused when the root holds layers, blobs or containers, and nothing is deleted', async () => {
    const db = join(engine.root, 'berth.db');
    await engine.stop();
    const before = await listing(engine.root);
    expect(before.layers.length).toBeGreaterThan(0);
    for (const f of [db, `${db}-wal`, `${db}-shm`]) await rm(f, { force: true });

    const deleted = await refusedStart(engine);
    expect(deleted).toContain(`the state DB ${db} is missing or empty`);
    expect(deleted).toContain(engine.root);
    expect(deleted).toContain('--accept-empty-db');
    expect(existsSync(db)).toBe(false); // the refusal made no new DB either
    expect(await listing(engine.root)).toEqual(before);

    await writeFile(db, ''); // an empty (truncated) DB file is the same loss
    expect(await refusedStart(engine)).toContain(`the state DB ${db} is missing or empty`);
    expect(await listing(engine.root)).toEqual(before);
  });

  it('starts with the loss accepted, and says what it removes', async () => {
    const before = await listing(engine.root);
    expect(before.layers.length).toBeGreaterThan(0);
    expect(before.containers.length).toBe(1);
    await engine.start([], { BERTH_ACCEPT_EMPTY_DB: '1' });
    expect((await ok(['images', '-q'])).trim()).toBe('');
    for (const layer of before.layers)
      expect(engine.stderr).toContain(`removing layer ${join(engine.root, 'layers', layer)}: the state DB has no record of it`);
    for (const blob of before.blobs) expect(engine.stderr).toContain(`removing blob ${join(engine.root, 'blobs', 'sha256', blob)}`);
    for (const id of before.containers) expect(engine.stderr).toContain(`removing container directory ${join(engine.root, 'containers', id)}`);
    expect(await listing(engine.root)).toEqual({ layers: [], blobs: [], containers: [] });
    // An engine over a root with a DB of its own starts without the flag, as always.
    await engine.stop();
    await engine.start();
  });

  it('removes what the DB records as unused without a word', async () => {
    await ok(['load', '-i', images.busybox.archive]);
    await ok(['rmi', 'busybox']);
    expect((await listing(engine.root)).layers).toEqual([]);
    expect(engine.stderr).not.toContain('no record');
  });

  it('still starts a new root without any flag', async () => {
    const fresh = await TestEngine.start();
    try {
      expect((await fresh.docker(['info'])).code).toBe(0);
    } finally {
      await fresh.destroy();
    }
  });
});

describe('a root that cannot be used', () => {
  let e: TestEngine;
  beforeAll(async () => {
    e = await TestEngine.create();
  });
  afterAll(async () => {
    await e.destroy();
  });

  /** A small tmpfs at dir, read-only. */
  const readOnly = async (dir: string) => {
    await mkdir(dir, { recursive: true });
    expect((await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir])).code).toBe(0);
    expect((await run('mount', ['-o', 'remount,ro', dir])).code).toBe(0);
  };

  it('says that a read-only root is read-only', async () => {
    await readOnly(e.root);
    try {
      expect(await refusedStart(e)).toContain(`the root ${e.root} is on a read-only filesystem`);
      // A root still to be made on a read-only filesystem too.
      const below = join(e.root, 'state');
      expect(await refusedStart(e, ['--root', below])).toContain(`the root ${below} is on a read-only filesystem`);
    } finally {
      await run('umount', [e.root]);
    }
  });

  it('says that a read-only run root is read-only', async () => {
    await readOnly(e.runRoot);
    try {
      expect(await refusedStart(e)).toContain(`the run root ${e.runRoot} is on a read-only filesystem`);
    } finally {
      await run('umount', [e.runRoot]);
    }
  });

  it('names the DB file when it cannot be opened', async () => {
    const db = join(e.root, 'berth.db');
    await rm(e.root, { recursive: true, force: true });
    await mkdir(db, { recursive: true }); // a directory where the DB should be
    expect(await refusedStart(e)).toMatch(new RegExp(`state DB ${db}: .+`));
    await rm(db, { recursive: true });
    await writeFile(db, 'not a database, not at all; '.repeat(200));
    expect(await refusedStart(e)).toContain(`state DB ${db}: file is not a database`);
  });
});

describe('a container left frozen by a crash', () => {
  beforeAll(async () => {
    engine = await TestEngine.start();
    await ok(['load', '-i', images.busybox.archive]);
  });
  afterAll(async () => {
    await engine?.destroy();
  });

  it('is thawed at start when a kill -9 cut a commit short, and works again', async () => {
    const id = (await ok(['run', '-d', '--name', 'frozen', 'busybox', 'sleep', '1000'])).trim();
    await ok(['run', '-d', '--name', 'paused', 'busybox', 'sleep', '1000']);
    await ok(['pause', 'paused']);
    // Recorded paused, but running: an unpause cut short between the runtime and the record.
    const resumed = (await ok(['run', '-d', '--name', 'resumed', 'busybox', 'sleep', '1000'])).trim();
    await ok(['pause', 'resumed']);
    expect((await run('runc', ['--root', join(engine.runRoot, 'runc'), 'resume', resumed])).code).toBe(0);
    await engine.stop();
    await engine.start([], { BERTH_CRASH_AT: 'commit:paused' });
    expect((await docker(['commit', 'frozen'])).code).not.toBe(0); // the engine died under the CLI
    expect(await runcState(id)).toBe('paused');

    await engine.start();
    expect(await runcState(id)).toBe('running');
    expect(engine.stderr).toContain(`container ${id} was left frozen`);
    expect((await ok(['exec', 'frozen', 'echo', 'thawed'])).trim()).toBe('thawed');
    await ok(['pause', 'frozen']);
    await ok(['unpause', 'frozen']);
    expect((await ok(['commit', 'frozen'])).trim()).toMatch(/^sha256:[0-9a-f]{64}$/);
    // What the user paused stays paused.
    expect((await ok(['inspect', '--format', '{{.State.Status}}', 'paused'])).trim()).toBe('paused');
    expect(await runcState((await ok(['inspect', '--format', '{{.Id}}', 'paused'])).trim())).toBe('paused');
    expect((await ok(['inspect', '--format', '{{.State.Status}}', 'resumed'])).trim()).toBe('running');
    await ok(['rm', '-f', 'frozen', 'paused', 'resumed']);
  });
});
