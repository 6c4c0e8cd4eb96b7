// Facts about the host the engine runs on, gathered once at start for /info and /version.
import { execFile } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import os from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { type IdMapping, ownIdMap } from '../rootless/idmap.js';
import { containerControllers, limitSupport } from '../oci/controllers.js';
import { rootless } from '../rootless/mode.js';
import { withoutCgroups } from '../rootless/cgroups.js';

const run = promisify(execFile);

export interface RuntimeInfo {
  name: string;
  path: string;
  version: string; // first line of `--version`, e.g. "1.1.5+ds1"
  commit: string;
}

export interface HostFacts {
  kernelVersion: string;
  operatingSystem: string;
  osVersion: string;
  architecture: string; // uname -m style: x86_64
  goArch: string; // Docker's: amd64
  ncpu: number;
  memTotal: number;
  hostname: string;
  cgroupVersion: '1' | '2';
  cgroupDriver: 'cgroupfs' | 'systemd';
  runtimes: RuntimeInfo[];
  defaultRuntime: string;
  securityOptions: string[];
  conmonVersion?: string;
  conmonPath?: string;
  /** Whether containers get cgroup limits (not a rootless engine without a delegated cgroup). */
  cgroupLimits: boolean;
  /** The controllers limits use that the host has (v2 names: memory, cpu, cpuset, pids, io). */
  limitControllers: string[];
  /** Rootless: the engine's user namespace maps (ns id → host id), which podman's info shows. */
  idMappings?: { uidmap: IdMapping[]; gidmap: IdMapping[] };
}

async function which(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    const path = join(dir, name);
    try {
      await access(path, constants.X_OK);
      return path;
    } catch {
      // not in this dir
    }
  }
  return undefined;
}

async function versionOf(path: string): Promise<{ version: string; commit: string }> {
  try {
    const { stdout } = await run(path, ['--version'], { timeout: 5000 });
    const version = /version:?\s+(\S+)/i.exec(stdout)?.[1] ?? 'unknown';
    const commit = /commit:\s+(\S+)/i.exec(stdout)?.[1] ?? '';
    return { version, commit };
  } catch {
    return { version: 'unknown', commit: '' };
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function osRelease(): Promise<{ name: string; version: string }> {
  try {
    const text = await readFile('/etc/os-release', 'utf8');
    const get = (k: string) => new RegExp(`^${k}="?([^"\\n]*)"?$`, 'm').exec(text)?.[1];
    return { name: get('PRETTY_NAME') ?? 'Linux', version: get('VERSION_ID') ?? '' };
  } catch {
    return { name: 'Linux', version: '' };
  }
}

export async function hostFacts(defaultRuntime = 'runc'): Promise<HostFacts> {
  // The runtimes' and conmon's `--version` run side by side: each is a process start (10–30 ms).
  const conmonFound = which('conmon');
  const conmonVersion = conmonFound.then((path) => (path ? versionOf(path) : undefined));
  const found = await Promise.all(
    ['runc', 'crun'].map(async (name) => {
      const path = await which(name);
      return path ? { name, path, ...(await versionOf(path)) } : undefined;
    }),
  );
  const runtimes: RuntimeInfo[] = found.filter((r) => r !== undefined);
  const conmon = await conmonFound;
  const cgroupVersion = (await exists('/sys/fs/cgroup/cgroup.controllers')) ? '2' : '1';
  const securityOptions: string[] = [];
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  if (/^Seccomp:/m.test(status)) securityOptions.push('name=seccomp,profile=builtin');
  if ((await readFile('/sys/module/apparmor/parameters/enabled', 'utf8').catch(() => 'N')).startsWith('Y')) securityOptions.unshift('name=apparmor');
  if (cgroupVersion === '2') securityOptions.push('name=cgroupns');
  // As a rootless dockerd says of itself.
  if (rootless()) securityOptions.push('name=rootless');
  const release = await osRelease();
  const arch = os.arch();
  return {
    kernelVersion: os.release(),
    operatingSystem: release.name,
    osVersion: release.version,
    architecture: os.machine?.() ?? arch,
    goArch: arch === 'x64' ? 'amd64' : arch,
    ncpu: os.cpus().length,
    memTotal: os.totalmem(),
    hostname: os.hostname(),
    cgroupVersion,
    cgroupDriver: 'cgroupfs',
    runtimes,
    defaultRuntime,
    securityOptions,
    conmonVersion: (await conmonVersion)?.version,
    conmonPath: conmon,
    cgroupLimits: !withoutCgroups(),
    limitControllers: [...limitSupport(await containerControllers())].filter((c) => ['memory', 'cpu', 'cpuset', 'pids', 'io'].includes(c)),
    idMappings: rootless() ? { uidmap: ownIdMap('uid'), gidmap: ownIdMap('gid') } : undefined,
  };
}
