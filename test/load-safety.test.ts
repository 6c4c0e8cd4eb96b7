// Bad archives are refused with Docker's 400 and leave nothing behind; a kill -9 at any point of a load
// leaves a state DB that opens cleanly, no half image and no layer that is never collected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { access, readdir, readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { TestEngine } from './helpers/engine.js';
import { GOLDEN } from './helpers/golden.js';
import { dockerArchive, tarOf } from './helpers/archive.js';

let engine: TestEngine;

beforeAll(async () => {
  engine = await TestEngine.start();
});
afterAll(async () => {
  await engine?.destroy();
});

const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');
const load = (archive: Buffer) => engine.http('POST', '/v1.41/images/load?quiet=1', archive, { 'content-type': 'application/x-tar' });

/** Nothing but what the DB records is on disk, and nothing is staged. */
async function expectConsistent(root: string) {
  const db = new Database(join(root, 'berth.db'), { readonly: true });
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const layers = db.prepare('SELECT chain_id, diff_id FROM layers').all() as { chain_id: string; diff_id: string }[];
    expect((await readdir(join(root, 'layers'))).sort()).toEqual(layers.map((l) => l.chain_id.slice(7)).sort());
    expect((await readdir(join(root, 'blobs', 'sha256'))).sort()).toEqual([...new Set(layers.map((l) => l.diff_id.slice(7)))].sort());
    const images = db.prepare('SELECT id, top_layer FROM images').all() as { id: string; top_layer: string }[];
    for (const image of images) expect(layers.some((l) => l.chain_id === image.top_layer)).toBe(true);
    // Every layer is used by some image: a crashed load leaves no orphan once the engine has started.
    const used = new Set<string>();
    for (const image of images) {
      let chain: string | null = image.top_layer;
      while (chain) {
        used.add(chain);
        chain = (db.prepare('SELECT parent FROM layers WHERE chain_id = ?').get(chain) as { parent: string | null }).parent;
      }
    }
    expect(layers.filter((l) => !used.has(l.chain_id))).toEqual([]);
    return { images: images.length, layers: layers.length };
  } finally {
    db.close();
  }
}

describe('bad archives', () => {
  it('refuses a truncated archive', async () => {
    const whole = await readFile(join(GOLDEN, 'dockerd-layered.tar'));
    const res = await load(whole.subarray(0, 700_000));
    expect(res.status).toBe(400);
    expect(res.json().message).toMatch(/invalid image archive|unexpected end/i);
  });

  it('refuses garbage', async () => {
    const res = await load(Buffer.from('this is not a tar archive at all'.repeat(40)));
    expect(res.status).toBe(400);
  });

  it('refuses an archive without a manifest', async () => {
    const res = await load(await tarOf([{ name: 'hello.txt', content: 'hi' }]));
    expect(res.status).toBe(400);
    expect(res.json().message).toMatch(/neither manifest.json nor index.json/);
  });

  it('refuses a layer whose content does not match its diff ID', async () => {
    const good = await tarOf([{ name: 'a.txt', content: 'a' }]);
    const lie = await tarOf([{ name: 'a.txt', content: 'b' }]);
    const { archive } = await dockerArchive([good, lie], 'mismatch:1', [sha(good), sha(good)]);
    const res = await load(archive);
    expect(res.status).toBe(400);
    expect(res.json().message).toMatch(/digest mismatch/);
  });

  it.each([
    ['a parent-directory path', [{ name: '../evil.txt', content: 'x' }]],
    ['a nested parent-directory path', [{ name: 'a/../../evil.txt', content: 'x' }]],
    [
      'a write through an absolute symlink',
      [
        { name: 'escape', type: 'symlink' as const, linkname: '/tmp' },
        { name: 'escape/evil.txt', content: 'x' },
      ],
    ],
    ['a hard link out of the layer', [{ name: 'hl', type: 'link' as const, linkname: '../../../../etc/passwd' }]],
  ])('refuses %s and writes nothing', async (_what, entries) => {
    const layer = await tarOf(entries);
    const { archive } = await dockerArchive([layer], 'evil:1');
    const res = await load(archive);
    expect(res.status).toBe(400);
    expect(res.json().message).toMatch(/unsafe|outside|escape|invalid/i);
    await expect(access('/tmp/evil.txt')).rejects.toThrow();
    await expect(access(join(engine.root, 'evil.txt'))).rejects.toThrow();
  });

  it('stored nothing for any refused archive', async () => {
    expect((await engine.http('GET', '/images/json')).json()).toEqual([]);
    expect(await expectConsistent(engine.root)).toEqual({ images: 0, layers: 0 });
    expect(await readdir(join(engine.root, 'tmp'))).toEqual([]);
  });
});

describe('kill -9 during a load', () => {
  it('leaves a clean state whenever it strikes', async () => {
    const archive = await readFile(join(GOLDEN, 'dockerd-layered.tar'));
    // Strike while the body is still arriving, and at growing delays after it has all arrived.
    for (const delay of [-1, 0, 5, 15, 30, 60, 120]) {
      await new Promise<void>((resolve) => {
        const req = request({ socketPath: engine.socket, method: 'POST', path: '/images/load', headers: { 'content-type': 'application/x-tar' } }, (res) => {
          res.resume();
          res.on('end', resolve);
          res.on('error', () => resolve());
        });
        req.on('error', () => resolve());
        if (delay < 0) {
          req.write(archive.subarray(0, archive.length / 2), () => setTimeout(() => engine.process!.kill('SIGKILL'), 50));
        } else {
          req.end(archive, () => setTimeout(() => engine.process!.kill('SIGKILL'), delay));
        }
      });
      await engine.stop('SIGKILL');
      await engine.start();
      const state = await expectConsistent(engine.root);
      expect(state.images === 0 || state.images === 1).toBe(true);
      expect(await readdir(join(engine.root, 'tmp'))).toEqual([]);
      const images = (await engine.http('GET', '/images/json')).json();
      if (images.length) {
        expect(images[0].RepoTags).toEqual(['golden/layered:1.0']);
        await engine.http('DELETE', '/images/golden/layered:1.0');
      }
    }
    // And the engine still loads the archive afterwards.
    expect((await load(archive)).status).toBe(200);
    expect((await engine.http('GET', '/images/golden/layered:1.0/json')).status).toBe(200);
  });
});
