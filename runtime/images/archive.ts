// An image archive (docker save output or an OCI image layout) spooled to a staging dir, so that its
// manifest can be read in any order. Only regular files are written; symlinks inside the archive
// (docker save links duplicate layers) are kept as a map and resolved inside the archive only.
import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { invalid } from '../errors.js';
import { clientGone, limitSize, tooLarge } from '../storage/streams.js';

export class SpooledArchive {
  private readonly files = new Set<string>();
  private readonly links = new Map<string, string>();

  private constructor(
    readonly dir: string,
    private readonly maxMember: number,
  ) {}

  /**
   * Stores the archive's files under dir. `maxMember` bounds each file (no layer is larger); `signal`
   * (the client went away) stops the spooling.
   */
  static async spool(input: Readable, dir: string, o: { maxMember: number; signal?: AbortSignal }): Promise<SpooledArchive> {
    const archive = new SpooledArchive(dir, o.maxMember);
    const extract = tar.extract();
    extract.on('entry', (header, stream, next) => {
      // A cut-off archive fails the entry too, maybe before store() reads it: the extractor's error
      // (which fails the pipeline below) says why, and an unheard 'error' would take the engine down.
      stream.on('error', () => undefined);
      archive.store(header, stream as unknown as Readable).then(
        () => next(),
        (err: Error) => {
          stream.resume();
          extract.destroy(err);
        },
      );
    });
    try {
      await pipeline(input, extract, { signal: o.signal });
    } catch (err) {
      if (o.signal?.aborted) throw clientGone();
      if ((err as { kind?: string }).kind) throw err;
      throw invalid(`invalid image archive: ${(err as Error).message}`);
    }
    return archive;
  }

  private async store(header: tar.Header, stream: Readable): Promise<void> {
    const name = normalize(header.name);
    if (header.type === 'file' || header.type === 'contiguous-file') {
      const path = join(this.dir, 'files', name);
      await mkdir(dirname(path), { recursive: true });
      await pipeline(
        stream,
        limitSize(this.maxMember, (max) => tooLarge(`invalid image archive: ${name}`, max)),
        createWriteStream(path),
      );
      this.files.add(name);
      return;
    }
    if (header.type === 'symlink' || header.type === 'link') {
      const target = header.type === 'link' ? header.linkname! : posix.join(posix.dirname(name), header.linkname!);
      this.links.set(name, normalize(target));
    }
    stream.resume();
    await new Promise((resolve) => stream.on('end', resolve));
  }

  /** The on-disk path of an archive member, following the archive's own links; undefined when absent. */
  path(member: string): string | undefined {
    let name = normalize(member);
    for (let hops = 0; hops < 16 && !this.files.has(name); hops++) {
      const next = this.links.get(name);
      if (next === undefined) return undefined;
      name = next;
    }
    return this.files.has(name) ? join(this.dir, 'files', name) : undefined;
  }

  has = (member: string) => this.path(member) !== undefined;

  async read(member: string): Promise<Buffer> {
    const path = this.path(member);
    if (!path) throw invalid(`invalid image archive: ${member} is missing`);
    return readFile(path);
  }

  async json<T>(member: string): Promise<T> {
    try {
      return JSON.parse((await this.read(member)).toString('utf8')) as T;
    } catch (err) {
      if ((err as { kind?: string }).kind) throw err;
      throw invalid(`invalid image archive: ${member}: ${(err as Error).message}`);
    }
  }
}

/** Archive member names are relative and stay inside the archive. */
function normalize(name: string): string {
  const clean = posix.normalize(name.replace(/^\/+/, '')).replace(/\/+$/, '');
  if (clean === '..' || clean.startsWith('../') || posix.isAbsolute(clean)) {
    throw invalid(`invalid image archive: unsafe path ${JSON.stringify(name)}`);
  }
  return clean === '.' ? '' : clean;
}
