// podman --remote's verbs on a pod (start, stop, restart, kill, pause, unpause, top, stats, logs) and
// pod events, against berth beside Podman's own service: the same output, errors and exit codes, and
// the pod's state after each verb derived as podman derives it.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { httpOn, type TestEngine } from '../helpers/engine.js';
import { sameAsOracle, sideBySide, type PodmanClient, type PodmanService } from '../helpers/podman.js';

let engine: TestEngine;
let berth: PodmanClient;
let oracle: PodmanService;
const images = inject('images');

beforeAll(async () => {
  ({ engine, berth, oracle } = await sideBySide({ subnet: '10.231.21.0/24', busybox: images.busybox.archive }));
}, 120_000);
afterAll(async () => {
  await Promise.all([engine?.destroy(), oracle?.stop()]);
});

/** Pod and container IDs (64 hex, or 12 in names and columns) made comparable. */
const noIds = (s: string) => s.replace(/\b[0-9a-f]{64}\b/g, '<id>').replace(/\b[0-9a-f]{12}\b/g, '<id12>');
const same = (args: string[], clean: (s: string) => string = noIds) => sameAsOracle({ berth, oracle }, args, clean);
const both = (args: string[]) => Promise.all([berth.ok(args), oracle.client.ok(args)]);

/** A member that ends at once on SIGTERM (a busybox sleep as PID 1 would ignore it). */
const MEMBER = ['busybox', 'sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.2; done'];

/** The pod's state as `pod inspect` shows it, in both (they must agree). */
async function state(pod: string): Promise<string> {
  const args = ['pod', 'inspect', '--format', '{{.State}}', pod];
  const out = await same(args);
  return out.stdout.trim();
}

async function until(what: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('podman pod start/stop/restart/kill/pause/unpause', () => {
  it('acts on the members and answers as podman does, the state following podman’s derivation', async () => {
    await both(['pod', 'create', '--name', 'pv1']);
    expect(await state('pv1')).toBe('Created');
    // Nothing runs: a stop is podman's 304 (the client prints the ID), a kill refused (its body is
    // no report, so the client prints an empty error), a pause does nothing, an unpause is skipped.
    await same(['pod', 'stop', 'pv1']);
    const kill = await same(['pod', 'kill', 'pv1']);
    expect(kill.code).toBe(125);
    await same(['pod', 'pause', 'pv1']);
    await same(['pod', 'unpause', 'pv1']);
    expect(await state('pv1')).toBe('Created');

    await both(['run', '-d', '--pod', 'pv1', '--name', 'pv1-a', ...MEMBER]);
    await both(['create', '--pod', 'pv1', '--name', 'pv1-b', ...MEMBER]);
    expect(await state('pv1')).toBe('Degraded');
    await same(['pod', 'start', 'pv1']);
    expect(await state('pv1')).toBe('Running');
    await same(['pod', 'start', 'pv1']); // running: podman's 304

    await same(['pod', 'pause', 'pv1']);
    expect(await state('pv1')).toBe('Paused');
    await same(['pod', 'kill', 'pv1']); // nothing running
    await same(['pod', 'unpause', 'pv1']);
    expect(await state('pv1')).toBe('Running');

    await same(['pod', 'restart', 'pv1']);
    expect(await state('pv1')).toBe('Running');
    await same(['inspect', '--format', '{{.Name}} {{.State.Status}}', 'pv1-a', 'pv1-b']);

    await same(['pod', 'kill', '-s', 'BOGUS', 'pv1']);
    await same(['pod', 'kill', '-s', 'TERM', 'pv1']);
    for (const client of [berth, oracle.client])
      await until(async () => (await client.ok(['pod', 'inspect', '--format', '{{.State}}', 'pv1'])).trim() === 'Exited');
    expect(await state('pv1')).toBe('Exited');

    await same(['pod', 'start', 'pv1']);
    await same(['pod', 'stop', '-t', '0', 'pv1']);
    expect(await state('pv1')).toBe('Exited');
    await same(['pod', 'stop', 'pv1']); // stopped: podman's 304
    // Some exited, one never started: podman's Stopped.
    await both(['create', '--pod', 'pv1', '--name', 'pv1-c', ...MEMBER]);
    expect(await state('pv1')).toBe('Stopped');
    await same(['pod', 'start', 'pv1']);
    expect(await state('pv1')).toBe('Running');
    await same(['pod', 'stop', '-a', '-t', '0']);
    await same(['pod', 'rm', '-f', 'pv1']);
  });

  it('reports a member that fails with podman’s words and exit code', async () => {
    await both(['pod', 'create', '--name', 'pv2']);
    await both(['run', '-d', '--pod', 'pv2', '--name', 'pv2-ok', ...MEMBER]);
    await both(['create', '--pod', 'pv2', '--name', 'pv2-bad', 'busybox', '/nonexistent']);
    const start = await same(['pod', 'start', 'pv2']);
    expect(start.code).toBe(125);
    expect(start.stderr).toMatch(
      /^Error: starting container [0-9a-f]{64}: runc: .*\/nonexistent.*: OCI runtime attempted to invoke a command that was not found\n$/,
    );
    expect(await state('pv2')).toBe('Degraded');
    const restart = await same(['pod', 'restart', 'pv2']);
    expect(restart.stderr).toMatch(/^Error: restarting container [0-9a-f]{64}: runc: /);
    expect(await state('pv2')).toBe('Degraded');
    await same(['pod', 'rm', '-f', '-t', '0', 'pv2']);
  });

  it('leaves paused members as podman does: a start reports them, a restart skips them', async () => {
    await both(['pod', 'create', '--name', 'pr']);
    await both(['run', '-d', '--pod', 'pr', '--name', 'pr-a', ...MEMBER]);
    await both(['run', '-d', '--pod', 'pr', '--name', 'pr-b', ...MEMBER]);
    await both(['pause', 'pr-a']);
    expect(await state('pr')).toBe('Degraded');
    await same(['pod', 'restart', 'pr']);
    const states = ['inspect', '--format', '{{.Name}} {{.State.Status}}', 'pr-a', 'pr-b'];
    expect((await same(states)).stdout).toBe('pr-a paused\npr-b running\n');
    await both(['stop', '-t', '0', 'pr-b']);
    const start = await same(['pod', 'start', 'pr']);
    expect(noIds(start.stderr)).toBe('Error: starting container <id>: cannot start paused container <id>: container state improper\n');
    expect((await same(states)).stdout).toBe('pr-a paused\npr-b running\n');
    // The infra container paused too: the others are not tried, each reported with its dependency
    // (podman lists them in any order, and now and then leaves one out: the kinds are compared).
    await same(['pod', 'pause', 'pr']);
    const errors = (s: string) =>
      noIds(s)
        .replace(/^Error: /, '')
        .trimEnd()
        .split(',')
        .sort();
    const [ours, theirs] = await Promise.all([berth.podman(['pod', 'start', 'pr']), oracle.podman(['pod', 'start', 'pr'])]);
    expect([ours.code, [...new Set(errors(ours.stderr))]]).toEqual([theirs.code, [...new Set(errors(theirs.stderr))]]);
    expect(errors(ours.stderr)).toEqual([
      'starting container <id>: a dependency of container <id> failed to start: container state improper',
      'starting container <id>: a dependency of container <id> failed to start: container state improper',
      'starting container <id>: cannot start paused container <id>: container state improper',
    ]);
    await same(['pod', 'rm', '-f', '-t', '0', 'pr']);
  });

  it('refuses to start a pod without containers', async () => {
    await both(['pod', 'create', '--infra=false', '--name', 'pn']);
    await same(['pod', 'start', 'pn']);
    const [ours, theirs] = await Promise.all(
      [engine.socket, oracle.socket].map(async (socket) => {
        const r = await httpOn(socket, 'POST', '/v4.3.1/libpod/pods/pn/start');
        return [r.status, noIds(r.body.toString()).trimEnd()];
      }),
    );
    expect(ours).toEqual(theirs);
    await same(['pod', 'stop', 'pn']);
    await same(['pod', 'top', 'pn']);
    await same(['pod', 'stats', '--no-stream', 'pn']);
    await same(['pod', 'rm', 'pn']);
  });

  it('refuses an unknown pod as podman does', async () => {
    for (const verb of ['start', 'stop', 'restart', 'kill', 'pause', 'unpause', 'top', 'stats']) {
      const r = await same(['pod', verb, ...(verb === 'stats' ? ['--no-stream'] : []), 'nope']);
      expect(r.code, verb).toBe(125);
    }
  });

  it('stops a Degraded pod (podman 4.3.1 answers 304 and leaves it running; the client prints the same)', async () => {
    await berth.ok(['pod', 'create', '--name', 'pv3']);
    await berth.ok(['run', '-d', '--pod', 'pv3', '--name', 'pv3-a', ...MEMBER]);
    await berth.ok(['run', '-d', '--pod', 'pv3', '--name', 'pv3-b', ...MEMBER]);
    await berth.ok(['stop', '-t', '0', 'pv3-b']);
    expect((await berth.ok(['pod', 'inspect', '--format', '{{.State}}', 'pv3'])).trim()).toBe('Degraded');
    const id = (await berth.ok(['pod', 'stop', '-t', '0', 'pv3'])).trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect((await berth.ok(['pod', 'inspect', '--format', '{{.State}}', 'pv3'])).trim()).toBe('Exited');
    await berth.ok(['pod', 'rm', 'pv3']);
  });
});

describe('the wire', () => {
  it('answers podman’s statuses and bodies: 304 with nothing to do, the error bodies', async () => {
    await both(['pod', 'create', '--name', 'pw']);
    const wire = async (method: string, path: string) => {
      const answers = await Promise.all(
        [engine.socket, oracle.socket].map(async (socket) => {
          const r = await httpOn(socket, method, `/v4.3.1/libpod${path}`);
          // (podman's bodies end in a newline, berth's JSON not: no client minds.)
          return { status: r.status, type: r.headers['content-type'] ?? '', body: noIds(r.body.toString()).trimEnd() };
        }),
      );
      expect(answers[0], `${method} ${path}`).toEqual(answers[1]);
      return answers[0]!;
    };
    expect((await wire('POST', '/pods/pw/stop')).status).toBe(304);
    expect((await wire('POST', '/pods/pw/kill')).status).toBe(409);
    await wire('POST', '/pods/pw/kill?signal=BOGUS');
    await wire('POST', '/pods/nope/kill');
    expect(await wire('POST', '/pods/pw/pause')).toEqual({ status: 200, type: 'application/json', body: '{"Errs":null,"Id":"<id>"}' });
    await wire('POST', '/pods/pw/unpause');
    await wire('POST', '/pods/pw/start');
    expect((await wire('POST', '/pods/pw/start')).status).toBe(304);
    await wire('GET', '/pods/nope/top');
    await wire('GET', '/pods/stats?namesOrIDs=nope');
    // podman's handler writes its error, then the reports too (a missing return): the error alone here.
    const conflicting = await httpOn(engine.socket, 'GET', '/v4.3.1/libpod/pods/stats?namesOrIDs=pw&all=true');
    expect([conflicting.status, conflicting.json()]).toEqual([
      500,
      { cause: '--all, --latest and arguments cannot be used together', message: '--all, --latest and arguments cannot be used together', response: 500 },
    ]);
    await both(['create', '--pod', 'pw', '--name', 'pw-bad', 'busybox', '/nonexistent']);
    const start = await wire('POST', '/pods/pw/start');
    expect(start.status).toBe(409);
    expect(JSON.parse(start.body)).toMatchObject({ Errs: [expect.stringMatching(/^starting container <id>: runc: /)], Id: '<id>' });
    await both(['pod', 'rm', '-f', '-t', '0', 'pw']);
  });
});

describe('podman pod top', () => {
  it('lists every running member’s processes with psgo’s descriptors', async () => {
    await both(['pod', 'create', '--name', 'pt']);
    await both(['run', '-d', '--pod', 'pt', '--name', 'pt-a', 'busybox', 'sleep', '1000']);
    await both(['run', '-d', '--pod', 'pt', '--name', 'pt-b', 'busybox', 'sleep', '2000']);
    // The rows come in container-ID order, which differs between the two: compared as sets.
    const rows = (s: string) => {
      const [head, ...rest] = s.trimEnd().split('\n');
      // The header's widths follow the values: the column names alone.
      return { head: head!.trim().split(/\s{2,}/), rows: rest.map((l) => l.trim().split(/\s{2,}/)).sort() };
    };
    const [ours, theirs] = await Promise.all([berth.podman(['pod', 'top', 'pt']), oracle.podman(['pod', 'top', 'pt'])]);
    expect(ours.code, ours.stderr).toBe(0);
    const o = rows(ours.stdout);
    const t = rows(theirs.stdout);
    expect(o.head).toEqual(t.head);
    // USER PID PPID %CPU ELAPSED TTY TIME COMMAND, all but the elapsed time.
    const stable = (r: string[][]) => r.map((cols) => cols.filter((_, i) => i !== 4)).sort();
    expect(stable(o.rows)).toEqual(stable(t.rows));
    expect(stable(o.rows)).toEqual([
      ['0', '1', '0', '0.000', '?', '0s', '/catatonit -P'],
      ['root', '1', '0', '0.000', '?', '0s', 'sleep 1000'],
      ['root', '1', '0', '0.000', '?', '0s', 'sleep 2000'],
    ]);

    const sorted = (s: string) => {
      const [head, ...rest] = s.trimEnd().split('\n');
      return [head, ...rest.sort()].join('\n');
    };
    await same(['pod', 'top', 'pt', 'pid', 'user', 'comm', 'args'], sorted);
    await same(['pod', 'top', 'pt', '-eo', 'pid']); // not psgo's: an empty answer
    await same(['stop', '-t', '0', 'pt-b']);
    await same(['pod', 'top', 'pt', 'pid', 'args'], sorted);
    await same(['pod', 'pause', 'pt']);
    await same(['pod', 'top', 'pt']); // nothing running
    await same(['pod', 'rm', '-f', '-t', '0', 'pt']);
  });
});

describe('podman pod top, one PID namespace', () => {
  it('lists a shared PID namespace once', async () => {
    await both(['pod', 'create', '--share', 'pid,net,ipc,uts', '--name', 'pp']);
    await both(['run', '-d', '--pod', 'pp', '--name', 'pp-a', 'busybox', 'sleep', '1000']);
    await both(['run', '-d', '--pod', 'pp', '--name', 'pp-b', 'busybox', 'sleep', '2000']);
    // (The sleeps' PIDs depend on what ran before them in the namespace.)
    const top = await same(['pod', 'top', 'pp', 'ppid', 'args']);
    expect(
      top.stdout
        .split('\n')
        .slice(1)
        .map((l) => l.trim().split(/\s{2,}/)),
    ).toEqual([['0', '/catatonit -P'], ['0', 'sleep 1000'], ['0', 'sleep 2000'], ['']]);
    await same(['pod', 'rm', '-f', '-t', '0', 'pp']);
  });
});

describe('podman pod stats', () => {
  it('reports each member in podman’s formatted strings, a stopped one as --', async () => {
    await both(['pod', 'create', '--name', 'ps1']);
    await both(['run', '-d', '--pod', 'ps1', '--name', 'ps1-a', 'busybox', 'sleep', '1000']);
    await both(['create', '--pod', 'ps1', '--name', 'ps1-b', 'busybox', 'sleep', '1000']);
    const lines = (s: string) => s.trimEnd().split('\n');
    const [ours, theirs] = await Promise.all([berth.podman(['pod', 'stats', '--no-stream', 'ps1']), oracle.podman(['pod', 'stats', '--no-stream', 'ps1'])]);
    expect(ours.code, ours.stderr).toBe(0);
    // The header's widths follow the values: the column names alone.
    const names = (l: string) => l.trim().split(/\s{2,}/);
    expect(names(lines(ours.stdout)[0]!)).toEqual(names(lines(theirs.stdout)[0]!));
    expect(lines(ours.stdout)).toHaveLength(4);

    const format = ['pod', 'stats', '--no-stream', '--format', '{{.Pod}} {{.Name}} {{.PIDS}} {{.BlockIO}}', 'ps1'];
    const sorted = (s: string) => lines(noIds(s)).sort().join('\n');
    const out = await same(format, sorted);
    expect(sorted(out.stdout)).toBe(
      ['<id12> <id12>-infra 1 -- / --', '<id12> ps1-a 1 -- / --', '<id12> ps1-b -- -- / --', 'POD NAME PIDS BLOCK IO'].join('\n'),
    );

    const json = JSON.parse(await berth.ok(['pod', 'stats', '--no-stream', '--format', 'json', 'ps1'])) as Record<string, string>[];
    const running = json.find((r) => r.Name === 'ps1-a')!;
    expect(Object.keys(running)).toEqual(['CPU', 'MemUsage', 'MemUsageBytes', 'Mem', 'NetIO', 'BlockIO', 'PIDS', 'Pod', 'CID', 'Name']);
    expect(running.CPU).toMatch(/^\d+\.\d\d%$|^--$/);
    expect(running.MemUsage).toMatch(/^[\d.]+[kMG]?B \/ [\d.]+[kMGT]B$/);
    expect(running.MemUsageBytes).toMatch(/^[\d.]+(Ki|Mi|Gi)?B \/ [\d.]+(Ki|Mi|Gi|Ti)B$/);
    expect(running.NetIO).toMatch(/^[\d.]+[kM]?B \/ [\d.]+[kM]?B$/);
    expect(json.find((r) => r.Name === 'ps1-b')).toMatchObject({ CPU: '--', MemUsage: '-- / --', Mem: '--', NetIO: '-- / --', PIDS: '--' });

    // Without names: every pod (-a the same).
    const all = await berth.ok(['pod', 'stats', '--no-stream', '-a', '--format', '{{.Name}}']);
    expect(all.split('\n')).toEqual(expect.arrayContaining(['ps1-a', 'ps1-b']));
    await same(['pod', 'rm', '-f', '-t', '0', 'ps1']);
  });
});

describe('podman pod logs', () => {
  it('needs -c in podman 4.3.1 (the client refuses without), and is then the container’s logs', async () => {
    await both(['pod', 'create', '--name', 'pl']);
    await both(['run', '-d', '--pod', 'pl', '--name', 'pl-a', 'busybox', 'sh', '-c', 'echo from-pod; sleep 1000']);
    for (const client of [berth, oracle.client]) await until(async () => (await client.ok(['logs', 'pl-a'])).includes('from-pod'));
    await same(['pod', 'logs', 'pl']);
    const logs = await same(['pod', 'logs', '-c', 'pl-a', 'pl']);
    expect(logs.stdout).toBe('from-pod\n');
    await same(['pod', 'rm', '-f', '-t', '0', 'pl']);
  });
});

describe('pod events', () => {
  it('records create/start/pause/unpause/kill/stop/remove as podman does, hidden from the Docker API', async () => {
    const since = String(Math.floor(Date.now() / 1000) - 1);
    await both(['pod', 'create', '--name', 'pe']);
    await both(['run', '-d', '--pod', 'pe', '--name', 'pe-a', ...MEMBER]);
    for (const verb of [['pause'], ['unpause'], ['kill'], ['start'], ['stop', '-t', '0'], ['restart'], ['kill', '-s', 'BOGUS'], ['stop', '-t', '0'], ['stop']])
      await same(['pod', ...verb, 'pe']);
    await both(['pod', 'rm', 'pe']);
    // Both engines' events since the test began, through these filters, in this format.
    const eventsSince = (filters: string[], format: string) =>
      same(['events', '--stream=false', '--since', since, ...filters.flatMap((f) => ['--filter', f]), '--format', format]);
    const events = await eventsSince(['pod=pe'], '{{.Type}} {{.Status}} {{.Name}}');
    expect(events.stdout).toBe(['create', 'pause', 'unpause', 'kill', 'start', 'stop', 'stop', 'start', 'stop', 'remove'].map((a) => `pod ${a} pe\n`).join(''));
    // pod= keeps the earlier tests' pods out: which of them fall inside the one-second --since differs by timing.
    await eventsSince(['type=pod', 'event=remove', 'pod=pe'], '{{.Status}} {{.Name}} {{.ID}}');
    await eventsSince(['pod=pe', 'event=create'], '{{.ID}} {{.Name}} {{.Attributes}}');

    // A member's own events name its pod.
    const member = await eventsSince(['container=pe-a', 'event=create'], '{{.Type}} {{.Status}} {{.Name}} {{.PodID}}');
    expect(noIds(member.stdout)).toBe('container create pe-a <id>\n');

    // dockerd has no pods: its clients never see these, nor a member's pod.
    const until = String(Math.floor(Date.now() / 1000) + 1);
    const docker = await engine.docker(['events', '--since', since, '--until', until, '--format', '{{.Type}} {{.Action}} {{json .Actor.Attributes}}']);
    expect(docker.stdout).toContain('container create {"image":"docker.io/library/busybox:latest","name":"pe-a"}');
    expect(docker.stdout).not.toMatch(/^pod |podId/m);
  });
});

describe('pod --exit-policy stop', () => {
  it('stops the infra container once the last member has exited', async () => {
    await both(['pod', 'create', '--exit-policy', 'stop', '--name', 'px']);
    await both(['run', '-d', '--pod', 'px', '--name', 'px-a', 'busybox', 'sleep', '1']);
    await both(['run', '-d', '--pod', 'px', '--name', 'px-b', 'busybox', 'sleep', '2']);
    for (const client of [berth, oracle.client])
      await until(async () => (await client.ok(['pod', 'inspect', '--format', '{{.State}}', 'px'])).trim() === 'Exited');
    const infra = (await berth.ok(['pod', 'inspect', '--format', '{{.InfraContainerID}}', 'px'])).trim();
    expect((await berth.ok(['inspect', '--format', '{{.State.Status}}', infra])).trim()).toBe('exited');
    await same(['inspect', '--format', '{{.Name}} {{.State.Status}}', 'px-a', 'px-b']);
    // The default policy keeps the infra running.
    await both(['pod', 'create', '--name', 'pc']);
    await both(['run', '-d', '--pod', 'pc', '--name', 'pc-a', 'busybox', 'true']);
    for (const client of [berth, oracle.client])
      await until(async () => (await client.ok(['inspect', '--format', '{{.State.Status}}', 'pc-a'])).trim() === 'exited');
    await new Promise((r) => setTimeout(r, 1000));
    expect(await state('pc')).toBe('Degraded');
    await same(['pod', 'rm', '-f', '-t', '0', 'px']);
    await same(['pod', 'rm', '-f', '-t', '0', 'pc']);
  });
});
