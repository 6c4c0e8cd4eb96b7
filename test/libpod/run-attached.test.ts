// The attached flows of podman --remote: run (attach, then start after the 101, wait, shouldrestart,
// --rm's DELETE), run -i with piped stdin, run -it, start -a, attach and wait, against berth and
// podman's own service. The wire tests use containers made through the Docker API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { TestEngine, run } from '../helpers/engine.js';
import { hijack } from '../helpers/hijack.js';
import { sameAsOracle, sideBySide, type PodmanClient, type PodmanService } from '../helpers/podman.js';

const images = inject('images');
let engine: TestEngine;
let berth: PodmanClient;
let oracle: PodmanService;

beforeAll(async () => {
  ({ engine, berth, oracle } = await sideBySide({ subnet: '10.231.2.0/24', busybox: images.busybox.archive }));
}, 120_000);
afterAll(async () => {
  await Promise.all([engine?.destroy(), oracle?.stop()]);
});

const both = (args: string[], input?: string) => Promise.all([berth.podman(args, { input }), oracle.podman(args, { input })]);

/** The same command against both: the same exit code, stdout and stderr. */
const same = (args: string[], o: { input?: string } = {}) => sameAsOracle({ berth, oracle }, args, undefined, o.input);

/** A command on a terminal (script(1)) of 33x99: what it printed and its exit code. */
async function onPty(client: PodmanClient, args: string[]) {
  const command = `stty rows 33 cols 99; ${['podman', ...client.argv, ...args].join(' ')}`;
  const res = await run('script', ['-qec', command, '/dev/null'], { env: client.env, input: '' });
  return { code: res.code, stdout: res.stdout.replace(/\^@|\0/g, '') };
}

const UPGRADED = 'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n';

describe('libpod attach on the wire', () => {
  it('answers 101 before the start, and keeps stdin sent and half-closed before it', async () => {
    // StdinOnce, as podman's own containers behave: the attach's end closes the container's stdin.
    const created = await engine.http('POST', '/containers/create', {
      Image: 'busybox',
      Cmd: ['sh', '-c', 'cat; echo done'],
      OpenStdin: true,
      StdinOnce: true,
    });
    expect(created.status).toBe(201);
    const { Id: id } = created.json() as { Id: string };
    const attached = hijack(
      engine.socket,
      `/v4.3.1/libpod/containers/${id}/attach?detachKeys=ctrl-p%2Cctrl-q&stderr=true&stdin=true&stdout=true&stream=true`,
      '',
      Buffer.from('early\n'),
    );
    await new Promise((r) => setTimeout(r, 300)); // the client sends start only once the 101 is there
    expect((await engine.http('POST', `/v4.3.1/libpod/containers/${id}/start?detachkeys=ctrl-p%2Cctrl-q`)).status).toBe(204);
    const { head, frames } = await attached;
    expect(head).toBe(UPGRADED);
    expect(frames.map((f) => f.stream)).toEqual(frames.map(() => 1));
    expect(frames.map((f) => f.data).join('')).toBe('early\ndone\n');
    expect((await engine.http('POST', `/v4.3.1/libpod/containers/${id}/wait`)).body.toString()).toBe('0\n');
    // podman's router answers shouldrestart with its plain 404, which the client ignores.
    const should = await engine.http('POST', `/v4.3.1/libpod/containers/${id}/shouldrestart`);
    expect({ status: should.status, body: should.body.toString() }).toEqual({ status: 404, body: 'Not Found\n' });
    expect((await engine.http('DELETE', `/containers/${id}`)).status).toBe(204);
  });

  it("refuses an attach to a missing container with libpod's body, before any upgrade", async () => {
    const { head, body } = await hijack(engine.socket, '/v4.3.1/libpod/containers/nosuch/attach?stdout=true&stream=true');
    expect(head).toMatch(/^HTTP\/1.1 404 /);
    expect(JSON.parse(body.toString())).toEqual({
      cause: 'no such container',
      message: 'no container with name or ID "nosuch" found: no such container',
      response: 404,
    });
  });
});

describe('podman --remote run (attached)', () => {
  it('run --rm: output, exit code, the container gone', async () => {
    expect(await same(['run', '--rm', 'busybox', 'echo', 'hi'])).toMatchObject({ code: 0, stdout: 'hi\n' });
    expect(await same(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3'])).toMatchObject({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    expect(await berth.ok(['ps', '-aq'])).toBe('');
  });

  it('exits 127 for a command not there', async () => {
    const [ours, theirs] = await both(['run', '--rm', 'busybox', '/nonexistent']);
    expect(theirs.code).toBe(127);
    expect(ours.code).toBe(127);
    expect(ours.stderr).toContain('no such file or directory: OCI runtime attempted to invoke a command that was not found');
    expect(await berth.ok(['ps', '-aq'])).toBe('');
  });

  it('run -i passes piped stdin, written before the start, and its end', async () => {
    expect(await same(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'cat; echo done'], { input: 'piped\n' })).toMatchObject({
      code: 0,
      stdout: 'piped\ndone\n',
    });
  });

  it("run -it gives the client's terminal size from the start, and the exit code", async () => {
    const [ours, theirs] = await Promise.all([
      onPty(berth, ['run', '-it', '--rm', 'busybox', 'stty', 'size']),
      onPty(oracle.client, ['run', '-it', '--rm', 'busybox', 'stty', 'size']),
    ]);
    expect(ours).toEqual({ code: 0, stdout: '33 99\r\n' });
    expect(ours).toEqual(theirs);
    expect((await onPty(berth, ['run', '-it', '--rm', 'busybox', 'sh', '-c', "'exit 5'"])).code).toBe(5);
  });

  it("run -it passes ctrl-p ctrl-q to the container, as podman's service (its client would wait on a detached one)", async () => {
    const typed = "(sleep 1.5; printf '\\020\\021'; sleep 0.5; printf 'exit 3\\n') | timeout 15 script -qec";
    const command = (client: PodmanClient) => `${typed} '${['podman', ...client.argv, 'run', '-it', '--rm', 'busybox', 'sh'].join(' ')}' /dev/null`;
    const [ours, theirs] = await Promise.all([berth, oracle.client].map((client) => run('sh', ['-c', command(client)], { env: client.env })));
    expect(theirs.code).toBe(3);
    expect(ours.code).toBe(3);
  });

  it('start -a of an initialized container: its stdin and its terminal size', async () => {
    await both(['create', '-i', '--name', 'ii', 'busybox', 'sh', '-c', 'cat; echo end']);
    await both(['init', 'ii']);
    expect(await same(['start', '-a', '-i', 'ii'], { input: 'hi-init\n' })).toMatchObject({ code: 0, stdout: 'hi-init\nend\n' });
    await both(['create', '-t', '--name', 'it', 'busybox', 'stty', 'size']);
    await both(['init', 'it']);
    const [ours, theirs] = await Promise.all([onPty(berth, ['start', '-a', 'it']), onPty(oracle.client, ['start', '-a', 'it'])]);
    expect(ours).toEqual({ code: 0, stdout: '33 99\r\n' });
    expect(ours).toEqual(theirs);
  });

  it('start -a, attach and wait', async () => {
    await both(['create', '--name', 'sa', 'busybox', 'sh', '-c', 'echo start-attached; exit 2']);
    expect(await same(['start', '-a', 'sa'])).toMatchObject({ code: 2, stdout: 'start-attached\n' });
    expect(await same(['wait', 'sa'])).toMatchObject({ code: 0, stdout: '2\n' });
    // attach does not wait: it exits 0 whatever the container's code.
    await both(['run', '-d', '--name', 'at', 'busybox', 'sh', '-c', 'sleep 1; echo attached-out; exit 4']);
    expect(await same(['attach', 'at'])).toMatchObject({ code: 0, stdout: 'attached-out\n' });
    await both(['create', '--name', 'wr', 'busybox', 'sleep', '1']);
    const waiting = both(['wait', '--condition', 'running', 'wr']);
    await new Promise((r) => setTimeout(r, 500));
    await both(['start', 'wr']);
    const [ours, theirs] = await waiting;
    expect(ours).toMatchObject({ code: 0, stdout: '-1\n' });
    expect(ours.stdout).toBe(theirs.stdout);
  });
});
