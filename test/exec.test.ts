// docker exec through the real docker CLI (on a pty where a person would have one) and raw clients.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { readdir } from 'node:fs/promises';
import { inject } from 'vitest';
import { TestEngine } from './helpers/engine.js';
import { cliOf } from './helpers/cli.js';
import { onTerminal } from './helpers/terminal.js';
import { hijack } from './helpers/hijack.js';

const images = inject('images');
let engine: TestEngine;

beforeAll(async () => {
  engine = await TestEngine.start();
  expect((await engine.docker(['load', '-i', images.busybox.archive])).code).toBe(0);
  expect((await engine.docker(['run', '-d', '--name', 'box', '-u', '0', 'busybox', 'sleep', '1000'])).code).toBe(0);
});
afterAll(async () => {
  await engine?.destroy();
});

const { docker, ok, env: cliEnv } = cliOf(() => engine, { strict: true });

describe('docker exec', () => {
  it('runs a command and passes its output and exit code through', async () => {
    const res = await docker(['exec', 'box', 'sh', '-c', 'echo out; echo err >&2; exit 5']);
    expect(res).toMatchObject({ code: 5, stdout: 'out\n', stderr: 'err\n' });
    expect(await ok(['exec', 'box', 'cat', '/etc/hostname'])).toBe(`${(await ok(['inspect', '-f', '{{.Config.Hostname}}', 'box'])).trim()}\n`);
  });

  it('sees the container: its processes, environment and files', async () => {
    await ok(['exec', 'box', 'sh', '-c', 'echo made-by-exec > /shared']);
    expect(await ok(['exec', 'box', 'cat', '/shared'])).toBe('made-by-exec\n');
    expect(await ok(['exec', 'box', 'sh', '-c', 'ps -o comm | grep -c sleep'])).toBe('1\n'); // the container's PID namespace
    expect(await ok(['exec', 'box', 'sh', '-c', 'echo $PATH'])).toBe('/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n');
  });

  it('takes -e, -u, -w and -d', async () => {
    expect(await ok(['exec', '-e', 'A=1', '-e', 'PATH=/bin', '-u', '1000:1000', '-w', '/tmp', 'box', 'sh', '-c', 'echo $A $PATH; id; pwd'])).toBe(
      '1 /bin\nuid=1000 gid=1000 groups=1000\n/tmp\n',
    );
    expect(await ok(['exec', '-u', 'nobody', 'box', 'id', '-un'])).toBe('nobody\n');
    expect(await ok(['exec', '-d', 'box', 'sh', '-c', 'sleep 0.3; echo late > /detached'])).toBe('');
    for (let i = 0; i < 50 && (await docker(['exec', 'box', 'cat', '/detached'])).code !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await ok(['exec', 'box', 'cat', '/detached'])).toBe('late\n');
    // Failures to start come in the stream, with dockerd's exit code 126.
    const bad = await docker(['exec', '-u', 'nosuchuser', 'box', 'true']);
    expect(bad).toMatchObject({ code: 126, stdout: 'unable to find user nosuchuser: no matching entries in passwd file\r\n' });
    const missing = await docker(['exec', 'box', 'nosuchcmd']);
    expect(missing.code).toBe(126);
    expect(missing.stdout).toContain('executable file not found');
  });

  it('delivers all of piped stdin with -i and ends when it ends', async () => {
    const file = randomBytes(3 << 20); // 3 MiB of binary
    expect(await ok(['exec', '-i', 'box', 'sh', '-c', 'cat > /upload; echo done'], file)).toBe('done\n');
    const sum = createHash('sha256').update(file).digest('hex');
    expect(await ok(['exec', 'box', 'sha256sum', '/upload'])).toBe(`${sum}  /upload\n`);
  });

  it('gives exec -it a working shell: prompt, line editing, the terminal size, resizes', async () => {
    const res = await onTerminal(
      [30, 100],
      [
        { expect: '# ' },
        { send: 'stty size\r' },
        { expect: '30 100' },
        { resize: [45, 132] },
        { sleep: 0.5 },
        { send: 'stty size\r' },
        { expect: '45 132' },
        { send: 'echo abc\u007f\u007fx\r' },
        { expect: '\nax' }, // two backspaces: line editing in the shell
        { send: 'exit 7\r' },
      ],
      ['docker', 'exec', '-it', 'box', 'sh'],
      cliEnv(),
    );
    expect(res.code, res.stdout + res.stderr).toBe(7);
  });

  it('answers 409 for a paused or stopped container, as dockerd', async () => {
    await ok(['pause', 'box']);
    const paused = await docker(['exec', 'box', 'true']);
    expect(paused.code).not.toBe(0);
    expect(paused.stderr).toContain('is paused, unpause the container before exec');
    await ok(['unpause', 'box']);
    await ok(['create', '--name', 'stopped', 'busybox', 'true']);
    const res = await engine.http('POST', '/containers/stopped/exec', { Cmd: ['true'] });
    expect(res.status).toBe(409);
    expect(res.json().message).toMatch(/^Container [0-9a-f]{64} is not running$/);
    expect((await engine.http('POST', '/containers/nosuch/exec', { Cmd: ['true'] })).status).toBe(404);
    expect((await engine.http('POST', '/containers/box/exec', { Cmd: [] })).status).toBe(400);
    expect((await engine.http('GET', '/exec/nosuch/json')).json()).toEqual({ message: 'No such exec instance: nosuch' });
    await ok(['rm', 'stopped']);
  });

  it('keeps the session record, with the exit code, until the container goes', async () => {
    const { Id } = (await engine.http('POST', '/containers/box/exec', { Cmd: ['sh', '-c', 'exit 3'], AttachStdout: true, AttachStderr: true })).json();
    const before = (await engine.http('GET', `/exec/${Id}/json`)).json();
    expect(before).toMatchObject({
      ID: Id,
      Running: false,
      ExitCode: null,
      OpenStdout: true,
      OpenStdin: false,
      Pid: 0,
      ProcessConfig: { entrypoint: 'sh', arguments: ['-c', 'exit 3'], tty: false, privileged: false },
    });
    // A client without the Upgrade header (dockerode, testcontainers) gets 200 and the raw stream.
    const start = await engine.http('POST', `/exec/${Id}/start`, { Detach: false, Tty: false });
    expect(start.status).toBe(200);
    expect(start.headers['content-type']).toBe('application/vnd.docker.raw-stream');
    const after = (await engine.http('GET', `/exec/${Id}/json`)).json();
    expect(after).toMatchObject({ Running: false, ExitCode: 3, ContainerID: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(after.Pid).toBeGreaterThan(0);
    expect((await engine.http('POST', `/exec/${Id}/start`, { Detach: false })).status).toBe(409); // already ran
    await ok(['run', '-d', '--name', 'shortlived', 'busybox', 'sleep', '1000']);
    const other = (await engine.http('POST', '/containers/shortlived/exec', { Cmd: ['true'] })).json().Id;
    const shortId = (await ok(['inspect', '-f', '{{.Id}}', 'shortlived'])).trim();
    expect((await engine.http('POST', `/exec/${other}/start`, { Detach: true })).status).toBe(200);
    await ok(['rm', '-f', 'shortlived']);
    expect((await engine.http('GET', `/exec/${other}/json`)).status).toBe(404);
    // Nothing of theirs is left in the run root: conmon's attach socket links go with them.
    const links = await readdir(join(engine.runRoot, 'sock'));
    expect(links.filter((l) => l === shortId.slice(0, 12) || l === other.slice(0, 12))).toEqual([]);
  });

  it('speaks the hijack handshake: 101, framed output, half-close closes stdin', async () => {
    const { Id } = (
      await engine.http('POST', '/containers/box/exec', { Cmd: ['sh', '-c', 'cat; echo err >&2'], AttachStdin: true, AttachStdout: true, AttachStderr: true })
    ).json();
    const res = await hijack(engine.socket, `/v1.50/exec/${Id}/start`, JSON.stringify({ Detach: false, Tty: false }), Buffer.from('piped\n'));
    expect(res.head).toMatch(/^HTTP\/1.1 101 UPGRADED\r\n/);
    expect(res.head).toContain('Content-Type: application/vnd.docker.raw-stream');
    expect(res.frames).toEqual([
      { stream: 1, data: 'piped\n' },
      { stream: 2, data: 'err\n' },
    ]);
  });

  it('reads the start body of an Upgrade as the plain start reads it', async () => {
    const { Id } = (await engine.http('POST', '/containers/box/exec', { Cmd: ['true'] })).json();
    const bad = JSON.stringify({ Detach: 'yes' });
    const plain = await engine.http('POST', `/exec/${Id}/start`, { Detach: 'yes' });
    expect([plain.status, plain.json().message]).toEqual([400, 'invalid parameter: body/Detach must be boolean']);
    const upgraded = await hijack(engine.socket, `/v1.50/exec/${Id}/start`, bad, undefined, { timeoutMs: 5000 });
    expect(upgraded.head).toMatch(/^HTTP\/1.1 400 /);
    expect(JSON.parse(upgraded.body.toString())).toEqual({ message: 'invalid parameter: body/Detach must be boolean' });
    expect((await engine.http('GET', `/exec/${Id}/json`)).json().Running).toBe(false); // never started
  });

  it('runs several sessions at once (testcontainers starts three)', async () => {
    const results = await Promise.all([1, 2, 3, 4].map((i) => docker(['exec', 'box', 'sh', '-c', `sleep 0.2; echo ${i}; exit ${i}`])));
    expect(results.map((r) => [r.code, r.stdout])).toEqual([
      [1, '1\n'],
      [2, '2\n'],
      [3, '3\n'],
      [4, '4\n'],
    ]);
  });
});
