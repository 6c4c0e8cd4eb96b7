// The project's own test images, built from Debian's busybox-static (no registry is reachable in tests).
// Each is written as `docker save` writes a docker-archive (legacy layout), deterministically: the same
// inputs give the same bytes, and so the same image IDs.
//
// Layers are written to temporary files (hashed on the way) and then streamed into the archive, so a
// large image (buildSizedArchive) never has to fit in memory.
import { execFileSync } from 'node:child_process';
import { createCipheriv, createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

export interface BuiltImage {
  archive: string;
  id: string; // sha256:<config digest>
  tag: string;
  diffIds: string[];
}

/** File content too large to hold in memory: its size, and a way to read it (once). */
interface StreamedData {
  size: number;
  open: () => Readable;
}

interface Entry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  data?: Buffer | string | StreamedData;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

interface Step {
  createdBy: string;
  layer?: Entry[]; // absent: a config-only step (history entry with empty_layer)
}

interface ImageSpec {
  steps: Step[];
  config: Record<string, unknown>;
}

const BUSYBOX = '/bin/busybox';
const CREATED = '2026-01-01T00:00:00Z';
const MTIME = new Date(CREATED);
const ARCH = process.arch === 'x64' ? 'amd64' : process.arch; // arm64 stays arm64
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

// ---- tar writing ---------------------------------------------------------------------------------

/** Adds one entry, with fixed time and owner unless given; resolves once its bytes are in the pack. */
function addEntry(pack: tar.Pack, e: Entry): Promise<void> {
  const type = e.type ?? 'file';
  const header: Partial<tar.Header> & { name: string } = {
    name: e.name,
    type,
    mode: e.mode ?? (type === 'directory' ? 0o755 : type === 'symlink' ? 0o777 : 0o644),
    uid: e.uid ?? 0,
    gid: e.gid ?? 0,
    uname: '',
    gname: '',
    mtime: MTIME,
    ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
  };
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error | null) => (err ? reject(err) : resolve());
    const data = e.data;
    if (type !== 'file') {
      pack.entry(header, done);
    } else if (data === undefined || typeof data === 'string' || Buffer.isBuffer(data)) {
      pack.entry(header, Buffer.from(data ?? ''), done);
    } else {
      const sink = pack.entry({ ...header, size: data.size }, done);
      pipeline(data.open(), sink).catch(reject);
    }
  });
}

/** Writes the entries as one tar into `dest` (through `through`, if given). */
async function writeTar(entries: Entry[], dest: Writable, through?: Transform): Promise<void> {
  const pack = tar.pack();
  const written = through ? pipeline(pack, through, dest) : pipeline(pack, dest);
  try {
    for (const e of entries) await addEntry(pack, e);
    pack.finalize();
  } catch (err) {
    pack.destroy(err as Error);
  }
  await written;
}

/** A pass-through that hashes what goes by. */
function hashing(hash: Hash): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
}

interface WrittenLayer {
  file: string;
  size: number;
  diffId: string;
}

/** Writes a layer tar to `file`, hashing it on the way: its diff ID is the sha256 of these bytes. */
async function writeLayer(entries: Entry[], file: string): Promise<WrittenLayer> {
  const hash = createHash('sha256');
  await writeTar(entries, createWriteStream(file), hashing(hash));
  return { file, size: (await stat(file)).size, diffId: `sha256:${hash.digest('hex')}` };
}

// ---- the archive ---------------------------------------------------------------------------------

function splitTag(tag: string): [string, string] {
  const colon = tag.lastIndexOf(':');
  return colon > tag.lastIndexOf('/') ? [tag.slice(0, colon), tag.slice(colon + 1)] : [tag, 'latest'];
}

/** Writes a one-image docker-archive in docker save's legacy layout. */
async function writeArchive(outFile: string, tag: string, spec: ImageSpec): Promise<BuiltImage> {
  const work = await mkdtemp(join(dirname(outFile), '.berth-build-'));
  try {
    const layers: WrittenLayer[] = [];
    const history: object[] = [];
    for (const step of spec.steps) {
      history.push({ created: CREATED, created_by: step.createdBy, ...(step.layer ? {} : { empty_layer: true }) });
      if (step.layer) layers.push(await writeLayer(step.layer, join(work, `layer${layers.length}.tar`)));
    }
    const diffIds = layers.map((l) => l.diffId);
    const configBytes = Buffer.from(
      JSON.stringify({
        architecture: ARCH,
        config: spec.config,
        created: CREATED,
        history,
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: diffIds },
      }),
    );
    const configHex = sha256(configBytes);

    // One directory per layer, named by the layer's chain ID: the same layer stack gives the same
    // directory (and the same files in it) in every archive.
    const dirs: string[] = [];
    let chain = '';
    for (const diffId of diffIds) {
      chain = chain ? `sha256:${sha256(`${chain} ${diffId}`)}` : diffId;
      dirs.push(chain.slice('sha256:'.length));
    }

    const [repo, tagName] = splitTag(tag);
    const outer: Entry[] = [];
    layers.forEach((layer, i) => {
      const v1 = { id: dirs[i], ...(i > 0 ? { parent: dirs[i - 1] } : {}), created: CREATED };
      outer.push({ name: `${dirs[i]}/`, type: 'directory' });
      outer.push({ name: `${dirs[i]}/VERSION`, data: '1.0' });
      outer.push({ name: `${dirs[i]}/json`, data: JSON.stringify(v1) });
      outer.push({ name: `${dirs[i]}/layer.tar`, data: { size: layer.size, open: () => createReadStream(layer.file) } });
    });
    outer.push({ name: `${configHex}.json`, data: configBytes });
    const manifest = [{ Config: `${configHex}.json`, RepoTags: [tag], Layers: dirs.map((d) => `${d}/layer.tar`) }];
    outer.push({ name: 'manifest.json', data: JSON.stringify(manifest) });
    outer.push({ name: 'repositories', data: `${JSON.stringify({ [repo]: { [tagName]: dirs.at(-1) } })}\n` });
    await writeTar(outer, createWriteStream(outFile));
    return { archive: outFile, id: `sha256:${configHex}`, tag, diffIds };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

// ---- the images ----------------------------------------------------------------------------------

const BUSYBOX_CONFIG = { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] };

/** busybox:latest's build: the static binary, then its applet symlinks and a minimal root, then CMD. */
async function busyboxSteps(): Promise<Step[]> {
  const binary = await readFile(BUSYBOX);
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .map((a) => a.trim())
    .filter((a) => a && a !== 'busybox')
    .sort();
  return [
    {
      createdBy: '/bin/sh -c #(nop) ADD file:busybox in /bin/busybox ',
      layer: [
        { name: 'bin/', type: 'directory' },
        { name: 'bin/busybox', data: binary, mode: 0o755 },
      ],
    },
    {
      createdBy: '/bin/sh -c /bin/busybox --install -s /bin && mkdir -p /etc /tmp /root /proc /sys /dev',
      layer: [
        { name: 'bin/', type: 'directory' },
        ...[...new Set(applets)].map((a): Entry => ({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox' })),
        { name: 'dev/', type: 'directory' },
        { name: 'etc/', type: 'directory' },
        { name: 'etc/group', data: 'root:x:0:\nnobody:x:65534:\n' },
        { name: 'etc/passwd', data: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' },
        { name: 'proc/', type: 'directory' },
        { name: 'root/', type: 'directory', mode: 0o700 },
        { name: 'sys/', type: 'directory' },
        { name: 'tmp/', type: 'directory', mode: 0o1777 },
      ],
    },
    { createdBy: '/bin/sh -c #(nop)  CMD ["sh"]' },
  ];
}

/** busybox:latest — FROM scratch: the static busybox, then its applet symlinks and a minimal /etc. */
export async function buildBusyboxArchive(outFile: string, tag = 'busybox:latest'): Promise<BuiltImage> {
  return writeArchive(outFile, tag, { steps: await busyboxSteps(), config: BUSYBOX_CONFIG });
}

/**
 * An image with every kind of layer change the store must get right: a deleted file and directory
 * (whiteouts), a symlink, a hard link, a non-root owner, and config from ENV, LABEL, WORKDIR, EXPOSE,
 * USER, ENTRYPOINT and CMD. Mirrors:
 *
 *   FROM busybox:latest
 *   RUN mkdir -p /data/sub && echo one > /data/a.txt && echo two > /data/sub/b.txt && ln -s /data/a.txt /data/link
 *   RUN rm /data/a.txt && rm -r /data/sub && echo three > /data/c.txt
 *   ENV GREETING=hello PATH=/usr/local/bin:/usr/bin:/bin
 *   LABEL org.example.role=berth-test
 *   WORKDIR /data
 *   EXPOSE 8080/tcp
 *   USER 1000:1000
 *   ENTRYPOINT ["/bin/sh","-c"]
 *   CMD ["cat /data/c.txt"]
 *
 * (plus, in the first RUN's layer, b.txt owned by 1000:1000 and a hard link data/sub/b2.txt to it).
 */
export async function buildLayeredArchive(outFile: string, tag = 'berth-test/layered:1.0'): Promise<BuiltImage> {
  const nop = (line: string): Step => ({ createdBy: `/bin/sh -c #(nop)  ${line}` });
  const steps: Step[] = [
    ...(await busyboxSteps()), // FROM: the base's history comes along, as docker build keeps it
    {
      createdBy: '/bin/sh -c mkdir -p /data/sub && echo one > /data/a.txt && echo two > /data/sub/b.txt && ln -s /data/a.txt /data/link',
      layer: [
        { name: 'data/', type: 'directory' },
        { name: 'data/a.txt', data: 'one\n' },
        { name: 'data/link', type: 'symlink', linkname: '/data/a.txt' },
        { name: 'data/sub/', type: 'directory' },
        { name: 'data/sub/b.txt', data: 'two\n', uid: 1000, gid: 1000 },
        { name: 'data/sub/b2.txt', type: 'link', linkname: 'data/sub/b.txt', uid: 1000, gid: 1000 },
      ],
    },
    {
      createdBy: '/bin/sh -c rm /data/a.txt && rm -r /data/sub && echo three > /data/c.txt',
      layer: [
        { name: 'data/', type: 'directory' },
        { name: 'data/.wh.a.txt' }, // OCI whiteout: an empty regular file
        { name: 'data/.wh.sub' }, // whiteout of a directory
        { name: 'data/c.txt', data: 'three\n' },
      ],
    },
    nop('ENV GREETING=hello PATH=/usr/local/bin:/usr/bin:/bin'),
    nop('LABEL org.example.role=berth-test'),
    nop('WORKDIR /data'),
    nop('EXPOSE 8080/tcp'),
    nop('USER 1000:1000'),
    nop('ENTRYPOINT ["/bin/sh","-c"]'),
    nop('CMD ["cat /data/c.txt"]'),
  ];
  return writeArchive(outFile, tag, {
    steps,
    config: {
      User: '1000:1000',
      ExposedPorts: { '8080/tcp': {} },
      // ENV replaces PATH where it was and appends GREETING, as docker build does.
      Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'GREETING=hello'],
      Cmd: ['cat /data/c.txt'],
      WorkingDir: '/data',
      Entrypoint: ['/bin/sh', '-c'],
      Labels: { 'org.example.role': 'berth-test' },
    },
  });
}

/**
 * `size` incompressible pseudo-random bytes, the same for the same seed: AES-256-CTR over zeros, with
 * the key derived from the seed. Streamed in 1 MiB chunks.
 */
function noise(size: number, seed: string): StreamedData {
  return {
    size,
    open: () =>
      Readable.from(
        (function* () {
          const cipher = createCipheriv('aes-256-ctr', createHash('sha256').update(`berth-noise:${seed}`).digest(), Buffer.alloc(16));
          const zeros = Buffer.alloc(1 << 20);
          for (let left = size; left > 0; left -= zeros.length) yield cipher.update(zeros.subarray(0, Math.min(left, zeros.length)));
        })(),
        { objectMode: false },
      ),
  };
}

/** For benchmarks: `layers` layers of one incompressible file each, on top of busybox. */
export async function buildSizedArchive(outFile: string, opts: { tag: string; layers: number; bytesPerLayer: number; seed?: number }): Promise<BuiltImage> {
  const seed = opts.seed ?? 0;
  const steps = await busyboxSteps();
  for (let i = 0; i < opts.layers; i++) {
    steps.push({
      createdBy: `/bin/sh -c head -c ${opts.bytesPerLayer} /dev/urandom > /data/blob${i}`,
      layer: [
        { name: 'data/', type: 'directory' },
        { name: `data/blob${i}`, data: noise(opts.bytesPerLayer, `${seed}:${i}`) },
      ],
    });
  }
  return writeArchive(outFile, opts.tag, { steps, config: BUSYBOX_CONFIG });
}
