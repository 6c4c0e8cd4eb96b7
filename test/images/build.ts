// The project's own test images, built from Debian's busybox-static (no registry is reachable in tests).
// Each is written as `docker save` writes a docker-archive (legacy layout), deterministically: the same
// inputs give the same bytes, and so the same image IDs.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import tar from 'tar-stream';

export interface BuiltImage {
  archive: string;
  id: string; // sha256:<config digest>
  tag: string;
  diffIds: string[];
}

interface Entry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  data?: Buffer | string;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

interface Step {
  createdBy: string;
  layer?: Entry[]; // absent: a config-only step (empty_layer)
}

const BUSYBOX = '/bin/busybox';
const CREATED = '2026-01-01T00:00:00Z';
const MTIME = new Date(CREATED);
const ARCH = process.arch === 'x64' ? 'amd64' : process.arch;
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A tar of the entries, with fixed times and owners unless given. */
function tarOf(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => pack.on('end', () => resolve()).on('error', reject));
  for (const e of entries) {
    const type = e.type ?? 'file';
    pack.entry(
      { name: e.name, type, linkname: e.linkname, mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644), uid: e.uid ?? 0, gid: e.gid ?? 0, uname: '', gname: '', mtime: MTIME },
      type === 'file' ? Buffer.from(e.data ?? '') : Buffer.alloc(0),
    );
  }
  pack.finalize();
  return done.then(() => Buffer.concat(chunks));
}

async function busyboxSteps(): Promise<Step[]> {
  const binary = await readFile(BUSYBOX);
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
  return [
    { createdBy: 'COPY busybox /bin/busybox', layer: [{ name: 'bin/', type: 'directory' }, { name: 'bin/busybox', data: binary, mode: 0o755 }] },
    {
      createdBy: '/bin/busybox --install -s /bin',
      layer: [
        { name: 'bin/', type: 'directory' },
        ...applets.map((a): Entry => ({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox', mode: 0o777 })),
        ...['dev/', 'etc/', 'proc/', 'root/', 'sys/'].map((name): Entry => ({ name, type: 'directory', mode: name === 'root/' ? 0o700 : 0o755 })),
        { name: 'tmp/', type: 'directory', mode: 0o1777 },
        { name: 'etc/passwd', data: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' },
        { name: 'etc/group', data: 'root:x:0:\nnobody:x:65534:\n' },
      ],
    },
    { createdBy: '/bin/sh -c #(nop)  CMD ["sh"]' },
  ];
}

const BUSYBOX_CONFIG = { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] };

/** Writes a one-image docker-archive; layers are built in memory except `bigLayers` files streamed in. */
async function writeArchive(outFile: string, tag: string, steps: Step[], config: object): Promise<BuiltImage> {
  const layers: Buffer[] = [];
  const history: object[] = [];
  for (const step of steps) {
    history.push({ created: CREATED, created_by: step.createdBy, ...(step.layer ? {} : { empty_layer: true }) });
    if (step.layer) layers.push(await tarOf(step.layer));
  }
  const diffIds = layers.map((l) => `sha256:${sha256(l)}`);
  const configBytes = Buffer.from(
    JSON.stringify({ architecture: ARCH, config, created: CREATED, history, os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } }),
  );
  const id = sha256(configBytes);
  // docker save's legacy layout: one directory per layer named by a v1 ID, here derived from the chain.
  const dirs: string[] = [];
  let chain = '';
  for (const diffId of diffIds) {
    chain = chain ? `sha256:${sha256(`${chain} ${diffId}`)}` : diffId;
    dirs.push(sha256(`v1:${chain}`));
  }
  const [repo, tagName] = splitTag(tag);
  const outer: Entry[] = [];
  layers.forEach((layer, i) => {
    outer.push({ name: `${dirs[i]}/`, type: 'directory' });
    outer.push({ name: `${dirs[i]}/VERSION`, data: '1.0' });
    outer.push({ name: `${dirs[i]}/json`, data: JSON.stringify({ id: dirs[i], ...(i > 0 ? { parent: dirs[i - 1] } : {}), created: CREATED }) });
    outer.push({ name: `${dirs[i]}/layer.tar`, data: layer });
  });
  outer.push({ name: `${id}.json`, data: configBytes });
  outer.push({ name: 'manifest.json', data: JSON.stringify([{ Config: `${id}.json`, RepoTags: [tag], Layers: dirs.map((d) => `${d}/layer.tar`) }]) });
  outer.push({ name: 'repositories', data: JSON.stringify({ [repo]: { [tagName]: dirs.at(-1) } }) + '\n' });
  const out = createWriteStream(outFile);
  out.end(await tarOf(outer));
  await finished(out);
  return { archive: outFile, id: `sha256:${id}`, tag, diffIds };
}

function splitTag(tag: string): [string, string] {
  const colon = tag.lastIndexOf(':');
  return colon > tag.lastIndexOf('/') ? [tag.slice(0, colon), tag.slice(colon + 1)] : [tag, 'latest'];
}

/** busybox:latest — FROM scratch: the static busybox, then its applet symlinks and a minimal /etc. */
export async function buildBusyboxArchive(outFile: string, tag = 'busybox:latest'): Promise<BuiltImage> {
  return writeArchive(outFile, tag, await busyboxSteps(), BUSYBOX_CONFIG);
}

/**
 * An image with every kind of layer change the store must get right: a deleted file and directory
 * (whiteouts), a symlink, a hard link, a non-root owner, and config from ENV, LABEL, WORKDIR, EXPOSE,
 * USER, ENTRYPOINT and CMD.
 */
export async function buildLayeredArchive(outFile: string, tag = 'berth-test/layered:1.0'): Promise<BuiltImage> {
  const base = (await busyboxSteps()).slice(0, 2);
  const steps: Step[] = [
    ...base,
    {
      createdBy: '/bin/sh -c mkdir -p /data/sub && echo one > /data/a.txt && echo two > /data/sub/b.txt && ln -s /data/a.txt /data/link',
      layer: [
        { name: 'data/', type: 'directory' },
        { name: 'data/sub/', type: 'directory' },
        { name: 'data/a.txt', data: 'one\n' },
        { name: 'data/sub/b.txt', data: 'two\n', uid: 1000, gid: 1000 },
        { name: 'data/sub/b2.txt', type: 'link', linkname: 'data/sub/b.txt' },
        { name: 'data/link', type: 'symlink', linkname: '/data/a.txt', mode: 0o777 },
      ],
    },
    {
      createdBy: '/bin/sh -c rm /data/a.txt && rm -r /data/sub && echo three > /data/c.txt',
      layer: [{ name: 'data/', type: 'directory' }, { name: 'data/.wh.a.txt' }, { name: 'data/.wh.sub' }, { name: 'data/c.txt', data: 'three\n' }],
    },
    ...['ENV GREETING=hello PATH=/usr/local/bin:/usr/bin:/bin', 'LABEL org.example.role=berth-test', 'WORKDIR /data', 'EXPOSE 8080/tcp', 'USER 1000:1000', 'ENTRYPOINT ["/bin/sh","-c"]', 'CMD ["cat /data/c.txt"]'].map(
      (line): Step => ({ createdBy: `/bin/sh -c #(nop)  ${line}` }),
    ),
  ];
  return writeArchive(outFile, tag, steps, {
    Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'GREETING=hello'],
    Cmd: ['cat /data/c.txt'],
    Entrypoint: ['/bin/sh', '-c'],
    User: '1000:1000',
    WorkingDir: '/data',
    ExposedPorts: { '8080/tcp': {} },
    Labels: { 'org.example.role': 'berth-test' },
  });
}

/** Pseudo-random bytes from a seed: incompressible, and the same for the same seed. */
function noise(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let block = Buffer.from(`seed:${seed}`);
  for (let off = 0; off < size; off += 32) {
    block = createHash('sha256').update(block).digest();
    block.copy(out, off, 0, Math.min(32, size - off));
  }
  return out;
}

/** For benchmarks: `layers` layers of one incompressible file each, on top of busybox. */
export async function buildSizedArchive(outFile: string, opts: { tag: string; layers: number; bytesPerLayer: number; seed?: number }): Promise<BuiltImage> {
  const seed = opts.seed ?? 0;
  const steps = (await busyboxSteps()).slice(0, 2);
  for (let i = 0; i < opts.layers; i++) {
    steps.push({ createdBy: `/bin/sh -c head -c ${opts.bytesPerLayer} /dev/urandom > /data/blob${i}`, layer: [{ name: 'data/', type: 'directory' }, { name: `data/blob${i}`, data: noise(opts.bytesPerLayer, seed * 1000 + i) }] });
  }
  return writeArchive(outFile, opts.tag, steps, BUSYBOX_CONFIG);
}
