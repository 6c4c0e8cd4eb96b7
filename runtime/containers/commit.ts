// docker commit: a container's upper dir becomes a new layer on top of its image, with the container's
// config (and `--change` instructions) as the new image's config.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { lstat, mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { createReadStream } from 'node:fs';
import tar from 'tar-stream';
import { invalid } from '../errors.js';
import type { ContainerConfig } from '../../openapi/containers.js';

const run = promisify(execFile);

/** Runtime-made mount points in the upper dir: not part of what the container changed. */
export const MOUNT_POINTS = new Set(['etc/hosts', 'etc/hostname', 'etc/resolv.conf']);

export async function isOpaque(dir: string): Promise<boolean> {
  const { stdout } = await run('getfattr', ['--absolute-names', '--only-values', '-n', 'trusted.overlay.opaque', dir]).catch(() => ({ stdout: '' }));
  return stdout.trim() === 'y';
}

/** Writes the upper dir as an OCI layer tar (overlay whiteouts back to `.wh.` entries); returns its diff ID. */
export async function writeUpperAsLayer(upper: string, out: string): Promise<{ diffId: string }> {
  const pack = tar.pack();
  const hash = createHash('sha256');
  const measure = new Transform({
    transform(chunk: Buffer, _e, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const written = pipeline(pack, measure, createWriteStream(out));
  const inodes = new Map<number, string>();
  const entry = (header: Parameters<tar.Pack['entry']>[0], body?: Buffer) =>
    new Promise<void>((resolve, reject) => pack.entry(header, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve())));
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(upper, rel))).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const full = join(upper, path);
      const st = await lstat(full);
      const common = { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, mtime: st.mtime };
      if (st.isCharacterDevice() && st.rdev === 0) {
        await entry({ name: rel ? `${rel}/.wh.${name}` : `.wh.${name}`, ...common, mode: 0o644 });
      } else if (st.isDirectory()) {
        await entry({ name: `${path}/`, type: 'directory', ...common });
        if (await isOpaque(full)) await entry({ name: `${path}/.wh..wh..opq`, ...common, mode: 0o644 });
        await walk(path);
      } else if (st.isSymbolicLink()) {
        await entry({ name: path, type: 'symlink', linkname: await readlink(full), ...common });
      } else if (st.isFile()) {
        if (MOUNT_POINTS.has(path) && st.size === 0) continue;
        const first = inodes.get(st.ino);
        if (first && st.nlink > 1) {
          await entry({ name: path, type: 'link', linkname: first, ...common });
          continue;
        }
        inodes.set(st.ino, path);
        await new Promise<void>((resolve, reject) => {
          const sink = pack.entry({ name: path, size: st.size, ...common }, (err) => (err ? reject(err) : resolve()));
          createReadStream(full).on('error', reject).pipe(sink);
        });
      } else if (st.isFIFO()) {
        await entry({ name: path, type: 'fifo', ...common });
      }
    }
  };
  await walk('');
  pack.finalize();
  await written;
  return { diffId: 'sha256:' + hash.digest('hex') };
}

const shellOrJson = (args: string): string[] => {
  const text = args.trim();
  if (text.startsWith('[')) {
    try {
      return JSON.parse(text) as string[];
    } catch {
      // not JSON: the shell form
    }
  }
  return ['/bin/sh', '-c', text];
};

/** Applies `--change` Dockerfile instructions (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL). */
export function applyChanges(config: ContainerConfig, changes: string[]): ContainerConfig {
  const out: ContainerConfig = { ...config, Env: [...(config.Env ?? [])], Labels: { ...(config.Labels ?? {}) } };
  for (const change of changes.flatMap((c) => c.split('\n')).map((c) => c.trim()).filter(Boolean)) {
    const [, keyword = '', rest = ''] = /^(\w+)\s+([\s\S]*)$/.exec(change) ?? [];
    switch (keyword.toUpperCase()) {
      case 'CMD':
        out.Cmd = shellOrJson(rest);
        break;
      case 'ENTRYPOINT':
        out.Entrypoint = shellOrJson(rest);
        break;
      case 'ENV': {
        const pairs = rest.includes('=') ? rest.match(/(\S+?)=("[^"]*"|\S*)/g) ?? [] : [rest.replace(/\s+/, '=')];
        for (const pair of pairs) {
          const [key] = pair.split('=');
          const value = pair.slice(key!.length + 1).replace(/^"(.*)"$/, '$1');
          out.Env = [...out.Env!.filter((e) => e.split('=')[0] !== key), `${key}=${value}`];
        }
        break;
      }
      case 'LABEL':
        for (const pair of rest.match(/(\S+?)=("[^"]*"|\S*)/g) ?? []) {
          const [key] = pair.split('=');
          out.Labels![key!] = pair.slice(key!.length + 1).replace(/^"(.*)"$/, '$1');
        }
        break;
      case 'EXPOSE':
        out.ExposedPorts = { ...(out.ExposedPorts ?? {}) };
        for (const port of rest.split(/\s+/)) out.ExposedPorts[port.includes('/') ? port : `${port}/tcp`] = {};
        break;
      case 'USER':
        out.User = rest;
        break;
      case 'WORKDIR':
        out.WorkingDir = rest;
        break;
      case 'STOPSIGNAL':
        out.StopSignal = rest;
        break;
      case 'VOLUME':
        out.Volumes = { ...(out.Volumes ?? {}) };
        for (const v of shellOrJson(rest)[0] === '/bin/sh' ? rest.split(/\s+/) : shellOrJson(rest)) out.Volumes[v] = {};
        break;
      default:
        throw invalid(`${keyword} is not a valid change command`);
    }
  }
  return out;
}

export async function tempDir(base: string): Promise<{ dir: string; done: () => Promise<void> }> {
  const dir = await mkdtemp(join(base, 'commit-'));
  return { dir, done: () => rm(dir, { recursive: true, force: true }) };
}
