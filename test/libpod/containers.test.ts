// podman --remote create / run -d / ps / inspect / rm / rename / exists / prune against berth, with
// podman's own service as the oracle where the output is the point.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { TestEngine } from '../helpers/engine.js';
import { PodmanService, sideBySide, type PodmanClient } from '../helpers/podman.js';

const images = inject('images');
let engine: TestEngine;
let berth: PodmanClient;
let oracle: PodmanService;
beforeAll(async () => {
  ({ engine, berth, oracle } = await sideBySide({ subnet: '10.231.1.0/24', busybox: images.busybox.archive, dockerName: true }));
}, 120_000);
afterAll(async () => {
  await Promise.all([engine?.destroy(), oracle?.stop()]);
});

/** Runs the same podman command against both; returns [berth's, oracle's]. */
const both = (args: string[]) => Promise.all([berth.podman(args), oracle.podman(args)]);

describe('podman --remote containers', () => {
  it('run -d, ps, inspect, stop, rm as against podman', async () => {
    const run = ['run', '-d', '--name', 'c1', '-e', 'A=1', '-l', 'l=1', '-v', 'cvol:/data', 'busybox', 'sleep', '1000'];
    const [ours, theirs] = await both(run);
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.code, ours.stderr).toBe(0);
    expect(ours.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    const ps = ['ps', '--format', '{{.Names}} {{.Image}} {{.Command}} {{.Labels}} {{.Ports}} {{.Networks}}'];
    const [ps1, ps2] = await both(ps);
    expect(ps1).toMatchObject({ code: 0, stdout: ps2.stdout });
    const format = [
      'inspect',
      '--format',
      '{{.Name}} {{.State.Status}} {{.State.Running}} {{.ImageName}} {{.Config.Cmd}} {{.Config.Labels}} {{.HostConfig.NetworkMode}} {{.Config.StopSignal}} {{.Config.Umask}} {{.HostConfig.Binds}} {{range .Mounts}}{{.Name}} {{.Options}}{{end}} {{.EffectiveCaps}}',
      'c1',
    ];
    const [i1, i2] = await both(format);
    expect(i1).toMatchObject({ code: 0, stdout: i2.stdout });
    const env = (await berth.ok(['inspect', '--format', '{{json .Config.Env}}', 'c1'])).trim();
    expect(JSON.parse(env)).toEqual(expect.arrayContaining(['A=1', 'container=podman', 'TERM=xterm']));
    const [pid] = await both(['inspect', '--format', '{{.State.Pid}} {{.State.ConmonPid}}', 'c1']);
    expect(pid.stdout).toMatch(/^[1-9]\d* [1-9]\d*\n$/);
    const [rm1, rm2] = await both(['rm', 'c1']);
    expect(rm1).toMatchObject({ code: rm2.code, stderr: rm2.stderr.replace(/[0-9a-f]{64}/, ours.stdout.trim()) });
    const [st1, st2] = await both(['stop', '-t', '0', 'c1']);
    expect(st1).toMatchObject({ code: 0, stdout: st2.stdout });
    const [ex1, ex2] = await both(['ps', '-a', '--format', '{{.Names}} {{.ExitCode}} {{.Exited}}']);
    expect(ex1).toMatchObject({ code: 0, stdout: ex2.stdout });
    expect(await berth.ok(['ps', '-a', '--format', '{{.Status}}'])).toMatch(/^Exited \(137\) .* ago\n$/);
    const [r1, r2] = await both(['rm', '-v', 'c1']);
    expect(r1).toMatchObject({ code: 0, stdout: r2.stdout });
    await Promise.all([engine.docker(['volume', 'rm', 'cvol']), oracle.podman(['volume', 'rm', 'cvol'])]);
    const [m1, m2] = await both(['rm', 'c1']);
    expect(m2.code).toBe(1);
    expect(m1).toMatchObject({ code: 1, stderr: m2.stderr });
  });

  it('refuses a name in use with podman words and exit code', async () => {
    // One character is a name to podman (Docker needs two).
    const [o1, o2] = await both(['create', '--name', 'd', 'busybox', 'true']);
    expect(o2.code, o2.stderr).toBe(0);
    expect(o1.code, o1.stderr).toBe(0);
    await both(['rm', 'd']);
    await berth.ok(['create', '--name', 'dup', 'busybox', 'true']);
    await oracle.client.ok(['create', '--name', 'dup', 'busybox', 'true']);
    const [ours, theirs] = await both(['create', '--name', 'dup', 'busybox', 'true']);
    expect(theirs.code).toBe(125);
    const id = (await berth.ok(['inspect', '--format', '{{.Id}}', 'dup'])).trim();
    const oid = (await oracle.client.ok(['inspect', '--format', '{{.Id}}', 'dup'])).trim();
    expect(ours).toMatchObject({ code: 125, stderr: theirs.stderr.replace(oid, id) });
    await both(['rm', 'dup']);
  });
});
