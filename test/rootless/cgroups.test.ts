// A rootless engine's cgroups: on this cgroup v1 host its containers get none, so limits are dropped
// with podman's warning (libpod) or silently (compat), and stats and update say why they cannot be had.
// The v2 decision is checked on fixtures here, and for real under a user manager in user-manager.test.ts.
// Also the spec's other rootless adjustments: host namespaces' /sys, /proc and /dev/mqueue bound,
// oom_score_adj not below the engine's, a ulimit above the user's hard limit refused clearly.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allowedLimits, decideCgroups, ownCgroup, prepareDelegated, V1_LIMITS_WARNING, V1_STATS_ERROR } from '../../runtime/rootless/cgroups.js';
import { RootlessEngine, RootlessUser } from '../helpers/rootless.js';

describe('the rootless cgroup decision (fixtures)', () => {
  const v2Self = '0::/user.slice/user-1000.slice/user@1000.service/app.slice/berth.service\n';

  it('finds the engine’s own v2 cgroup, less the engine leaf a former engine made', () => {
    expect(ownCgroup(v2Self)).toBe('user.slice/user-1000.slice/user@1000.service/app.slice/berth.service');
    expect(ownCgroup('0::/user.slice/u/berth.service/engine\n')).toBe('user.slice/u/berth.service');
    expect(ownCgroup('0::/user.slice/u/app.slice/run-r1.scope/pause\n')).toBe('user.slice/u/app.slice/run-r1.scope');
    // This VM's hybrid host: v1 lines and an empty v2 one.
    expect(ownCgroup('4:memory:/process_api/x\n1:cpu:/\n0::/\n')).toBe('');
    expect(ownCgroup('4:memory:/x\n')).toBeUndefined();
  });

  it('gives no cgroup on v1 and on a v2 cgroup that is not ours, the delegated one otherwise', () => {
    expect(decideCgroups({ unifiedMount: undefined, own: '', writable: false, controllers: '' })).toEqual({ kind: 'none', v2: false });
    const own = ownCgroup(v2Self);
    expect(decideCgroups({ unifiedMount: '/sys/fs/cgroup', own, writable: false, controllers: 'memory pids' })).toEqual({ kind: 'none', v2: true });
    expect(decideCgroups({ unifiedMount: '/sys/fs/cgroup', own: '', writable: true, controllers: 'memory' })).toEqual({ kind: 'none', v2: true });
    expect(decideCgroups({ unifiedMount: '/sys/fs/cgroup', own, writable: true, controllers: 'cpu memory pids\n' })).toEqual({
      kind: 'delegated',
      mount: '/sys/fs/cgroup',
      base: own,
      leaf: 'engine',
      controllers: ['cpu', 'memory', 'pids'],
    });
    // The pause's delegated scope: its processes go to the pause leaf.
    expect(decideCgroups({ unifiedMount: '/sys/fs/cgroup', own: 'a/run-r1.scope', leaf: 'pause', writable: true, controllers: 'memory' })).toMatchObject({
      base: 'a/run-r1.scope',
      leaf: 'pause',
    });
  });

  it('moves the engine into the engine leaf and turns the delegated controllers on for the containers (a fixture tree)', async () => {
    const mount = await mkdtemp(join(tmpdir(), 'rl-cgroup-'));
    try {
      const base = 'user.slice/u/berth.service';
      await mkdir(join(mount, base), { recursive: true });
      await writeFile(join(mount, base, 'cgroup.procs'), '4242\n');
      expect(await prepareDelegated({ kind: 'delegated', mount, base, leaf: 'engine', controllers: ['cpu', 'memory', 'pids'] })).toEqual([
        'cpu',
        'memory',
        'pids',
      ]);
      const read = (f: string) => readFile(join(mount, base, f), 'utf8');
      expect(await read('engine/cgroup.procs')).toBe('4242');
      expect(await read('cgroup.subtree_control')).toBe('+cpu\n+memory\n+pids\n');
      expect(await read('containers/cgroup.subtree_control')).toBe('+cpu\n+memory\n+pids\n');
    } finally {
      await rm(mount, { recursive: true, force: true });
    }
  });

  it('drops every limit with podman’s warning on v1, only those of controllers not delegated on v2', () => {
    const r = { memory: 64 << 20, nanoCpus: 1e9, pidsLimit: 10, blkioWeight: 100, shmSize: 1 << 20, memorySwappiness: -1 };
    const v1 = allowedLimits(r, { kind: 'none', v2: false });
    expect(v1.resources).toEqual({ shmSize: 1 << 20, memorySwappiness: -1 });
    expect(v1.warnings).toEqual([V1_LIMITS_WARNING]);
    const v2 = allowedLimits(r, {
      kind: 'delegated',
      mount: '/sys/fs/cgroup',
      base: 'u/berth.service',
      leaf: 'engine',
      controllers: ['memory', 'pids', 'cpu'],
    });
    expect(v2.resources).toEqual({ memory: 64 << 20, nanoCpus: 1e9, pidsLimit: 10, shmSize: 1 << 20, memorySwappiness: -1 });
    expect(v2.warnings).toEqual(['Resource limits ignored: the io cgroup controller(s) are not delegated to u/berth.service (delegated: memory pids cpu)']);
    expect(allowedLimits({ shmSize: 1 }, { kind: 'none', v2: false }).warnings).toEqual([]);
  });
});

describe('a rootless engine on this cgroup v1 host', () => {
  let user: RootlessUser;
  let engine: RootlessEngine;

  beforeAll(async () => {
    engine = await RootlessEngine.forNewUser('rlstore', { load: inject('images').busybox.archive });
    user = engine.user;
  });

  afterAll(() => engine?.destroyWithUser());

  /** An API call as the user, on the engine's socket. */
  const api = async (method: string, path: string, body?: object) => {
    const r = await user.run('curl', [
      '-s',
      '--unix-socket',
      engine.socket,
      '-X',
      method,
      '-H',
      'Content-Type: application/json',
      ...(body ? ['-d', JSON.stringify(body)] : []),
      '-w',
      '\n%{http_code}',
      `http://d${path}`,
    ]);
    const at = r.stdout.lastIndexOf('\n');
    return { status: Number(r.stdout.slice(at + 1)), body: r.stdout.slice(0, at) };
  };

  it('runs a container without a cgroup of its own (runc is given none)', async () => {
    const own = await engine.ok(['run', '--rm', '--network', 'none', 'busybox', 'cat', '/proc/self/cgroup']);
    // No berth/<id> cgroup in any hierarchy: the container stays in the engine's.
    expect(own).not.toContain('berth');
  });

  it('warns as podman does for limits on `podman --remote run -m`, and runs the container', async () => {
    const r = await engine.podman(['run', '--rm', '--network', 'none', '-m', '64m', '--pids-limit', '10', 'busybox', 'echo', 'ran']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('ran');
    expect(r.stderr).toContain(V1_LIMITS_WARNING);
  });

  it('answers libpod’s create with the warning and compat’s without, both creating the container with no limits', async () => {
    const libpod = await api('POST', '/v4.0.0/libpod/containers/create', { image: 'busybox', name: 'lp', resource_limits: { memory: { limit: 64 << 20 } } });
    expect(libpod.status).toBe(201);
    expect(JSON.parse(libpod.body).Warnings).toEqual([V1_LIMITS_WARNING]);
    const compat = await api('POST', '/containers/create?name=cp', { Image: 'busybox', HostConfig: { Memory: 64 << 20, NanoCpus: 1e9, PidsLimit: 10 } });
    expect(compat.status).toBe(201);
    expect(JSON.parse(compat.body).Warnings).toEqual([]);
    for (const name of ['lp', 'cp']) {
      expect((await engine.ok(['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}', name])).trim()).toBe('0 0');
    }
    await engine.ok(['rm', 'lp', 'cp']);
  });

  it('runs `docker run -m --cpus --pids-limit --cpu-shares --blkio-weight` with the limits dropped', async () => {
    await engine.ok([
      'run',
      '-d',
      '--name',
      'limited',
      '--network',
      'none',
      '-m',
      '64m',
      '--cpus',
      '1',
      '--pids-limit',
      '10',
      '--cpu-shares',
      '512',
      '--blkio-weight',
      '100',
      'busybox',
      'sleep',
      '300',
    ]);
    expect((await engine.ok(['inspect', '-f', '{{.State.Running}} {{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}', 'limited'])).trim()).toMatch(
      /^true 0 (0|<nil>)$/,
    );
  });

  it('refuses stats with podman’s message (docker and podman --remote, compat and libpod: 409)', async () => {
    const d = await engine.docker(['stats', '--no-stream', 'limited']);
    expect(d.code).not.toBe(0);
    expect(d.stderr).toContain(V1_STATS_ERROR);
    const p = await engine.podman(['stats', '--no-stream', 'limited']);
    expect(p.code).not.toBe(0);
    expect(p.stderr).toContain(V1_STATS_ERROR);
    expect((await api('GET', '/containers/limited/stats?stream=false')).status).toBe(409);
    expect((await api('GET', '/v4.0.0/libpod/containers/stats?stream=false')).status).toBe(409);
  });

  it('runs pods without a pod cgroup, and refuses pod stats as podman does', async () => {
    await engine.podman(['pod', 'create', '--name', 'rlpod', '--network', 'none', '-m', '64m']).then((r) => expect(r.stderr).toBe(''));
    const r = await engine.podman(['run', '--rm', '--pod', 'rlpod', 'busybox', 'echo', 'in-pod']);
    expect(r.stdout.trim()).toBe('in-pod');
    const stats = await engine.podman(['pod', 'stats', '--no-stream', 'rlpod']);
    expect(stats.code).not.toBe(0);
    expect(stats.stderr).toContain(`pod ${V1_STATS_ERROR}`);
    expect((await engine.podman(['pod', 'rm', '-f', 'rlpod'])).code).toBe(0);
  });

  it('refuses docker update with limits, with the same message', async () => {
    const r = await engine.docker(['update', '-m', '100m', 'limited']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(V1_LIMITS_WARNING);
    // A restart policy alone is not a limit.
    await engine.ok(['update', '--restart', 'unless-stopped', 'limited']);
    await engine.ok(['rm', '-f', 'limited']);
  });

  it('stops, lists (top), commits running and refuses pause without a cgroup (runc kill --all, ps and freeze need one)', async () => {
    await engine.ok(['run', '-d', '--name', 'procs', '--network', 'none', 'busybox', 'sh', '-c', 'sleep 300 & sleep 301']);
    const top = await engine.ok(['top', 'procs']);
    expect(top).toContain('sleep 300');
    expect(top).toContain('sleep 301');
    const pause = await engine.docker(['pause', 'procs']);
    expect(pause.code).not.toBe(0);
    expect(pause.stderr).toContain('can not pause containers on rootless containers with cgroup V1');
    await engine.ok(['commit', 'procs', 'rl-procs']);
    // PID 1 ignores SIGTERM: stop's SIGKILL after one second ends it (and its PID namespace).
    const started = Date.now();
    await engine.ok(['stop', '-t', '1', 'procs']);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await engine.ok(['inspect', '-f', '{{.State.Status}}', 'procs'])).trim()).toBe('exited');
    await engine.ok(['rm', 'procs']);
    await engine.ok(['rmi', 'rl-procs']);
  });

  it('binds the host’s /sys, /proc and /dev/mqueue for host namespaces (a new sysfs, proc or mqueue is refused)', async () => {
    for (const mode of [
      ['--network', 'host'],
      ['--network', 'none', '--pid', 'host'],
      ['--network', 'none', '--ipc', 'host'],
      ['--network', 'host', '--privileged'],
    ]) {
      const out = await engine.ok(['run', '--rm', ...mode, 'busybox', 'sh', '-c', 'ls /sys/class >/dev/null && ls /proc/self/ >/dev/null && echo ok']);
      expect(out.trim(), mode.join(' ')).toBe('ok');
    }
  });

  it('keeps oom_score_adj at least the engine’s (lowering it needs privilege), and takes a higher one', async () => {
    const own = (await engine.user.run('cat', [`/proc/${engine.pid}/oom_score_adj`])).stdout.trim();
    expect((await engine.ok(['run', '--rm', '--network', 'none', '--oom-score-adj', '-500', 'busybox', 'cat', '/proc/self/oom_score_adj'])).trim()).toBe(own);
    expect((await engine.ok(['run', '--rm', '--network', 'none', '--oom-score-adj', '500', 'busybox', 'cat', '/proc/self/oom_score_adj'])).trim()).toBe('500');
  });

  it('takes ulimits within the user’s hard limit and says so for one above it', async () => {
    const hard = Number((await engine.user.run('sh', ['-c', 'ulimit -Hn'])).stdout.trim());
    expect((await engine.ok(['run', '--rm', '--network', 'none', '--ulimit', `nofile=100:${hard}`, 'busybox', 'sh', '-c', 'ulimit -n'])).trim()).toBe('100');
    const r = await engine.docker(['run', '--rm', '--network', 'none', '--ulimit', `nofile=${hard + 1}:${hard + 1}`, 'busybox', 'true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`ulimit nofile=${hard + 1}:${hard + 1}: the hard limit is above the user's own`);
  });

  it('runs the common options: --cap-add, --tmpfs, a volume, --read-only, --init, -u 1000, --device, --shm-size', async () => {
    const runs: [string[], string, string][] = [
      [['--cap-add', 'NET_ADMIN'], 'ip link set lo down && echo ok', 'ok'],
      [['--tmpfs', '/run:size=1m'], 'df /run | tail -1 | grep -q tmpfs && echo ok', 'ok'],
      [['-v', 'rlvol:/data'], 'echo x > /data/x && cat /data/x', 'x'],
      [['--read-only'], 'touch /x 2>/dev/null || echo ro', 'ro'],
      [['--init'], 'cat /proc/1/cmdline | tr "\\0" " "', '/sbin/docker-init -- sh -c cat /proc/1/cmdline | tr "\\0" " "'],
      [['-u', '1000'], 'id -u', '1000'],
      [['--device', '/dev/null:/dev/mynull'], 'echo x > /dev/mynull && echo ok', 'ok'],
      [['--shm-size', '10m'], 'df -k /dev/shm | tail -1 | awk "{print \\$2}"', '10240'],
    ];
    for (const [opts, cmd, want] of runs) {
      const out = await engine.ok(['run', '--rm', '--network', 'none', ...opts, 'busybox', 'sh', '-c', cmd]);
      expect(out.trim(), opts.join(' ')).toBe(want);
    }
    await engine.ok(['volume', 'rm', 'rlvol']);
  });
});
