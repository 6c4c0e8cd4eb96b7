// A container's root filesystem: an overlayfs of its image's layers under a private upper dir.
// Mounts and unmounts go through one long-lived helper process that makes the mount(2)/umount2(2)
// calls (Node has no binding for them): a `mount`/`umount` process per call cost the event loop a fork
// of the engine (1–6 ms, more under load) and the call ~5–20 ms. Where the helper cannot run (no perl,
// an architecture whose syscall numbers it does not know), the util-linux binaries do it as before.
import { execFile } from 'node:child_process';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { LineHelper } from '../util/line-helper.js';
import { rootless } from '../rootless/mode.js';
import { mountRootlessOverlay } from './rootless-overlay.js';

const run = promisify(execFile);

/** Whether anything is mounted at path (the mount table's 5th field, escaped as the kernel escapes it). */
export async function isMounted(path: string): Promise<boolean> {
  const mounts = await mountTable();
  const field = ` ${path.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`)} `;
  // A search, not a split of every line: the table has a line per mount on the host (hundreds, with
  // containers running), and this runs several times per container start and exit.
  for (let at = mounts.indexOf(field); at >= 0; at = mounts.indexOf(field, at + 1)) {
    const lineStart = mounts.lastIndexOf('\n', at) + 1;
    let spaces = 0;
    for (let i = lineStart; i <= at; i++) if (mounts.charCodeAt(i) === 32) spaces++;
    if (spaces === 4) return true;
  }
  return false;
}

let tableRead: Promise<string> | undefined;
let nextRead: Promise<string> | undefined;

/**
 * /proc/self/mountinfo, read once for all the callers that asked while the read before was under way:
 * each caller gets a read that started after it asked (it sees every mount made before), and
 * concurrent starts and exits share reads instead of each generating the whole table.
 */
function mountTable(): Promise<string> {
  if (!tableRead) {
    tableRead = readFile('/proc/self/mountinfo', 'utf8').finally(() => (tableRead = undefined));
    return tableRead;
  }
  nextRead ??= tableRead
    .catch(() => undefined)
    .then(() => {
      nextRead = undefined;
      return mountTable();
    });
  return nextRead;
}

/**
 * Whether a filesystem of its own (an overlay, a tmpfs: each has its own device) is mounted at path: two
 * stats, not a read of the whole mount table (which grows with every running container). Not for bind
 * mounts, which keep their source's device.
 */
export async function hasOwnMount(path: string): Promise<boolean> {
  const [self, parent] = await Promise.all([stat(path).catch(() => undefined), stat(dirname(path)).catch(() => undefined)]);
  return !!self && !!parent && self.dev !== parent.dev;
}

/** Mounts lower dirs (top first) under upper at merged; a no-op when it is mounted already (then true). */
export async function mountOverlay(lower: string[], upper: string, work: string, merged: string): Promise<boolean> {
  if (await hasOwnMount(merged)) return true;
  await Promise.all([upper, work, merged].map((dir) => mkdir(dir, { recursive: true })));
  const options = `lowerdir=${lower.join(':')},upperdir=${upper},workdir=${work}`;
  if (rootless()) await mountRootlessOverlay(options, merged, (withUserxattr) => overlayMount(withUserxattr, merged));
  else await overlayMount(options, merged);
  return false;
}

async function overlayMount(options: string, merged: string): Promise<void> {
  if (await mounter.mount('overlay', merged, 'overlay', 0, options)) return;
  // -n (no mtab), -i (no helpers), --no-canonicalize (our paths are absolute): less work per start.
  await run('mount', ['-n', '-i', '--no-canonicalize', '-t', 'overlay', 'overlay', '-o', options, merged]);
}

/** A tmpfs at path (a shareable container's /dev/shm, which others bind too); a no-op when mounted already. */
export async function mountTmpfs(path: string, options: string): Promise<void> {
  if (await hasOwnMount(path)) return;
  await mkdir(path, { recursive: true });
  const { flags, data } = splitOptions(options);
  if (await mounter.mount('shm', path, 'tmpfs', flags, data)) return;
  await run('mount', ['-n', '-i', '--no-canonicalize', '-t', 'tmpfs', '-o', options, 'shm', path]);
}

/** Unmounts everything stacked at path. Another process (`berth cleanup`) may be doing the same: not an error. */
export async function unmount(path: string): Promise<void> {
  for (let attempt = 0; attempt < 10 && (await isMounted(path)); attempt++) await unmountOnce(path);
}

/**
 * unmount() for a filesystem of its own (a container's overlay or /dev/shm tmpfs): known mounted or
 * not by hasOwnMount, which is cheaper than reading the mount table.
 */
export async function unmountOwn(path: string): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    // With the helper, umount2's answer says whether anything was mounted (EINVAL: not a mount point;
    // ENOENT: no such path): one call where a check and a call were.
    const answer = await mounter.unmountAnswer(path, 0);
    if (answer === undefined) break;
    if (answer === 0) continue; // another may be stacked below
    if (answer === EINVAL || answer === ENOENT) return;
    await mounter.unmountAnswer(path, MNT_DETACH); // busy: detached, as `umount -l`
  }
  for (let attempt = 0; attempt < 10 && (await hasOwnMount(path)); attempt++) await unmountOnce(path);
}

async function unmountOnce(path: string): Promise<void> {
  const done = (await mounter.unmount(path, 0)) ?? (await mounter.unmount(path, MNT_DETACH));
  if (done !== undefined) return;
  await run('umount', ['-n', '-i', '-c', path]).catch(() => run('umount', ['-n', '-i', '-c', '-l', path]).catch(() => undefined));
}

const MNT_DETACH = 2;
const ENOENT = 2;
const EINVAL = 22;
/** The mount flags `mount -o` takes as words (the rest is the filesystem's data). */
const FLAGS: Record<string, number> = { ro: 1, nosuid: 2, nodev: 4, noexec: 8 };

function splitOptions(options: string): { flags: number; data: string } {
  let flags = 0;
  const data: string[] = [];
  for (const option of options.split(',')) {
    if (option in FLAGS) flags |= FLAGS[option]!;
    else if (option !== '' && option !== 'rw') data.push(option);
  }
  return { flags, data: data.join(',') };
}

/** mount(2) and umount2(2) by architecture (Linux's unistd tables). */
const SYSCALLS: Record<string, [mount: number, umount2: number]> = { x64: [165, 166], arm64: [40, 39] };

/** One request a line (tab-separated), one answer a line: `0`, or errno and its text. */
const HELPER = `$| = 1;
my ($nr_mount, $nr_umount2) = @ARGV;
while (my $line = <STDIN>) {
  chomp $line;
  my ($op, @a) = split /\\t/, $line, -1;
  my $r = -1;
  if ($op eq 'm' && @a == 5) { $r = syscall($nr_mount + 0, $a[0], $a[1], $a[2], $a[3] + 0, $a[4]); }
  elsif ($op eq 'u' && @a == 2) { $r = syscall($nr_umount2 + 0, $a[0], $a[1] + 0); }
  else { $! = 22; }
  print $r == 0 ? "0\\n" : ($! + 0) . " $!\\n";
}`;

interface Pending {
  resolve: (answer: string) => void;
}

/**
 * The helper: started at the first mount, kept (unreferenced: it never holds the engine up), gone with
 * the engine (it ends at the end of its stdin). Answers come in the order of the requests. Undefined
 * from a call means the helper is not available: the caller runs the binary.
 */
class Mounter {
  private readonly pending: Pending[] = [];
  private readonly helper: LineHelper;

  constructor() {
    const [nrMount, nrUmount2] = SYSCALLS[process.arch] ?? [0, 0];
    this.helper = new LineHelper('perl', ['-e', HELPER, String(nrMount), String(nrUmount2)], {
      encoding: 'utf8',
      disabled: !SYSCALLS[process.arch] || process.env.BERTH_MOUNT_HELPER === '0',
      line: (line) => {
        this.pending.shift()?.resolve(line);
        if (this.pending.length === 0) this.helper.awaiting(false);
      },
      // Requests it did not answer are answered "no helper": their callers run the binary.
      gone: () => {
        for (const p of this.pending.splice(0)) p.resolve('');
      },
    });
  }

  /** True once mounted; throws the mount's error; undefined without a helper. */
  async mount(source: string, target: string, type: string, flags: number, data: string): Promise<true | undefined> {
    const answer = await this.request(['m', source, target, type, String(flags), data]);
    if (answer === undefined) return undefined;
    if (answer !== '0') throw new Error(`mount ${type} at ${target}: ${answer.replace(/^\d+ /, '')}`);
    return true;
  }

  /** True once unmounted, false when the call failed, undefined without a helper. */
  async unmount(target: string, flags: number): Promise<boolean | undefined> {
    const answer = await this.unmountAnswer(target, flags);
    return answer === undefined ? undefined : answer === 0;
  }

  /** umount2's errno (0: unmounted), undefined without a helper. */
  async unmountAnswer(target: string, flags: number): Promise<number | undefined> {
    const answer = await this.request(['u', target, String(flags)]);
    return answer === undefined ? undefined : Number.parseInt(answer, 10);
  }

  private request(fields: string[]): Promise<string | undefined> {
    if (fields.some((f) => /[\t\n]/.test(f)) || !this.helper.available()) return Promise.resolve(undefined);
    // Referenced while an answer is awaited (a short-lived `berth cleanup` must not exit before it).
    if (this.pending.length === 0) this.helper.awaiting(true);
    return new Promise((resolve) => {
      this.pending.push({ resolve: (answer) => resolve(answer === '' ? undefined : answer) });
      this.helper.send(fields.join('\t'));
    });
  }
}

const mounter = new Mounter();
