// podman --remote ps (its flags), the lifecycle verbs of a detached container, rename, exists, init,
// rm -a/--depend and container prune, against berth and podman's own service.
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

const both = (args: string[]) => Promise.all([berth.podman(args), oracle.podman(args)]);
/** A setup step: it must succeed on both (on a failure, berth's own log says why). */
async function bothOk(args: string[]) {
  const [ours, theirs] = await both(args);
  expect(theirs.code, `oracle: podman ${args.join(' ')}: ${theirs.stderr}`).toBe(0);
  expect(ours.code, `podman ${args.join(' ')}: ${ours.stderr}\nengine: ${engine.stderr.slice(-3000)}`).toBe(0);
}
/** Container IDs differ between the two: compared as <id>. */
const ids = (text: string) => text.replace(/\b[0-9a-f]{64}\b|\b[0-9a-f]{12}\b/g, '<id>');

/** The same command against both: the same exit code and output (IDs aside). */
async function same(args: string[], o: { code?: number } = {}) {
  const [ours, theirs] = await both(args);
  expect(theirs.code, `oracle: podman ${args.join(' ')}: ${theirs.stderr}`).toBe(o.code ?? 0);
  expect({ code: ours.code, stdout: ids(ours.stdout) }, `podman ${args.join(' ')}: ${ours.stderr}`).toEqual({ code: theirs.code, stdout: ids(theirs.stdout) });
  return ours;
}

describe('podman --remote ps and lifecycle', () => {
  it('ps -a, -q, --format, --filter, --sort, --size, --external', async () => {
    await same(['create', '--name', 'p-created', '-l', 'app=x', 'busybox', 'true']);
    await bothOk(['run', '-d', '--name', 'p-running', '-l', 'app=y', 'busybox', 'sleep', '1000']);
    await bothOk(['run', '-d', '--name', 'p-exited', 'busybox', 'sh', '-c', 'exit 3']);
    await bothOk(['wait', 'p-exited']);
    const names = '{{.Names}} {{.ExitCode}} {{.Exited}} {{.Labels}}';
    await same(['ps', '--format', names]);
    await same(['ps', '-a', '--sort', 'names', '--format', names]);
    await same(['ps', '-a', '--filter', 'status=exited', '--format', '{{.Names}}']);
    await same(['ps', '-a', '--filter', 'label=app=x', '--format', '{{.Names}}']);
    await same(['ps', '-a', '--filter', 'name=p-run', '--format', '{{.Names}}']);
    await same(['ps', '-a', '--filter', 'status=created', '--format', '{{.Names}}']);
    await same(['ps', '-a', '--filter', 'ancestor=docker.io/library/busybox:latest', '--sort', 'names', '--format', '{{.Names}}']);
    await same(['ps', '-a', '--filter', 'network=podman', '--sort', 'names', '--format', '{{.Names}}']);
    await same(['ps', '-a', '--filter', 'exited=3', '--format', '{{.Names}}']);
    await same(['ps', '-a', '--last', '1', '--format', '{{.Names}}']);
    await same(['ps', '-a', '--external', '--sort', 'names', '--format', '{{.Names}}']);
    await same(['ps', '-a', '--size', '--sort', 'names', '--format', '{{.Names}}']);
    const q = await berth.ok(['ps', '-a', '-q']);
    expect(q.trim().split('\n')).toHaveLength(3);
    for (const id of q.trim().split('\n')) expect(id).toMatch(/^[0-9a-f]{12}$/);
    const sized = await berth.ok(['ps', '-a', '--size', '--format', '{{.Names}} {{.Size}}', '--filter', 'name=p-created']);
    expect(sized).toMatch(/^p-created \d+(\.\d+)?[kMG]?B \(virtual \d+(\.\d+)?[kMG]?B\)\n$/);
    await bothOk(['rm', '-a', '-f', '-t', '0']);
    await same(['ps', '-a', '-q']);
  });

  it('start, stop, restart, kill, pause, unpause of a detached container', async () => {
    await same(['create', '--name', 'lc', 'busybox', 'sleep', '1000']);
    const state = ['inspect', '--format', '{{.State.Status}} {{.State.Running}} {{.State.Paused}}', 'lc'];
    await same(state);
    await same(['start', 'lc']);
    await same(state);
    await same(['pause', 'lc']);
    await same(state);
    await same(['ps', '--format', '{{.Names}} {{.State}}']);
    await same(['unpause', 'lc']);
    // restart -t 0 kills at once (sleep as PID 1 ignores SIGTERM: a 10 s wait otherwise).
    const began = Date.now();
    await berth.ok(['restart', '-t', '0', 'lc']);
    expect(Date.now() - began).toBeLessThan(5000);
    await oracle.client.ok(['restart', '-t', '0', 'lc']);
    await same(state);
    await same(['kill', 'lc']);
    await bothOk(['wait', 'lc']);
    await same(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'lc']);
    await same(['start', 'lc']);
    await same(['stop', '-t', '0', 'lc']);
    await same(['inspect', '--format', '{{.State.Status}} {{.State.Running}}', 'lc']);
    await same(['rm', 'lc']);
  });

  it('rename, container exists', async () => {
    await same(['create', '--name', 'before', 'busybox', 'sleep', '1000']);
    await same(['create', '--name', 'taken', 'busybox', 'true']);
    const [t1, t2] = await both(['rename', 'before', 'taken']);
    expect(t2.code).toBe(125);
    expect({ code: t1.code, stderr: ids(t1.stderr) }).toEqual({ code: t2.code, stderr: ids(t2.stderr) });
    await same(['rm', 'taken']);
    await same(['rename', 'before', 'after']);
    await same(['container', 'exists', 'after']);
    await same(['container', 'exists', 'before'], { code: 1 });
    await same(['ps', '-a', '--format', '{{.Names}}']);
    await same(['start', 'after']);
    await same(['inspect', '--format', '{{.State.Status}}', 'after']);
    await both(['rm', '-f', '-t', '0', 'after']);
  });

  it('init makes the container in the runtime; start then runs it; rm takes an initialized one', async () => {
    await same(['create', '--name', 'ini', 'busybox', 'sh', '-c', 'echo ran; sleep 1000']);
    await same(['init', 'ini']);
    await same(['inspect', '--format', '{{.State.Status}} {{.State.Running}}', 'ini']);
    await same(['ps', '-a', '--format', '{{.Names}} {{.Status}}']);
    // The process exists, waiting: nothing ran yet.
    const pid = Number((await berth.ok(['inspect', '--format', '{{.State.Pid}}', 'ini'])).trim());
    expect(pid).toBeGreaterThan(0);
    await same(['start', 'ini']);
    await same(['inspect', '--format', '{{.State.Status}} {{.State.Running}}', 'ini']);
    expect((await berth.ok(['inspect', '--format', '{{.State.Pid}}', 'ini'])).trim()).toBe(String(pid));
    await both(['rm', '-f', '-t', '0', 'ini']);
    await same(['create', '--name', 'ini2', 'busybox', 'true']);
    await same(['init', 'ini2']);
    await same(['rm', 'ini2']);
    await same(['ps', '-a', '-q']);
  });

  it('rm --depend removes the containers joined to it first; rm -v the anonymous volumes', async () => {
    await bothOk(['run', '-d', '--name', 'base', 'busybox', 'sleep', '1000']);
    await bothOk(['run', '-d', '--name', 'joiner', '--network', 'container:base', 'busybox', 'sleep', '1000']);
    // Without --depend, a container others join is refused.
    const [n1, n2] = await both(['rm', '-f', '-t', '0', 'base']);
    expect(n2.code).not.toBe(0);
    expect({ code: n1.code, stderr: ids(n1.stderr) }).toEqual({ code: n2.code, stderr: ids(n2.stderr) });
    const [ours, theirs] = await both(['rm', '-f', '-t', '0', '--depend', 'base']);
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.code, ours.stderr).toBe(0);
    expect(ours.stdout.trim().split('\n').length).toBe(theirs.stdout.trim().split('\n').length);
    await same(['ps', '-a', '-q']);
    await bothOk(['run', '-d', '--name', 'anon', '-v', '/anon', 'busybox', 'true']);
    await bothOk(['wait', 'anon']);
    await same(['rm', '-v', 'anon']);
    expect((await engine.docker(['volume', 'ls', '-q'])).stdout).toBe('');
  });

  it('container prune removes what is not running', async () => {
    await bothOk(['create', '--name', 'pr1', 'busybox', 'true']);
    await bothOk(['run', '-d', '--name', 'pr2', 'busybox', 'sleep', '1000']);
    const [ours, theirs] = await both(['container', 'prune', '-f']);
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.code, ours.stderr).toBe(0);
    expect(ours.stdout).toMatch(/^[0-9a-f]{64}\n/);
    await same(['ps', '-a', '--format', '{{.Names}}']);
    await both(['rm', '-f', '-t', '0', 'pr2']);
  });

  it('verbs on a container in the wrong state answer as podman', async () => {
    await same(['create', '--name', 'idle', 'busybox', 'sleep', '1000']);
    for (const verb of [['stop'], ['kill'], ['pause'], ['unpause'], ['restart', '-t', '0']]) {
      const [ours, theirs] = await both([...verb, 'idle']);
      expect({ code: ours.code, stdout: ours.stdout, stderr: ids(ours.stderr) }, verb.join(' ')).toEqual({
        code: theirs.code,
        stdout: theirs.stdout,
        stderr: ids(theirs.stderr),
      });
      await both(['stop', '-t', '0', 'idle']);
    }
    await same(['start', 'idle']);
    await same(['start', 'idle']);
    await both(['rm', '-f', '-t', '0', 'idle']);
  });
});
