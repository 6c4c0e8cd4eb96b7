// One state for both APIs: a container made by `docker run` lists, inspects, stops and goes through
// podman --remote, and one made by podman through docker; each API shows its own view (its engine's
// defaults for what the other API's client sent).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { TestEngine } from '../helpers/engine.js';
import { podmanClient, type PodmanClient } from '../helpers/podman.js';

const images = inject('images');
let engine: TestEngine;
let podman: PodmanClient;
beforeAll(async () => {
  engine = await TestEngine.start();
  podman = await podmanClient(engine.socket, engine.dir);
  const r = await engine.docker(['load', '-i', images.busybox.archive]);
  expect(r.code, r.stderr).toBe(0);
}, 120_000);
afterAll(async () => {
  await engine?.destroy();
});

const docker = async (args: string[]) => {
  const r = await engine.docker(args);
  expect(r.code, `docker ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
};

describe('docker and podman --remote over one state', () => {
  it('a docker run container: podman ps, inspect, stop, start, rm', async () => {
    const id = (await docker(['run', '-d', '--name', 'from-docker', '-p', '18393:80', '-e', 'D=1', 'busybox', 'sleep', '1000'])).trim();
    expect(await podman.ok(['ps', '--no-trunc', '--format', '{{.ID}} {{.Names}} {{.Image}} {{.Ports}}'])).toBe(
      `${id} from-docker docker.io/library/busybox:latest 0.0.0.0:18393->80/tcp\n`,
    );
    // podman's view: its defaults where Docker's client sent what podman's would not.
    const inspect = JSON.parse(await podman.ok(['inspect', 'from-docker']))[0];
    expect(inspect).toMatchObject({
      Id: id,
      Name: 'from-docker',
      ImageName: 'docker.io/library/busybox:latest',
      State: { Status: 'running', Running: true },
      Config: { Env: expect.arrayContaining(['D=1']), sdNotifyMode: 'container', Umask: '0022' },
      HostConfig: { NetworkMode: 'bridge', LogConfig: { Type: 'k8s-file' } },
    });
    expect(Object.keys(inspect.NetworkSettings.Networks)).toEqual(['podman']);
    expect(await podman.ok(['port', 'from-docker'])).toBe('80/tcp -> 0.0.0.0:18393\n');
    await podman.ok(['stop', '-t', '0', 'from-docker']);
    expect((await docker(['inspect', '--format', '{{.State.Status}}', 'from-docker'])).trim()).toBe('exited');
    await podman.ok(['start', 'from-docker']);
    expect((await docker(['inspect', '--format', '{{.State.Status}}', 'from-docker'])).trim()).toBe('running');
    // Docker's view keeps what Docker's client sent.
    expect((await docker(['inspect', '--format', '{{.Config.AttachStdout}} {{.HostConfig.NetworkMode}}', 'from-docker'])).trim()).toBe('false bridge');
    expect(await podman.ok(['rm', '-f', 'from-docker'])).toBe('from-docker\n');
    expect(await docker(['ps', '-aq'])).toBe('');
  });

  it('a podman run container: docker ps, inspect, stop, rm', async () => {
    const id = (await podman.ok(['run', '-d', '--name', 'from-podman', '--stop-signal', 'SIGUSR1', 'busybox', 'sleep', '1000'])).trim();
    expect(await docker(['ps', '--no-trunc', '--format', '{{.ID}} {{.Names}} {{.Image}} {{.State}}'])).toBe(
      `${id} from-podman docker.io/library/busybox:latest running\n`,
    );
    const inspect = JSON.parse(await docker(['inspect', 'from-podman']))[0];
    expect(inspect).toMatchObject({
      Id: id,
      Name: '/from-podman',
      State: { Status: 'running' },
      Config: { StopSignal: 'SIGUSR1', Env: expect.arrayContaining(['container=podman']) },
      HostConfig: { NetworkMode: 'bridge' },
    });
    // Podman's create command is libpod's echo alone: Docker's view has no such field.
    expect(inspect.Config.CreateCommand).toBeUndefined();
    expect((await podman.ok(['inspect', '--format', '{{index .Config.CreateCommand 3}} {{.Config.StopSignal}}', 'from-podman'])).trim()).toMatch(
      /^unix:\/\/\S+ 10$/,
    );
    await docker(['stop', '-t', '0', 'from-podman']);
    expect(await podman.ok(['ps', '-a', '--format', '{{.Names}} {{.Status}}'])).toMatch(/^from-podman Exited \(137\) .*ago\n$/);
    await docker(['rm', 'from-podman']);
    expect(await podman.ok(['ps', '-aq'])).toBe('');
  });

  it('a podman create on a user network made by docker, with a static address and an alias', async () => {
    await docker(['network', 'create', '--subnet', '10.231.9.0/24', 'mixnet']);
    await podman.ok(['run', '-d', '--name', 'onnet', '--network', 'mixnet', '--ip', '10.231.9.50', '--network-alias', 'al', 'busybox', 'sleep', '1000']);
    expect((await podman.ok(['inspect', '--format', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{$v.IPAddress}}{{end}}', 'onnet'])).trim()).toBe(
      'mixnet 10.231.9.50',
    );
    expect((await docker(['inspect', '--format', '{{json .NetworkSettings.Networks.mixnet.Aliases}}', 'onnet'])).trim()).toContain('"al"');
    expect((await podman.ok(['ps', '--format', '{{.Networks}}'])).trim()).toBe('mixnet');
    // A short name resolves to the local image in any domain.
    await docker(['tag', 'busybox', 'localhost/mine:1']);
    await podman.ok(['create', '--name', 'short', 'mine:1', 'true']);
    expect((await podman.ok(['inspect', '--format', '{{.ImageName}}', 'short'])).trim()).toBe('localhost/mine:1');
    await podman.ok(['rm', '-f', '-t', '0', 'onnet', 'short']);
    await docker(['network', 'rm', 'mixnet']);
  });

  it('an initialized container is created again after the engine restarts, and starts', async () => {
    await podman.ok(['create', '--name', 'ini', 'busybox', 'sleep', '1000']);
    await podman.ok(['init', 'ini']);
    expect((await docker(['inspect', '--format', '{{.State.Status}}', 'ini'])).trim()).toBe('created');
    await engine.stop('SIGKILL');
    await engine.start();
    expect((await podman.ok(['inspect', '--format', '{{.State.Status}} {{.State.Pid}}', 'ini'])).trim()).toBe('created 0');
    await podman.ok(['start', 'ini']);
    expect((await podman.ok(['inspect', '--format', '{{.State.Status}}', 'ini'])).trim()).toBe('running');
    await podman.ok(['rm', '-f', '-t', '0', 'ini']);
  });

  it('run -d --rm: the container goes when it exits', async () => {
    await podman.ok(['run', '-d', '--rm', '--name', 'gone', 'busybox', 'true']);
    let code = 0;
    for (let i = 0; i < 50 && code === 0; i++) {
      code = (await podman.podman(['container', 'exists', 'gone'])).code;
      if (code === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(code).toBe(1);
  });
});
