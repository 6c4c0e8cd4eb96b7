// The local driver's options, as moby's volume/local: `type`, `device` and `o` make the volume a
// mount (tmpfs, a bind of a host directory, nfs...) of its _data directory while containers use it;
// `size` asks for a quota, which berth (like dockerd without xfs project quotas) cannot give.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { EngineError, invalid } from '../errors.js';

const run = promisify(execFile);

const VALID = new Set(['type', 'o', 'device', 'size']);
/** Each option that needs others, in the order moby's messages name them. */
const REQUIRED: [string, string[]][] = [
  ['device', ['type']],
  ['type', ['device']],
  ['o', ['device', 'type']],
];

/** docker/go-units RAMInBytes: `100m`, `1.5g`, `512k`, `1024` (binary units). */
function ramInBytes(value: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(value);
  if (!m) throw invalid(`invalid size: '${value}'`);
  const unit = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 }[(m[2] ?? '').toLowerCase() as ''];
  return Math.floor(Number(m[1]) * unit);
}

/** moby's validateOpts: the error without the `create <name>: ` its caller puts before it. */
export function validateOptions(opts: Record<string, string>): void {
  const keys = Object.keys(opts);
  if (keys.length === 0) return;
  for (const key of keys) if (!VALID.has(key)) throw invalid(`invalid option: "${key}"`);
  if (opts.type === 'cifs' && opts.device) {
    let url: URL;
    try {
      url = new URL(opts.device);
    } catch (err) {
      throw invalid(`error parsing mount device url: ${(err as Error).message}`);
    }
    if (url.port) throw invalid("port not allowed in CIFS device URL, include 'port' in 'o='");
  }
  if ('size' in opts && ramInBytes(opts.size!) > 0) throw invalid('quota size requested but no quota support');
  for (const [key, needs] of REQUIRED) {
    if (!(key in opts)) continue;
    for (const need of needs) if (!(need in opts)) throw invalid(`missing required option: "${need}"`);
  }
}

/** Whether a volume with these options is a mount (moby's needsMount). */
export const needsMount = (opts: Record<string, string>) => !!(opts.device || opts.type);

// MS_* flags that moby/sys/mount's ParseOptions takes out of `o` (the rest is the fs's data).
const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  SYNCHRONOUS: 16,
  REMOUNT: 32,
  MANDLOCK: 64,
  DIRSYNC: 128,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  REC: 16384,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  STRICTATIME: 1 << 24,
};
const FLAGS: Record<string, [clear: boolean, flag: number]> = {
  ro: [false, MS.RDONLY],
  rw: [true, MS.RDONLY],
  suid: [true, MS.NOSUID],
  nosuid: [false, MS.NOSUID],
  dev: [true, MS.NODEV],
  nodev: [false, MS.NODEV],
  exec: [true, MS.NOEXEC],
  noexec: [false, MS.NOEXEC],
  sync: [false, MS.SYNCHRONOUS],
  async: [true, MS.SYNCHRONOUS],
  dirsync: [false, MS.DIRSYNC],
  remount: [false, MS.REMOUNT],
  mand: [false, MS.MANDLOCK],
  nomand: [true, MS.MANDLOCK],
  atime: [true, MS.NOATIME],
  noatime: [false, MS.NOATIME],
  diratime: [true, MS.NODIRATIME],
  nodiratime: [false, MS.NODIRATIME],
  bind: [false, MS.BIND],
  rbind: [false, MS.BIND | MS.REC],
  unbindable: [false, MS.UNBINDABLE],
  runbindable: [false, MS.UNBINDABLE | MS.REC],
  private: [false, MS.PRIVATE],
  rprivate: [false, MS.PRIVATE | MS.REC],
  shared: [false, MS.SHARED],
  rshared: [false, MS.SHARED | MS.REC],
  slave: [false, MS.SLAVE],
  rslave: [false, MS.SLAVE | MS.REC],
  relatime: [false, MS.RELATIME],
  norelatime: [true, MS.RELATIME],
  strictatime: [false, MS.STRICTATIME],
  nostrictatime: [true, MS.STRICTATIME],
};
const PROPAGATION = MS.SHARED | MS.PRIVATE | MS.SLAVE | MS.UNBINDABLE;

/** `o` as moby splits it: mount flags, and the data handed to the filesystem. */
export function parseMountOptions(o: string): { flags: number; data: string } {
  let flags = 0;
  const data: string[] = [];
  for (const opt of o ? o.split(',') : []) {
    const f = FLAGS[opt];
    if (f) flags = f[0] ? flags & ~f[1] : flags | f[1];
    else data.push(opt);
  }
  return { flags, data: data.join(',') };
}

/** The errno (Go's wording) behind a mount(8) failure. */
function errnoOf(stderr: string): string {
  const text = stderr.split('\n')[0] ?? '';
  if (/special device .* does not exist|mount point does not exist|No such file or directory/i.test(text)) return 'no such file or directory';
  if (/wrong fs type, bad option|Invalid argument/i.test(text)) return 'invalid argument';
  if (/unknown filesystem type/i.test(text)) return 'no such device';
  if (/permission denied/i.test(text)) return 'permission denied';
  if (/must be superuser|not permitted/i.test(text)) return 'operation not permitted';
  if (/not a directory/i.test(text)) return 'not a directory';
  if (/already mounted|busy/i.test(text)) return 'device or resource busy';
  const syscall = /system call failed: (.*?)\.?$/.exec(text)?.[1];
  if (syscall) return syscall.charAt(0).toLowerCase() + syscall.slice(1);
  return text.replace(/^mount: (\S+: )?/, '').replace(/\.$/, '') || 'mount failed';
}

const hidePassword = (s: string) => s.replace(/password=[^,]*/g, 'password=********');

/** Mounts a volume's device at its _data dir; failures in dockerd's words. */
export async function mountLocal(opts: Record<string, string>, path: string): Promise<void> {
  const device = opts.device ?? '';
  const o = opts.o ?? '';
  const fail = (message: string) => new EngineError('internal', `error while mounting volume '${path}': failed to mount local volume: ${message}`);
  if (!device) throw fail('missing device in volume options');
  const args = ['-n', '--no-canonicalize', ...(opts.type ? ['-t', opts.type] : []), ...(o ? ['-o', o] : []), device, path];
  try {
    await run('mount', args);
  } catch (err) {
    const { flags, data } = parseMountOptions(o);
    let message = `mount ${device}:${path}`;
    if (flags & ~PROPAGATION) message += `, flags: 0x${(flags & ~PROPAGATION).toString(16)}`;
    if (data) message += `, data: ${data}`;
    throw fail(hidePassword(`${message}: ${errnoOf(String((err as { stderr?: string }).stderr ?? err))}`));
  }
}
