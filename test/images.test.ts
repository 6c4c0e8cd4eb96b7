// Images from files, driven by the real docker CLI: load, list, inspect, tag, history, save, rmi, prune.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestEngine } from './helpers/engine.js';
import { GOLDEN } from './helpers/golden.js';

const golden = [
  ['dockerd-busybox.tar', 'busybox:latest', 'sha256:97a1b8b6078fcd6bde4cfc4cfee09487bdfcf6a4370f638d8f245e9ba287731a'],
  ['dockerd-layered.tar', 'golden/layered:1.0', 'sha256:66b04af8f07427bb8ff60f3e877687b75baaa7c07b321378e33e84ffb9894ecb'],
  ['podman-layered.docker-archive.tar', 'localhost/golden/layered:1.0', 'sha256:66b04af8f07427bb8ff60f3e877687b75baaa7c07b321378e33e84ffb9894ecb'],
  ['podman-layered.oci-archive.tar', 'localhost/golden/layered:1.0', 'sha256:b8efb374c09bd3da818366ac836d2c01876a86aba7c02275b09341f46f61f219'],
] as const;

const images = inject('images');
let engine: TestEngine;

beforeAll(async () => {
  engine = await TestEngine.start();
});
afterAll(async () => {
  await engine?.destroy();
});

const ok = async (args: string[], input?: Buffer) => {
  const res = await engine.docker(args, { input });
  expect(res.stderr, `docker ${args.join(' ')}`).toBe('');
  expect(res.code, `docker ${args.join(' ')}`).toBe(0);
  return res.stdout;
};
const inspect = async (name: string) => JSON.parse(await ok(['image', 'inspect', name]))[0];

describe('docker load', () => {
  it.each(golden)('loads %s as %s with the ID a real engine reports', async (file, tag, id) => {
    const out = await ok(['load', '-i', join(GOLDEN, file)]);
    expect(out).toContain(`Loaded image: ${tag}`);
    expect((await inspect(tag)).Id).toBe(id);
  });

  it('loads the project-built images, streamed on stdin', async () => {
    expect(await ok(['load'], await readFile(images.busybox.archive))).toContain('Loaded image: busybox:latest');
    expect(await ok(['load', '-i', images.layered.archive])).toContain(`Loaded image: ${images.layered.tag}`);
    expect((await inspect('busybox')).Id).toBe(images.busybox.id);
  });

  it('reports layer progress when not quiet', async () => {
    const res = await engine.http('POST', '/v1.41/images/load?quiet=0', await readFile(join(GOLDEN, 'dockerd-layered.tar')), {
      'content-type': 'application/x-tar',
    });
    expect(res.status).toBe(200);
    const lines = res.body
      .toString()
      .split('\r\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(lines.at(-1)).toEqual({ stream: 'Loaded image: golden/layered:1.0\n' });
  });
});

describe('listing and inspecting', () => {
  it('docker images lists tags, IDs and sizes', async () => {
    const out = await ok(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}']);
    expect(out).toContain('busybox:latest ' + images.busybox.id.slice(7, 19));
    expect(out).toContain('golden/layered:1.0 66b04af8f074');
    // The OCI archive took the tag podman's docker-archive had; busybox:latest moved to the project's own.
    expect(out).toContain('localhost/golden/layered:1.0 b8efb374c09b');
    expect(out).toContain('<none>:<none> 97a1b8b6078f');
    const q = (await ok(['images', '-q'])).trim().split('\n');
    expect(new Set(q)).toEqual(new Set(['66b04af8f074', 'b8efb374c09b', '97a1b8b6078f', images.busybox.id.slice(7, 19), images.layered.id.slice(7, 19)]));
  });

  it('filters by reference, label, dangling, before and since', async () => {
    expect((await ok(['images', '--filter', 'reference=golden/*', '--format', '{{.Repository}}:{{.Tag}}'])).trim()).toBe('golden/layered:1.0');
    const labelled = (await ok(['images', '--filter', 'label=org.example.role=golden', '-q'])).trim().split('\n');
    expect(new Set(labelled)).toEqual(new Set(['66b04af8f074', 'b8efb374c09b']));
    expect((await ok(['images', '--filter', 'label=org.example.role=nope', '-q'])).trim()).toBe('');
    expect((await ok(['images', '--filter', 'dangling=true', '-q'])).trim()).toBe('97a1b8b6078f');
    expect((await ok(['images', '--filter', 'dangling=false', '-q'])).trim().split('\n')).toHaveLength(4);
    // The project's images say they were created 2026-01-01, the golden ones later that year.
    const older = ['97a1b8b6078f', images.busybox.id.slice(7, 19), images.layered.id.slice(7, 19)];
    expect(new Set((await ok(['images', '--filter', 'before=golden/layered:1.0', '-q'])).trim().split('\n'))).toEqual(new Set(older));
    expect(new Set((await ok(['images', '--filter', 'since=busybox:latest', '-q'])).trim().split('\n'))).toEqual(
      new Set(['66b04af8f074', 'b8efb374c09b', '97a1b8b6078f']),
    );
    const bad = await engine.docker(['images', '--filter', 'colour=red']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("invalid filter 'colour'");
  });

  it('shows digests and all images', async () => {
    expect(await ok(['images', '--digests'])).toMatch(/DIGEST/);
    expect((await ok(['images', '-a', '-q'])).trim().split('\n').length).toBeGreaterThanOrEqual(4);
  });

  it("inspects with Docker's shape", async () => {
    const img = await inspect('golden/layered:1.0');
    expect(img.RepoTags).toEqual(['golden/layered:1.0']);
    expect(img.Config.User).toBe('1000:1000');
    expect(img.Config.WorkingDir).toBe('/data');
    expect(img.Config.Entrypoint).toEqual(['/bin/sh', '-c']);
    expect(img.Config.Cmd).toEqual(['cat /data/c.txt']);
    expect(img.Config.Env).toContain('GREETING=hello');
    expect(img.Architecture).toBe('amd64');
    expect(img.Os).toBe('linux');
    expect(img.Size).toBe(1985497); // what dockerd reports for the same archive
    expect(img.RootFS.Layers).toHaveLength(4);
    expect(img.RootFS.Layers[0]).toMatch(/^sha256:b97648ed/);
    expect(img.GraphDriver.Name).toBe('overlay2');
    expect(img.Metadata.LastTagTime).toBeTruthy();
  });

  it('resolves full IDs, short IDs and unique prefixes; 404 for the unknown', async () => {
    const id = images.busybox.id;
    for (const name of [id, id.slice(7), id.slice(7, 19), id.slice(0, 15)]) expect((await inspect(name)).Id).toBe(id);
    const missing = await engine.http('GET', '/v1.50/images/nosuch/json');
    expect(missing.status).toBe(404);
    expect(missing.json()).toEqual({ message: 'No such image: nosuch:latest' });
    const invalid = await engine.http('GET', '/v1.50/images/UPPER/json');
    expect(invalid.status).toBe(400);
    expect(invalid.json().message).toMatch(/invalid reference format/);
  });
});

describe('the extracted layers', () => {
  it('turn whiteouts into overlay whiteouts and keep symlinks, modes and owners', async () => {
    const img = await inspect('golden/layered:1.0');
    const [top] = img.GraphDriver.Data.UpperDir.split(':');
    const { lstat, readlink } = await import('node:fs/promises');
    const wh = await lstat(join(top, 'data', 'a.txt'));
    expect(wh.isCharacterDevice()).toBe(true);
    expect(wh.rdev).toBe(0);
    expect((await lstat(join(top, 'data', 'sub'))).isCharacterDevice()).toBe(true);
    expect(await readFile(join(top, 'data', 'c.txt'), 'utf8')).toBe('three\n');
    const lower = img.GraphDriver.Data.LowerDir.split(':');
    expect(await readlink(join(lower[0], 'data', 'link'))).toBe('/data/a.txt');
    const busybox = await lstat(join(lower.at(-1), 'bin', 'busybox'));
    expect(busybox.mode & 0o7777).toBe(0o755);
    expect(busybox.uid).toBe(0);
  });
});

describe('tag, history, save', () => {
  it('tags, including registry names with ports', async () => {
    await ok(['tag', 'busybox', 'localhost:5000/team/bb:v1']);
    await ok(['tag', images.busybox.id.slice(7, 19), 'bb2']);
    expect((await inspect('localhost:5000/team/bb:v1')).Id).toBe(images.busybox.id);
    expect((await inspect('bb2:latest')).RepoTags).toEqual(expect.arrayContaining(['busybox:latest', 'bb2:latest', 'localhost:5000/team/bb:v1']));
    const bad = await engine.docker(['tag', 'busybox', 'Bad:Name']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/invalid reference format/);
    const missing = await engine.docker(['tag', 'nosuch', 'x']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('No such image: nosuch:latest');
  });

  it('shows history like dockerd', async () => {
    const rows = JSON.parse(
      (await ok(['history', '--format', '{{json .}}', '--no-trunc', 'golden/layered:1.0']))
        .trim()
        .split('\n')
        .map((l) => l)
        .join(',')
        .replace(/^/, '[')
        .replace(/$/, ']'),
    );
    expect(rows).toHaveLength(12);
    expect(rows[0].ID).toBe('sha256:66b04af8f07427bb8ff60f3e877687b75baaa7c07b321378e33e84ffb9894ecb');
    expect(rows[0].CreatedBy).toContain('CMD ["cat /data/c.txt"]');
    expect(rows[1].ID).toBe('<missing>');
    const api = (await engine.http('GET', '/images/golden/layered:1.0/history')).json();
    expect(api.map((h: { Size: number }) => h.Size)).toEqual([0, 0, 0, 0, 0, 0, 0, 6, 19, 0, 3216, 1982256]);
    expect(api[0].Tags).toEqual(['golden/layered:1.0']);
  });

  it('save | load round-trips into another engine with the same IDs', async () => {
    const archive = join(engine.dir, 'saved.tar');
    await ok(['save', '-o', archive, 'golden/layered:1.0', 'busybox']);
    const other = await TestEngine.start();
    try {
      const res = await other.docker(['load', '-i', archive]);
      expect(res.code).toBe(0);
      expect(res.stdout).toContain('Loaded image: golden/layered:1.0');
      expect(res.stdout).toContain('Loaded image: busybox:latest');
      const ids = JSON.parse((await other.docker(['image', 'inspect', 'golden/layered:1.0', 'busybox:latest'])).stdout).map((i: { Id: string }) => i.Id);
      expect(ids).toEqual(['sha256:66b04af8f07427bb8ff60f3e877687b75baaa7c07b321378e33e84ffb9894ecb', images.busybox.id]);
    } finally {
      await other.destroy();
    }
  });

  it('save of a missing image fails before streaming', async () => {
    const res = await engine.http('GET', '/images/get?names=nosuch');
    expect(res.status).toBe(404);
  });
});

describe('docker rmi and prune', () => {
  it('untags by name while other names remain, then deletes', async () => {
    expect((await ok(['rmi', 'bb2'])).trim()).toBe('Untagged: bb2:latest');
    const conflict = await engine.docker(['rmi', images.busybox.id.slice(7, 19)]);
    expect(conflict.code).not.toBe(0);
    expect(conflict.stderr).toContain('image is referenced in multiple repositories');
    const forced = await ok(['rmi', '-f', images.busybox.id.slice(7, 19)]);
    expect(forced).toContain('Untagged: busybox:latest');
    expect(forced).toContain('Untagged: localhost:5000/team/bb:v1');
    expect(forced).toContain(`Deleted: ${images.busybox.id}`);
    expect((await engine.http('GET', `/images/${images.busybox.id}/json`)).status).toBe(404);
  });

  it('keeps layers other images still use, and removes the rest', async () => {
    // golden/layered shares nothing with the project busybox; the golden busybox shares its base with golden/layered.
    await ok(['rmi', 'busybox:latest']).catch(() => undefined);
    const layered = await inspect('golden/layered:1.0');
    const lower = layered.GraphDriver.Data.LowerDir.split(':');
    const { access } = await import('node:fs/promises');
    for (const dir of lower) await access(dir);
    await ok(['rmi', 'localhost/golden/layered:1.0']);
    const out = await ok(['rmi', 'golden/layered:1.0']);
    expect(out).toContain('Untagged: golden/layered:1.0');
    expect(out).toContain('Deleted: sha256:66b04af8f07427bb8ff60f3e877687b75baaa7c07b321378e33e84ffb9894ecb');
  });

  it('image prune removes dangling images only; -a removes unused ones', async () => {
    await ok(['load', '-i', join(GOLDEN, 'dockerd-busybox.tar')]);
    await ok(['load', '-i', images.busybox.archive]); // takes busybox:latest; the golden one is left dangling
    expect((await ok(['images', '--filter', 'dangling=true', '-q'])).trim()).toBe('97a1b8b6078f');
    const pruned = await ok(['image', 'prune', '-f']);
    expect(pruned).toContain('deleted: sha256:97a1b8b6078fcd6bde4cfc4cfee09487bdfcf6a4370f638d8f245e9ba287731a');
    expect((await ok(['images', '--filter', 'dangling=true', '-q'])).trim()).toBe('');
    expect((await ok(['images', '-q'])).trim()).not.toBe('');
    await ok(['image', 'prune', '-a', '-f']);
    expect((await ok(['images', '-q'])).trim()).toBe('');
    // Nothing is left on disk either.
    expect(await readdir(join(engine.root, 'layers'))).toEqual([]);
    expect(await readdir(join(engine.root, 'blobs', 'sha256'))).toEqual([]);
  });
});

describe('restart', () => {
  it('comes back onto the same state', async () => {
    await ok(['load', '-i', join(GOLDEN, 'dockerd-layered.tar')]);
    await ok(['tag', 'golden/layered:1.0', 'kept:1']);
    expect(await engine.stop('SIGTERM')).toBe(0);
    await engine.start();
    expect((await inspect('kept:1')).Id).toBe('sha256:66b04af8f07427bb8ff60f3e877687b75baaa7c07b321378e33e84ffb9894ecb');
    expect((await ok(['images', '--format', '{{.Repository}}:{{.Tag}}'])).trim().split('\n').sort()).toEqual(['golden/layered:1.0', 'kept:1']);
  });
});
