// The test-image builder writes docker-archives whose IDs follow from their content, deterministically.
import { afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import tar from 'tar-stream';
import { buildBusyboxArchive, buildLayeredArchive } from './build.js';

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

async function members(file: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      out.set(header.name, Buffer.concat(chunks));
      next();
    });
  });
  const done = new Promise((resolve) => extract.on('finish', resolve));
  extract.end(await readFile(file));
  await done;
  return out;
}

describe('test images', () => {
  it('busybox: a docker-archive whose ID is its config digest, built the same every time', async () => {
    const dir = await tmp();
    const a = await buildBusyboxArchive(join(dir, 'a.tar'));
    const b = await buildBusyboxArchive(join(dir, 'b.tar'));
    expect(a.id).toBe(b.id);
    const files = await members(a.archive);
    const [manifest] = JSON.parse(files.get('manifest.json')!.toString());
    expect(manifest.RepoTags).toEqual(['busybox:latest']);
    const config = files.get(manifest.Config)!;
    expect(sha(config)).toBe(a.id);
    const parsed = JSON.parse(config.toString());
    expect(parsed.rootfs.diff_ids).toEqual(manifest.Layers.map((l: string) => sha(files.get(l)!)));
    expect(parsed.config.Cmd).toEqual(['sh']);
  });

  it('layered: four layers and the config of its Dockerfile', async () => {
    const dir = await tmp();
    const image = await buildLayeredArchive(join(dir, 'l.tar'));
    expect(image.diffIds).toHaveLength(4);
    const files = await members(image.archive);
    const [manifest] = JSON.parse(files.get('manifest.json')!.toString());
    const config = JSON.parse(files.get(manifest.Config)!.toString());
    expect(config.config).toMatchObject({ User: '1000:1000', WorkingDir: '/data', Entrypoint: ['/bin/sh', '-c'], Cmd: ['cat /data/c.txt'] });
    expect(config.config.Env).toContain('GREETING=hello');
    expect(config.history.filter((h: { empty_layer?: boolean }) => !h.empty_layer)).toHaveLength(4);
  });
});
