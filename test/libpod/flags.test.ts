// podman --remote run -d with the flags of a typical container: what inspect shows of them, compared with
// podman's own service, and what the container gets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TEST_BASE, TestEngine } from '../helpers/engine.js';
import { PodmanService, sideBySide, type PodmanClient } from '../helpers/podman.js';

const images = inject('images');
let engine: TestEngine;
let berth: PodmanClient;
let oracle: PodmanService;
let dir: string;
beforeAll(async () => {
  ({ engine, berth, oracle } = await sideBySide({ subnet: '10.231.1.0/24', busybox: images.busybox.archive, dockerName: true }));
  dir = await mkdtemp(join(TEST_BASE, 'berth-flags-'));
  await writeFile(join(dir, 'envfile'), 'B=2\nC=3\n');
  await writeFile(join(dir, 'hello'), 'hi\n');
}, 120_000);
afterAll(async () => {
  await Promise.all([engine?.destroy(), oracle?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

const both = (args: string[]) => Promise.all([berth.podman(args), oracle.podman(args)]);

describe('podman --remote run -d with flags', () => {
  it('shows the flags in inspect as podman does, and the container has them', async () => {
    const run = (port: string) => [
      'run',
      '-d',
      '--name',
      'full',
      '-e',
      'A=1',
      '--env-file',
      join(dir, 'envfile'),
      '-p',
      `${port}:80`,
      '-v',
      'fvol:/data:Z',
      '-v',
      `${dir}:/host:ro,z`,
      '-v',
      '/anon',
      '--mount',
      `type=bind,src=${dir},dst=/h3,ro=true`,
      '--tmpfs',
      '/run2:size=1m',
      '-w',
      '/tmp',
      '-u',
      '1000:1000',
      '--entrypoint',
      '/bin/sh',
      '--init',
      '--restart',
      'on-failure:3',
      '--hostname',
      'hh',
      '--cap-add',
      'NET_ADMIN',
      '--cap-drop',
      'CHOWN',
      '--security-opt',
      'no-new-privileges',
      '--memory',
      '64m',
      '--cpus',
      '0.5',
      '--pids-limit',
      '100',
      '--health-cmd',
      'true',
      '--health-interval',
      '30s',
      '--label',
      'l=1',
      '--annotation',
      'a=b',
      '--stop-signal',
      'SIGUSR1',
      'busybox',
      '-c',
      'sleep 1000',
    ];
    const [ours, theirs] = await Promise.all([berth.podman(run('18391')), oracle.podman(run('18392'))]);
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.code, ours.stderr).toBe(0);
    const format = [
      'inspect',
      '--format',
      [
        '{{.State.Status}} {{.Config.Hostname}} {{.Config.User}} {{.Config.WorkingDir}} {{.Config.Entrypoint}} {{.Config.Cmd}}',
        '{{.Config.StopSignal}} {{.Config.Labels}} {{index .Config.Annotations "a"}} {{.Config.Healthcheck.Test}} {{.Config.Healthcheck.Interval}}',
        '{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}} {{.HostConfig.CapAdd}} {{.HostConfig.CapDrop}}',
        '{{.HostConfig.SecurityOpt}} {{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpuQuota}} {{.HostConfig.PidsLimit}}',
        '{{.HostConfig.Tmpfs}} {{.HostConfig.NetworkMode}} {{.HostConfig.IpcMode}} {{len .HostConfig.Binds}}',
      ].join('|'),
      'full',
    ];
    const [i1, i2] = await both(format);
    expect(i2.code, i2.stderr).toBe(0);
    expect(i1).toMatchObject({ code: 0, stdout: i2.stdout });
    const env = JSON.parse(await berth.ok(['inspect', '--format', '{{json .Config.Env}}', 'full']));
    expect(env).toEqual(expect.arrayContaining(['A=1', 'B=2', 'C=3']));
    // podman port reads NetworkSettings.Ports.
    const [p1, p2] = await both(['port', 'full']);
    expect(p1).toMatchObject({ code: 0, stdout: p2.stdout.replace('18392', '18391') });
    // Mounts: a named volume, two binds, an anonymous volume (tmpfs is not a mount point in inspect).
    const mounts = ['inspect', '--format', '{{range .Mounts}}{{.Type}}:{{.Destination}}:{{.RW}} {{end}}', 'full'];
    const [m1, m2] = await both(mounts);
    expect(m1.stdout.trim().split(' ').sort()).toEqual(m2.stdout.trim().split(' ').sort());
    // What the container has: the user, the workdir, the tmpfs, the read-only bind, the init as PID 1.
    const [e1, e2] = await both([
      'exec',
      'full',
      'sh',
      '-c',
      'id -u; pwd; cat /host/hello; touch /host/x 2>&1 | grep -c Read-only; grep -c /run2 /proc/mounts',
    ]);
    expect(e1).toMatchObject({ code: 0, stdout: e2.stdout });
    await both(['rm', '-f', '-v', 'full']);
    await both(['volume', 'rm', 'fvol']);
  });

  it('--network none and host', async () => {
    for (const net of ['none', 'host']) {
      const [ours, theirs] = await both(['run', '-d', '--name', `n-${net}`, '--network', net, 'busybox', 'sleep', '100']);
      expect(theirs.code, theirs.stderr).toBe(0);
      expect(ours.code, ours.stderr).toBe(0);
      const [i1, i2] = await both(['inspect', '--format', '{{.HostConfig.NetworkMode}} {{len .NetworkSettings.Networks}}', `n-${net}`]);
      expect(i1).toMatchObject({ code: 0, stdout: i2.stdout });
      await both(['rm', '-f', '-t', '0', `n-${net}`]);
    }
  });

  it('--replace removes the container of that name first', async () => {
    // --replace stops it with its stop timeout (sleep as PID 1 ignores SIGTERM): 1 s, not the default 10.
    await both(['run', '-d', '--name', 'rep', '--stop-timeout', '1', 'busybox', 'sleep', '100']);
    const first = (await berth.ok(['inspect', '--format', '{{.Id}}', 'rep'])).trim();
    const [ours, theirs] = await both(['run', '-d', '--replace', '--name', 'rep', 'busybox', 'sleep', '100']);
    // podman prints the replaced container's name, then the new ID.
    expect(theirs.stdout).toMatch(/^rep\n[0-9a-f]{64}\n$/);
    expect(ours).toMatchObject({ code: 0, stdout: expect.stringMatching(/^rep\n[0-9a-f]{64}\n$/) });
    const second = ours.stdout.split('\n')[1]!;
    expect(second).not.toBe(first);
    expect((await berth.ok(['ps', '-a', '-q', '--no-trunc', '--filter', 'name=rep'])).trim()).toBe(second);
    await both(['rm', '-f', '-t', '0', 'rep']);
  });

  it('-P with --expose, --network podman, a healthcheck, inspect of a missing container', async () => {
    const [ours, theirs] = await both(['run', '-d', '--name', 'pub', '-P', '--expose', '82', '--network', 'podman', 'busybox', 'sleep', '100']);
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.code, ours.stderr).toBe(0);
    const [i1, i2] = await both(['inspect', '--format', '{{.HostConfig.PublishAllPorts}} {{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}', 'pub']);
    expect(i1).toMatchObject({ code: 0, stdout: i2.stdout });
    expect((await berth.ok(['port', 'pub'])).trim()).toMatch(/^82\/tcp -> 0\.0\.0\.0:\d+$/);
    await both(['rm', '-f', '-t', '0', 'pub']);
    await berth.ok(['run', '-d', '--name', 'hc', '--health-cmd', 'true', '--health-interval', '1s', 'busybox', 'sleep', '100']);
    let health = '';
    for (let i = 0; i < 50 && health !== 'healthy'; i++) {
      health = (await berth.ok(['inspect', '--format', '{{.State.Health.Status}}', 'hc'])).trim();
      if (health !== 'healthy') await new Promise((r) => setTimeout(r, 200));
    }
    expect(health).toBe('healthy');
    expect(await berth.ok(['ps', '--format', '{{.Names}} {{.Status}}'])).toMatch(/^hc Up .* \(healthy\)\n$/);
    await berth.ok(['rm', '-f', '-t', '0', 'hc']);
    const [m1, m2] = await both(['container', 'inspect', 'nope']);
    expect(m2.code).toBe(125);
    expect(m1).toMatchObject({ code: m2.code, stderr: m2.stderr });
    const [s1, s2] = await both(['stop', 'nope']);
    expect(s1).toMatchObject({ code: s2.code, stderr: s2.stderr });
  });

  it('--umask and --tz reach the process', async () => {
    const run = [
      'run',
      '-d',
      '--name',
      'tz',
      '--umask',
      '0027',
      '--tz',
      'Asia/Tokyo',
      'busybox',
      'sh',
      '-c',
      'umask; date +%Z; ls -l /etc/localtime | grep -c Tokyo; sleep 100',
    ];
    const [ours, theirs] = await both(run);
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.code, ours.stderr).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    const [l1, l2] = await Promise.all([engine.docker(['logs', 'tz']), oracle.podman(['logs', 'tz'])]);
    expect(l2.stdout).toBe('0027\nJST\n0\n');
    expect(l1.stdout.split('\n').slice(0, 2)).toEqual(['0027', 'JST']);
    const [i1, i2] = await both(['inspect', '--format', '{{.Config.Umask}} {{.Config.Timezone}}', 'tz']);
    expect(i1).toMatchObject({ code: 0, stdout: i2.stdout });
    await both(['rm', '-f', '-t', '0', 'tz']);
    const [b1, b2] = await both(['create', '--tz', 'Nowhere/Place', 'busybox', 'true']);
    expect(b2.code).toBe(125);
    expect(b1).toMatchObject({ code: 125, stderr: b2.stderr });
  });

  it('--device makes the host device in the container', async () => {
    const [ours, theirs] = await both(['run', '-d', '--name', 'dev', '--device', '/dev/null:/dev/mynull', 'busybox', 'sleep', '100']);
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.code, ours.stderr).toBe(0);
    const [e1, e2] = await both(['exec', 'dev', 'sh', '-c', 'echo x > /dev/mynull && echo written; stat -c "%t,%T %F" /dev/mynull']);
    expect(e1).toMatchObject({ code: 0, stdout: e2.stdout });
    const [i1, i2] = await both(['inspect', '--format', '{{range .HostConfig.Devices}}{{.PathOnHost}}>{{.PathInContainer}}{{end}}', 'dev']);
    expect(i1).toMatchObject({ code: 0, stdout: i2.stdout });
    await both(['rm', '-f', '-t', '0', 'dev']);
    const [b1, b2] = await both(['create', '--device', '/dev/nope', 'busybox', 'true']);
    expect(b2.code).toBe(125);
    expect(b1.code).toBe(125);
  });

  it('--read-only: the root is read-only, the tmpfs mounts podman adds are writable', async () => {
    const [ours, theirs] = await both(['run', '-d', '--name', 'ro', '--read-only', 'busybox', 'sleep', '100']);
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.code, ours.stderr).toBe(0);
    const [e1, e2] = await both(['exec', 'ro', 'sh', '-c', 'touch /x 2>&1 | grep -c Read-only; touch /tmp/x /run/x /var/tmp/x && echo ok']);
    expect(e1).toMatchObject({ code: 0, stdout: e2.stdout });
    const [i1, i2] = await both(['inspect', '--format', '{{.HostConfig.ReadonlyRootfs}} {{len .HostConfig.Tmpfs}}', 'ro']);
    expect(i1).toMatchObject({ code: 0, stdout: i2.stdout });
    await both(['rm', '-f', '-t', '0', 'ro']);
  });

  it(':U gives the mount source to the container user', async () => {
    const dirs = await Promise.all([mkdtemp(join(TEST_BASE, 'berth-u-')), mkdtemp(join(TEST_BASE, 'berth-u-'))]);
    try {
      const run = (d: string) => ['run', '-d', '--name', 'uown', '-u', '1000:1001', '-v', `${d}:/h:U`, '-v', 'uvol:/data:U', 'busybox', 'sleep', '100'];
      const [ours, theirs] = await Promise.all([berth.podman(run(dirs[0]!)), oracle.podman(run(dirs[1]!))]);
      expect(theirs.code, theirs.stderr).toBe(0);
      expect(ours.code, ours.stderr).toBe(0);
      const [e1, e2] = await both(['exec', 'uown', 'sh', '-c', 'stat -c %u:%g /h /data; touch /h/f /data/f && echo ok']);
      expect(e2.stdout).toBe('1000:1001\n1000:1001\nok\n');
      expect(e1).toMatchObject({ code: 0, stdout: e2.stdout });
      await both(['rm', '-f', '-t', '0', '-v', 'uown']);
      await engine.docker(['volume', 'rm', 'uvol']);
      await oracle.podman(['volume', 'rm', 'uvol']);
    } finally {
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    }
  });
});
