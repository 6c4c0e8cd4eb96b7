// podman --remote beside Podman's own service where the container engineers found berth's answers
// differed: libpod inspect's fixed fields, ps's ancestor filter, stop of an initialized container,
// and what the Docker view shows of libpod's own events.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TestEngine } from '../helpers/engine.js';
import { PodmanService, podmanClient, type PodmanClient } from '../helpers/podman.js';

const images = inject('images');
let engine: TestEngine;
let berth: PodmanClient;
let oracle: PodmanService;

beforeAll(async () => {
  [engine, oracle] = await Promise.all([TestEngine.start(), PodmanService.start({ subnet: '10.231.11.0/24' })]);
  berth = await podmanClient(engine.socket, engine.dir);
  for (const client of [berth, oracle.client]) await writeFile(client.env.REGISTRY_AUTH_FILE!, '{"auths":{}}');
  for (const client of [berth, oracle.client]) await client.ok(['load', '-i', images.busybox.archive]);
}, 120_000);

afterAll(async () => {
  await Promise.all([engine?.destroy(), oracle?.stop()]);
});

/** Both clients' results of the same command. */
const side = (args: string[]) => Promise.all([berth.podman(args), oracle.podman(args)]);
const both = (args: string[]) => Promise.all([berth.ok(args), oracle.client.ok(args)]);

describe('inspect', () => {
  it('shows podman’s OCI version, annotations and environment', async () => {
    await both(['create', '--name', 'insp', '-e', 'A=1', '-e', 'PATH=/bin', 'busybox', 'sleep', '100']);
    const [ours, theirs] = (await side(['inspect', 'insp'])).map((r) => JSON.parse(r.stdout)[0]);
    expect(ours.State.OciVersion).toBe(theirs.State.OciVersion);
    const created = 'io.kubernetes.cri-o.Created';
    expect(ours.Config.Annotations[created]).toBe(ours.Created);
    const annotations = (a: Record<string, string>) => ({ ...a, [created]: '<time>' });
    expect(annotations(ours.Config.Annotations)).toEqual(annotations(theirs.Config.Annotations));
    // podman's order is its Go map's (it varies from one create to the next): the same variables.
    expect([...ours.Config.Env].sort()).toEqual([...theirs.Config.Env].sort());
    // podman's marker and stop signal come with the runtime's spec, from the first init on.
    await both(['init', 'insp']);
    const [ran, ranTheirs] = (await side(['inspect', 'insp'])).map((r) => JSON.parse(r.stdout)[0]);
    expect(ranTheirs.Config.Annotations['io.container.manager']).toBe('libpod');
    expect(annotations(ran.Config.Annotations)).toEqual(annotations(ranTheirs.Config.Annotations));
    await both(['rm', '-f', 'insp']);
  });
});

describe('ps --filter ancestor', () => {
  it('matches as podman’s service does for short, tagged and qualified names', async () => {
    await both(['create', '--name', 'anc', 'busybox', 'true']);
    for (const ancestor of ['busybox', 'busybox:latest', 'docker.io/library/busybox:latest', 'localhost/busybox'])
      expect(await berth.ok(['ps', '-a', '--filter', `ancestor=${ancestor}`, '--format', '{{.Names}}'])).toBe(
        await oracle.client.ok(['ps', '-a', '--filter', `ancestor=${ancestor}`, '--format', '{{.Names}}']),
      );
    await both(['rm', 'anc']);
  });
});

describe('stop of an initialized container', () => {
  it('kills its waiting process: exited, as podman’s service leaves it, and it starts again', async () => {
    await both(['create', '--name', 'ini', 'busybox', 'sleep', '100']);
    await both(['init', 'ini']);
    const [ours, theirs] = await side(['stop', 'ini']);
    expect(ours).toEqual(theirs);
    const state = ['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}} {{.State.Pid}} {{.State.FinishedAt.IsZero}}', 'ini'];
    const [after, afterTheirs] = await side(state);
    expect(afterTheirs.stdout).toBe('exited 2 0 false\n');
    expect(after).toEqual(afterTheirs);
    expect(await berth.ok(['start', 'ini'])).toBe('ini\n');
    expect(await berth.ok(['inspect', '--format', '{{.State.Status}}', 'ini'])).toBe('running\n');
    await both(['rm', '-f', '-t', '0', 'ini']);
  });
});

describe('events', () => {
  it('records one init per podman init, as podman’s service does, and hides libpod’s own from the Docker view', async () => {
    const since = String(Math.floor(Date.now() / 1000) - 1);
    await both(['create', '--name', 'ev', 'busybox', 'true']);
    await both(['init', 'ev']);
    await both(['run', '--name', 'ev2', 'busybox', 'true']);
    // podman's service answers nothing at all once `until` has passed when the request comes (its
    // until is a timer on the stream): a margin for a loaded machine.
    const until = String(Math.floor(Date.now() / 1000) + 4);
    const events = ['events', '--since', since, '--until', until, '--filter', 'type=container', '--format', '{{.Status}} {{.Name}}'];
    const [ours, theirs] = await Promise.all([berth.ok(events), oracle.client.ok(events)]);
    // podman's `sync` events come from its own state database: berth has none.
    const inits = (out: string) => out.split('\n').filter((l) => /^init ev2?$/.test(l));
    expect(inits(theirs)).toEqual(['init ev', 'init ev2']);
    expect(inits(ours)).toEqual(inits(theirs));
    const docker = await engine.docker(['events', '--since', since, '--until', until, '--format', '{{.Action}} {{.Actor.Attributes.name}}']);
    expect(docker.stdout).toContain('start ev2');
    expect(docker.stdout).not.toMatch(/^(init|cleanup) /m); // (and no libpod action of an earlier test)
    await both(['rm', '-f', 'ev', 'ev2']);
  });
});

describe('create refusals', () => {
  it.each([
    [['--userns=keep-id']], // podman's rootless mode
    [['--requires', 'nosuchdependency']],
  ])('refuses run %j as podman does', async (flags) => {
    const [ours, theirs] = await side(['run', '--rm', '--network', 'none', ...flags, 'busybox', 'true']);
    expect(theirs.code).toBe(125);
    expect({ code: ours.code, stderr: ours.stderr }).toEqual({ code: theirs.code, stderr: theirs.stderr });
  });
});

describe('overlay volumes', () => {
  it('-v dir:dst:O: the container sees the host directory and writes over it, the host directory stays as it was', async () => {
    const dir = join(engine.dir, 'overlay-source');
    await mkdir(dir);
    await writeFile(join(dir, 'f'), 'from the host\n');
    const [ours, theirs] = await side(['run', '--rm', '--network', 'none', '-v', `${dir}:/x:O`, 'busybox', 'sh', '-c', 'cat /x/f; echo b > /x/g; ls /x']);
    expect(theirs).toMatchObject({ code: 0, stdout: 'from the host\nf\ng\n' });
    expect(ours).toMatchObject({ code: theirs.code, stdout: theirs.stdout });
    expect(await readdir(dir)).toEqual(['f']);
  });
});

describe('--requires', () => {
  it('starts the containers required first, refuses their removal alone and removes them with --depend, as podman does', async () => {
    const ids = (text: string) => text.replace(/[0-9a-f]{64}/g, '<id>');
    // A 1 s stop timeout: rm -f stops them with it (sleep as PID 1 ignores SIGTERM; the default is 10 s each).
    await both(['run', '-d', '--name', 'req1', '--stop-timeout', '1', '--network', 'none', 'busybox', 'sleep', '1000']);
    await both(['create', '--name', 'req2', '--stop-timeout', '1', '--network', 'none', '--requires', 'req1', 'busybox', 'sleep', '1000']);
    await both(['stop', '-t', '0', 'req1']);
    await both(['start', 'req2']);
    const running = ['ps', '--filter', 'name=req', '--format', '{{.Names}}', '--sort', 'names'];
    const [ours, theirs] = await both(running);
    expect(theirs).toBe('req1\nreq2\n');
    expect(ours).toBe(theirs);
    const [refusedOurs, refusedTheirs] = await side(['rm', '-f', 'req1']);
    expect(refusedTheirs.code).toBe(125);
    expect({ code: refusedOurs.code, stderr: ids(refusedOurs.stderr) }).toEqual({ code: refusedTheirs.code, stderr: ids(refusedTheirs.stderr) });
    const [removedOurs, removedTheirs] = await both(['rm', '-f', '--depend', 'req1']);
    expect(ids(removedOurs)).toBe(ids(removedTheirs));
    expect(await berth.ok(['ps', '-a', '--filter', 'name=req', '--format', '{{.Names}}'])).toBe('');
  });
});

describe('a short name with a registries.conf alias', () => {
  it('finds the alias’s image first, before localhost/ (Debian aliases busybox to docker.io)', async () => {
    await both(['tag', 'localhost/busybox:latest', 'docker.io/library/busybox:latest']);
    await both(['create', '--name', 'aliased', 'busybox', 'true']);
    const [ours, theirs] = await both(['inspect', 'aliased', '--format', '{{.ImageName}}']);
    expect(theirs.trim()).toBe('docker.io/library/busybox:latest');
    expect(ours).toBe(theirs);
    await both(['rm', 'aliased']);
    // The alias's name stays: without it podman would pull `busybox` (an alias is its only candidate).
    // berth then falls back to localhost/busybox (lenient on purpose: there is no registry to pull from here).
  });
});

describe('/etc/hostname', () => {
  it('holds the name without a newline, as podman writes it', async () => {
    const [ours, theirs] = await both(['run', '--rm', '--network', 'none', '--hostname', 'hh', 'busybox', 'cat', '/etc/hostname']);
    expect(theirs).toBe('hh');
    expect(ours).toBe(theirs);
  });
});
