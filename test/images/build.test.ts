// The test-image builder writes docker-archives (docker save's legacy layout) whose IDs follow from their
// content, deterministically.
import { afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import tar from 'tar-stream';
import { buildBusyboxArchive, buildLayeredArchive, buildSizedArchive, type BuiltImage } from './build.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
const tmp = async () => {
  const d = await mkdtemp('/var/tmp/berth-build-');
  dirs.push(d);
  return d;
};
const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

interface Member {
  header: tar.Header;
  data: Buffer;
}

/** Every member of a tar (file or buffer), by name, in order. */
async function members(source: string | Buffer): Promise<Map<string, Member>> {
  const out = new Map<string, Member>();
  const extract = tar.extract();
  if (typeof source === 'string') createReadStream(source).pipe(extract);
  else extract.end(source);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    out.set(entry.header.name, { header: entry.header, data: Buffer.concat(chunks) });
  }
  return out;
}

interface Manifest {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

/** Reads an archive back and checks everything docker load relies on; returns its parts. */
async function verify(image: BuiltImage) {
  const files = await members(image.archive);
  const manifests = JSON.parse(files.get('manifest.json')!.data.toString()) as Manifest[];
  expect(manifests).toHaveLength(1);
  const [manifest] = manifests;
  expect(Object.keys(manifest).sort()).toEqual(['Config', 'Layers', 'RepoTags']);
  expect(manifest.RepoTags).toEqual([image.tag]);
  expect(manifest.Config).toBe(`${image.id.slice('sha256:'.length)}.json`);

  // The image ID is the digest of the config's exact bytes; the diff IDs are the layer tars' digests.
  const configBytes = files.get(manifest.Config)!.data;
  expect(sha(configBytes)).toBe(image.id);
  const config = JSON.parse(configBytes.toString());
  const layerDigests = manifest.Layers.map((l) => sha(files.get(l)!.data));
  expect(config.rootfs).toEqual({ type: 'layers', diff_ids: layerDigests });
  expect(image.diffIds).toEqual(layerDigests);
  expect(config.os).toBe('linux');
  expect(config.architecture).toBe(process.arch === 'x64' ? 'amd64' : process.arch);
  expect(config.history.filter((h: { empty_layer?: boolean }) => !h.empty_layer)).toHaveLength(manifest.Layers.length);

  // Legacy layer directories: VERSION, json (with the parent chain), layer.tar.
  let parent: string | undefined;
  for (const layer of manifest.Layers) {
    const [dir, file] = layer.split('/');
    expect(file).toBe('layer.tar');
    expect(dir).toMatch(/^[0-9a-f]{64}$/);
    expect(files.get(`${dir}/VERSION`)!.data.toString()).toBe('1.0');
    const v1 = JSON.parse(files.get(`${dir}/json`)!.data.toString());
    expect(v1.id).toBe(dir);
    expect(v1.parent).toBe(parent);
    parent = dir;
  }
  const colon = image.tag.lastIndexOf(':');
  expect(JSON.parse(files.get('repositories')!.data.toString())).toEqual({
    [image.tag.slice(0, colon)]: { [image.tag.slice(colon + 1)]: parent },
  });
  return { files, manifest, config, layers: await Promise.all(manifest.Layers.map((l) => members(files.get(l)!.data))) };
}

describe('test images', () => {
  it('busybox: a docker-archive whose ID is its config digest, built the same every time', async () => {
    const dir = await tmp();
    const a = await buildBusyboxArchive(join(dir, 'a.tar'));
    const b = await buildBusyboxArchive(join(dir, 'b.tar'));
    expect(a.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(b.id).toBe(a.id);
    expect((await readFile(b.archive)).equals(await readFile(a.archive))).toBe(true); // byte for byte
    expect((await readdir(dir)).sort()).toEqual(['a.tar', 'b.tar']); // no temporary files left

    const { config, layers } = await verify(a);
    expect(config.config).toEqual({ Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] });
    expect(layers).toHaveLength(2);
    const bin = layers[0].get('bin/busybox')!;
    expect(bin.header).toMatchObject({ type: 'file', mode: 0o755, uid: 0, gid: 0 });
    expect(bin.data.equals(await readFile('/bin/busybox'))).toBe(true);
    expect(layers[1].get('bin/sh')!.header).toMatchObject({ type: 'symlink', linkname: 'busybox' });
    expect(layers[1].has('bin/busybox')).toBe(false);
    expect(layers[1].get('tmp/')!.header).toMatchObject({ type: 'directory', mode: 0o1777 });
    expect(layers[1].get('etc/passwd')!.data.toString()).toMatch(/^root:x:0:0:root:\/root:\/bin\/sh\n/);
  });

  it('layered: four layers and the config of its Dockerfile', async () => {
    const dir = await tmp();
    const image = await buildLayeredArchive(join(dir, 'l.tar'));
    const again = await buildLayeredArchive(join(dir, 'l2.tar'));
    expect(again.id).toBe(image.id);
    expect(image.tag).toBe('berth-test/layered:1.0');
    expect(image.diffIds).toHaveLength(4);
    const busybox = await buildBusyboxArchive(join(dir, 'b.tar'));
    expect(image.diffIds.slice(0, 2)).toEqual(busybox.diffIds);

    const { config, layers } = await verify(image);
    expect(config.config).toMatchObject({
      User: '1000:1000',
      WorkingDir: '/data',
      Entrypoint: ['/bin/sh', '-c'],
      Cmd: ['cat /data/c.txt'],
      ExposedPorts: { '8080/tcp': {} },
      Labels: { 'org.example.role': 'berth-test' },
    });
    expect(config.config.Env).toContain('GREETING=hello');
    expect(config.config.Env).toContain('PATH=/usr/local/bin:/usr/bin:/bin');
    expect(config.history.filter((h: { empty_layer?: boolean }) => !h.empty_layer)).toHaveLength(4);
    expect(config.history.at(-1).created_by).toContain('CMD ["cat /data/c.txt"]');

    const [, , three, four] = layers;
    expect(three.get('data/a.txt')!.data.toString()).toBe('one\n');
    expect(three.get('data/sub/b.txt')!.header).toMatchObject({ uid: 1000, gid: 1000 });
    expect(three.get('data/sub/b2.txt')!.header).toMatchObject({ type: 'link', linkname: 'data/sub/b.txt' });
    expect(three.get('data/link')!.header).toMatchObject({ type: 'symlink', linkname: '/data/a.txt' });
    expect([...four.keys()]).toEqual(['data/', 'data/.wh.a.txt', 'data/.wh.sub', 'data/c.txt']);
    expect(four.get('data/.wh.sub')!.header).toMatchObject({ type: 'file', size: 0 });
    expect(four.get('data/c.txt')!.data.toString()).toBe('three\n');
  });

  it('sized: incompressible layers on top of busybox, the same for the same seed', async () => {
    const dir = await tmp();
    const opts = { tag: 'bench/sized:latest', layers: 2, bytesPerLayer: 3 * 1024 * 1024 + 5 };
    const a = await buildSizedArchive(join(dir, 'a.tar'), { ...opts, seed: 7 });
    const b = await buildSizedArchive(join(dir, 'b.tar'), { ...opts, seed: 7 });
    const c = await buildSizedArchive(join(dir, 'c.tar'), { ...opts, seed: 8 });
    expect(b.id).toBe(a.id);
    expect(c.id).not.toBe(a.id);
    const { layers } = await verify(a);
    expect(layers).toHaveLength(4);
    const blob = layers[2].get('data/blob0')!.data;
    expect(blob.length).toBe(opts.bytesPerLayer);
    expect(layers[3].get('data/blob1')!.data.equals(blob.subarray(0, opts.bytesPerLayer))).toBe(false);
    const { deflateRawSync } = await import('node:zlib');
    expect(deflateRawSync(blob.subarray(0, 1 << 20)).length).toBeGreaterThan(1 << 20); // incompressible
  });
});
