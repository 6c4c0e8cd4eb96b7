// Host facts libpod's `info` and `version` report beyond what /info needs at start: the Debian packages
// and full `--version` texts of conmon and the OCI runtime (read once, on first ask: a dpkg query per
// binary is too slow for every engine start), and what changes (uptime, free memory, CPU use, the
// graph root's file system), read on each ask.
import { execFile } from 'node:child_process';
import { readFile, statfs } from 'node:fs/promises';
import os from 'node:os';
import { promisify } from 'node:util';
import type { HostFacts } from './host.js';
import { containerControllers } from '../oci/controllers.js';

const run = promisify(execFile);

export interface Binary {
  path: string;
  /** `name_version_arch` of the Debian package holding it ('' when none does). */
  package: string;
  /** `--version`, trimmed. */
  version: string;
}

export interface StaticDetails {
  conmon: Binary;
  runtime: Binary;
  distribution: { distribution: string; version: string; codename: string };
  /** The cgroup controllers available (v1: those mounted, in /proc/cgroups order; v2: the root's). */
  cgroupControllers: string[];
}

export interface LiveDetails {
  memFree: number;
  swapFree: number;
  swapTotal: number;
  /** Seconds since boot. */
  uptime: number;
  cpuUtilization: { userPercent: number; systemPercent: number; idlePercent: number };
  graph: { backingFilesystem: string; allocated: number; used: number };
}

async function packageOf(path: string): Promise<string> {
  try {
    const owner = (await run('dpkg', ['-S', path], { timeout: 5000 })).stdout.split(':')[0]!.trim();
    const { stdout } = await run('dpkg-query', ['--show', '-f', '${Package}_${Version}_${Architecture}', owner], { timeout: 5000 });
    return stdout.trim();
  } catch {
    return '';
  }
}

async function binary(path: string | undefined): Promise<Binary> {
  if (!path) return { path: '', package: '', version: '' };
  const [pkg, version] = await Promise.all([
    packageOf(path),
    run(path, ['--version'], { timeout: 5000 }).then(
      (r) => r.stdout.trim(),
      () => '',
    ),
  ]);
  return { path, package: pkg, version };
}

async function osRelease(): Promise<StaticDetails['distribution']> {
  const text = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const get = (k: string) => new RegExp(`^${k}="?([^"\\n]*)"?$`, 'm').exec(text)?.[1] ?? '';
  return { distribution: get('ID'), version: get('VERSION_ID'), codename: get('VERSION_CODENAME') };
}

let cached: Promise<StaticDetails> | undefined;

/** Read once per process. */
export function readStaticDetails(host: HostFacts, conmonPath: string | undefined): Promise<StaticDetails> {
  const runtime = host.runtimes.find((r) => r.name === host.defaultRuntime) ?? host.runtimes[0];
  cached ??= Promise.all([binary(conmonPath), binary(runtime?.path), osRelease(), containerControllers()]).then(
    ([conmon, rt, distribution, cgroupControllers]) => ({
      conmon,
      runtime: rt,
      distribution,
      cgroupControllers,
    }),
  );
  return cached;
}

/** statfs's f_type → the name containers/storage reports as the backing file system. */
const FS_NAMES: Record<number, string> = {
  0xef53: 'extfs',
  0x58465342: 'xfs',
  0x9123683e: 'btrfs',
  0x01021994: 'tmpfs',
  0x794c7630: 'overlayfs',
  0x2fc12fc1: 'zfs',
  0x6969: 'nfs',
  0xf2f52010: 'f2fs',
};

export async function liveDetails(graphRoot: string): Promise<LiveDetails> {
  const [meminfo, uptime, stat, fs] = await Promise.all([
    readFile('/proc/meminfo', 'utf8').catch(() => ''),
    readFile('/proc/uptime', 'utf8').catch(() => '0'),
    readFile('/proc/stat', 'utf8').catch(() => ''),
    statfs(graphRoot).catch(() => undefined),
  ]);
  const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(meminfo)?.[1] ?? 0) * 1024;
  // Since boot, as podman reports it: user (with nice), system, idle shares of all CPU time.
  const [user = 0, nice = 0, system = 0, idle = 0, ...rest] = (/^cpu\s+(.*)$/m.exec(stat)?.[1] ?? '').split(/\s+/).map(Number);
  const total = user + nice + system + idle + rest.reduce((a, b) => a + b, 0) || 1;
  const pct = (n: number) => Math.round((n / total) * 10000) / 100;
  return {
    memFree: os.freemem(),
    swapFree: kib('SwapFree'),
    swapTotal: kib('SwapTotal'),
    uptime: Number(uptime.split(/\s+/)[0]),
    cpuUtilization: { userPercent: pct(user + nice), systemPercent: pct(system), idlePercent: pct(idle) },
    graph: fs
      ? { backingFilesystem: FS_NAMES[fs.type] ?? `0x${fs.type.toString(16)}`, allocated: fs.blocks * fs.bsize, used: (fs.blocks - fs.bfree) * fs.bsize }
      : { backingFilesystem: '', allocated: 0, used: 0 },
  };
}
