// The helpers that keep forks and mount calls off the engine's event loop (util/spawner.ts,
// storage/rootfs.ts): what they answer is what child_process and the util-linux binaries answered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileOff, forget, spawnOff } from '../runtime/util/spawner.js';
import { hasOwnMount, isMounted, mountOverlay, mountTmpfs, unmountOwn } from '../runtime/storage/rootfs.js';

describe('execFileOff', () => {
  it('collects stdout and stderr and gives stdin', async () => {
    const r = await execFileOff('/bin/sh', ['-c', 'cat; echo err >&2; printf "a\\tb\\nc"'], { input: 'in\n' });
    expect(r.stdout).toBe('in\na\tb\nc');
    expect(r.stderr).toBe('err\n');
  });

  it('passes arguments with spaces, tabs, newlines and empty ones as they are', async () => {
    const args = ['a b', 'c\td', 'e\nf', '', 'ü'];
    const r = await execFileOff('/bin/sh', ['-c', 'for a in "$@"; do printf "[%s]" "$a"; done', 'sh', ...args]);
    expect(r.stdout).toBe(args.map((a) => `[${a}]`).join(''));
  });

  it('rejects a non-zero exit with its stderr, and a command that does not exist', async () => {
    const err = (await execFileOff('/bin/sh', ['-c', 'echo bad >&2; exit 3']).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(3);
    expect(err.stderr).toBe('bad\n');
    await expect(execFileOff('/nonexistent/binary', [])).rejects.toBeDefined();
  });

  it('kills a process that outlives its timeout', async () => {
    const err = (await execFileOff('/bin/sleep', ['1000'], { timeout: 100 }).catch((e: unknown) => e)) as { code: number | null };
    expect(err.code).toBeNull(); // ended by a signal
  });

  it('runs many at once, each answered with its own output', async () => {
    const outs = await Promise.all(Array.from({ length: 40 }, (_, i) => execFileOff('/bin/echo', [String(i)])));
    expect(outs.map((o) => o.stdout)).toEqual(Array.from({ length: 40 }, (_, i) => `${i}\n`));
  });

  it('relays fd 3 until its end, and sets the environment asked for', async () => {
    const s = spawnOff('/bin/sh', ['-c', 'echo "$X" >&3; echo second >&3'], { fd3: true, env: { X: 'from-env' } });
    if (!s) return; // no helper here (no perl): child_process does it, covered by the engine's tests
    const data: Buffer[] = [];
    s.events.on('fd3', (d: Buffer) => data.push(d));
    await new Promise((resolve) => s.events.once('end:fd3', resolve));
    forget(s);
    expect(Buffer.concat(data).toString()).toBe('from-env\nsecond\n');
  });
});

describe('mounts through the helper', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-mounts-'));
  });
  afterAll(async () => {
    for (const m of ['t', 'o/merged', 'with space']) await unmountOwn(join(dir, m));
    await rm(dir, { recursive: true, force: true });
  });

  it('mounts a tmpfs with its flags, and unmounts it once', async () => {
    const at = join(dir, 't');
    await mountTmpfs(at, 'nosuid,nodev,noexec,mode=1777,size=1m');
    expect(await hasOwnMount(at)).toBe(true);
    expect(((await stat(at)).mode & 0o7777).toString(8)).toBe('1777');
    const line = readFile('/proc/self/mountinfo', 'utf8').then((t) => t.split('\n').find((l) => l.split(' ')[4] === at));
    expect(await line).toMatch(/nosuid,nodev,noexec/);
    await mountTmpfs(at, 'size=1m'); // mounted already: nothing stacked
    await unmountOwn(at);
    expect(await hasOwnMount(at)).toBe(false);
    await unmountOwn(at); // not mounted: no error
  });

  it('mounts an overlay, says it was mounted already the second time, and unmounts it', async () => {
    const lower = join(dir, 'lower');
    await mkdir(lower, { recursive: true });
    await writeFile(join(lower, 'f'), 'x');
    const o = join(dir, 'o');
    expect(await mountOverlay([lower], join(o, 'upper'), join(o, 'work'), join(o, 'merged'))).toBe(false);
    expect(await mountOverlay([lower], join(o, 'upper'), join(o, 'work'), join(o, 'merged'))).toBe(true);
    expect((await stat(join(o, 'merged', 'f'))).size).toBe(1);
    await unmountOwn(join(o, 'merged'));
    expect(await hasOwnMount(join(o, 'merged'))).toBe(false);
  });

  it('finds mounts in the mount table, for concurrent callers too, and paths with spaces', async () => {
    const at = join(dir, 'with space');
    const other = join(dir, 'with');
    expect(await isMounted(at)).toBe(false);
    await mountTmpfs(at, 'size=1m');
    // Many at once share reads of the table; each sees the mount made before it asked.
    expect(await Promise.all(Array.from({ length: 20 }, () => isMounted(at)))).toEqual(Array(20).fill(true));
    expect(await isMounted(other)).toBe(false);
    expect(await isMounted(dir)).toBe(false);
    await unmountOwn(at);
    expect(await Promise.all(Array.from({ length: 5 }, () => isMounted(at)))).toEqual(Array(5).fill(false));
  });

  it('reports a mount that fails', async () => {
    await expect(mountOverlay([join(dir, 'missing')], join(dir, 'x/upper'), join(dir, 'x/work'), join(dir, 'x/merged'))).rejects.toThrow();
  });
});
