// Small docker-archives built in memory, for feeding the loader exactly the (bad) input a test needs.
import { createHash } from 'node:crypto';
import tar from 'tar-stream';

export interface Entry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  content?: string | Buffer;
  linkname?: string;
  mode?: number;
}

/** tar-stream types its chunks `unknown`; its packs emit Buffers. */
export function chunkOf(c: unknown): Buffer {
  if (!Buffer.isBuffer(c)) throw new TypeError('tar-stream emitted a chunk that is not a Buffer');
  return c;
}

const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

export async function tarOf(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c) => chunks.push(chunkOf(c)));
  const done = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const e of entries) {
    const content = e.content === undefined ? undefined : Buffer.from(e.content);
    await new Promise<void>((resolve, reject) =>
      pack.entry(
        { name: e.name, type: e.type ?? 'file', linkname: e.linkname, mode: e.mode ?? (e.type === 'directory' ? 0o755 : 0o644), mtime: new Date(0) },
        content ?? Buffer.alloc(0),
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A docker-archive of one image whose layers are the given tars; diffIds may be overridden to lie. */
export async function dockerArchive(layers: Buffer[], tag: string, diffIds = layers.map(sha)): Promise<{ archive: Buffer; id: string }> {
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: '2026-01-01T00:00:00Z',
      config: { Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
    }),
  );
  const id = sha(config);
  const entries: Entry[] = [{ name: `${id.slice(7)}.json`, content: config }];
  layers.forEach((layer, i) => entries.push({ name: `layer${i}/layer.tar`, content: layer }));
  entries.push({
    name: 'manifest.json',
    content: JSON.stringify([{ Config: `${id.slice(7)}.json`, RepoTags: [tag], Layers: layers.map((_, i) => `layer${i}/layer.tar`) }]),
  });
  return { archive: await tarOf(entries), id };
}
