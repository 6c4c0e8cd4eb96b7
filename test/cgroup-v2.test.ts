// A rootful berth on cgroup v2, as on most users' machines. This VM's cgroups are v1 (hybrid): the
// engine runs in a private mount namespace where the unified hierarchy (/sys/fs/cgroup/unified) is
// /sys/fs/cgroup, so runc, stats and the freezer take their v2 paths for real. v1 keeps memory, cpu,
// cpuset, pids and io from that hierarchy, as a kernel that disables a controller (a Raspberry Pi's
// memory cgroup) does: limits of those are dropped with dockerd's warnings (its answers were taken from
// dockerd run the same way), not failed by runc at start.
import { readFileSync } from 'node:fs';
import { readFile, readdir, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TestEngine } from './helpers/engine.js';
import { podmanClient } from './helpers/podman.js';

/** The hybrid host's v2 hierarchy, where it is not /sys/fs/cgroup itself. */
const UNIFIED = readFileSync('/proc/self/mountinfo', 'utf8')
  .split('\n')
  .filter((l) => l.split(' - ')[1]?.startsWith('cgroup2 '))
  .map((l) => l.split(' ')[4]!)
  .find((p) => p !== '/sys/fs/cgroup');

const MEMORY = 'Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.';
const PIDS = 'Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.';
const SHARES = 'Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.';
const NANO = 'NanoCPUs can not be set, as your kernel does not support CPU CFS scheduler or the cgroup is not mounted';

describe.skipIf(!UNIFIED)('rootful berth on cgroup v2 (the unified hierarchy of this hybrid host)', () => {
  let engine: TestEngine;
  /** The root's controllers for children before: runc enables every available one along a path it makes. */
  let enabledBefore: string[] = [];
  const subtree = (dir: string) => readFile(join(dir, 'cgroup.subtree_control'), 'utf8').then((t) => t.split(/\s+/).filter(Boolean));
  const cgroup = (id: string) => join(UNIFIED!, 'berth', id);
  const ok = async (args: string[]) => {
    const r = await engine.docker(args);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };

  beforeAll(async () => {
    enabledBefore = await subtree(UNIFIED!);
    engine = await TestEngine.create();
    await engine.start([], {}, ['unshare', '-m', '--propagation', 'private', 'sh', '-c', `mount --bind ${UNIFIED} /sys/fs/cgroup && exec "$0" "$@"`]);
    await ok(['load', '-i', inject('images').busybox.archive]);
  });

  afterAll(async () => {
    await engine?.destroy();
    // The engine's cgroup parent, empty once its containers went (other engines' may remain in it), and
    // the controllers runc turned on for children, turned off again from the bottom up.
    const parent = join(UNIFIED!, 'berth');
    for (const d of await readdir(parent).catch(() => [])) await rmdir(join(parent, d)).catch(() => undefined);
    await rmdir(parent).catch(() => undefined);
    for (const c of (await subtree(UNIFIED!)).filter((c) => !enabledBefore.includes(c)))
      for (const dir of [parent, UNIFIED!]) await writeFile(join(dir, 'cgroup.subtree_control'), `-${c}`).catch(() => undefined);
  });

  it('says cgroup v2 and, as dockerd, which limits it cannot hold', async () => {
    const info = (await engine.http('GET', '/info')).json();
    expect({ version: info.CgroupVersion, memory: info.MemoryLimit, pids: info.PidsLimit, shares: info.CPUShares }).toEqual({
      version: '2',
      memory: false,
      pids: false,
      shares: false,
    });
    expect(info.Warnings).toEqual(expect.arrayContaining(['WARNING: No memory limit support', 'WARNING: No cpu shares support', 'WARNING: No cpuset support']));
  });

  it('runs a container in its v2 cgroup: stats from cpu.stat, pause with cgroup.freeze, top', async () => {
    const id = await ok(['run', '-d', '--name', 'busy', 'busybox', 'sh', '-c', 'while :; do :; done']);
    const pid = Number(await ok(['inspect', '-f', '{{.State.Pid}}', id]));
    expect((await readFile(join(cgroup(id), 'cgroup.procs'), 'utf8')).split('\n')).toContain(String(pid));
    await new Promise((r) => setTimeout(r, 1500));
    const stats = (await engine.http('GET', `/containers/${id}/stats?stream=false`)).json();
    expect(stats.cpu_stats.cpu_usage.total_usage).toBeGreaterThan(100_000_000);
    await ok(['pause', id]);
    expect((await readFile(join(cgroup(id), 'cgroup.freeze'), 'utf8')).trim()).toBe('1');
    await ok(['unpause', id]);
    expect((await readFile(join(cgroup(id), 'cgroup.freeze'), 'utf8')).trim()).toBe('0');
    expect(await ok(['top', id])).toContain('while :; do :; done');
    await ok(['rm', '-f', id]);
    expect(
      await stat(cgroup(id)).then(
        () => 'there',
        () => 'gone',
      ),
    ).toBe('gone');
  });

  it('drops limits of missing controllers at create with dockerd’s warnings, and runs the container', async () => {
    const created = await engine.http('POST', '/containers/create?name=limited', {
      Image: 'busybox',
      Cmd: ['true'],
      HostConfig: { Memory: 32 << 20, PidsLimit: 10, CpuShares: 512, NetworkMode: 'none' },
    });
    expect({ status: created.status, warnings: created.json().Warnings }).toEqual({ status: 201, warnings: [MEMORY, PIDS, SHARES] });
    expect(await ok(['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.CpuShares}}', 'limited'])).toBe('0 0');
    expect((await engine.docker(['start', '-a', 'limited'])).code).toBe(0);
    // The CLI prints them as dockerd's.
    const run = await engine.docker(['run', '--rm', '--network', 'none', '-m', '32m', 'busybox', 'true']);
    expect({ code: run.code, err: run.stderr.trim() }).toEqual({ code: 0, err: `WARNING: ${MEMORY}` });
    const nano = await engine.http('POST', '/containers/create', { Image: 'busybox', HostConfig: { NanoCpus: 5e8 } });
    expect({ status: nano.status, message: nano.json().message }).toEqual({ status: 400, message: NANO });
    await ok(['rm', 'limited']);
  });

  it('update: the same warnings, NanoCpus refused', async () => {
    const id = await ok(['run', '-d', '--network', 'none', 'busybox', 'sleep', '60']);
    const r = await engine.http('POST', `/containers/${id}/update`, { Memory: 64 << 20 });
    expect({ status: r.status, body: r.json() }).toEqual({ status: 200, body: { Warnings: [MEMORY] } });
    const nano = await engine.http('POST', `/containers/${id}/update`, { NanoCpus: 1e8 });
    expect({ status: nano.status, message: nano.json().message }).toEqual({ status: 400, message: NANO });
    await ok(['rm', '-f', id]);
  });

  // The v1 hierarchies, hidden under the unified one mounted over /sys/fs/cgroup, were taken for
  // mounted: a pod's cgroup went to <unified>/cpu/berth/pod-<id>, <unified>/memory/... (left behind).
  it('makes a pod’s cgroup in the v2 hierarchy, its members under it, and removes it with the pod', async () => {
    const podman = await podmanClient(engine.socket, engine.dir);
    const pod = await podman.podman(['pod', 'create', '--name', 'v2pod', '--memory', '64m']);
    expect(pod.code, pod.stderr).toBe(0);
    const member = await podman.podman(['run', '-d', '--pod', 'v2pod', '--network', 'none', 'busybox', 'sleep', '60']);
    expect(member.code, member.stderr).toBe(0);
    const dir = join(UNIFIED!, 'berth', `pod-${pod.stdout.trim()}`);
    expect(await readdir(dir)).toContain(member.stdout.trim());
    for (const v1 of ['cpu', 'memory', 'pids']) expect(await stat(join(UNIFIED!, v1)).catch(() => undefined), v1).toBeUndefined();
    expect((await podman.podman(['pod', 'rm', '-f', '-t', '0', 'v2pod'])).code).toBe(0);
    expect(await stat(dir).catch(() => undefined)).toBeUndefined();
  });
});
