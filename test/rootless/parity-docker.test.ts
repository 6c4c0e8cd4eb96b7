// The Docker ecosystem's clients against a rootless berth, run as its user: docker-compose v1 (build, named
// volume, user network by service name, depends_on, healthcheck, ports, environment), python3-docker,
// dockerode and testcontainers 11, a client in a container talking through the mounted socket (as
// testcontainers' ryuk does), and --device. What they do here they do against a rootful berth too; the
// documented differences (no cgroups on v1: stats, pause, limits; ports < 1024) are left out.
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Result, TestEngine } from '../helpers/engine.js';
import { RootlessEngine, rootlessMain } from '../helpers/rootless.js';
import { freePort } from '../helpers/network.js';

let engine: RootlessEngine;

function ok(r: Result, what: string): string {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** As the user: a shell command, with DOCKER_HOST naming its rootless socket. */
const sh = async (script: string) => ok(await engine.user.run('sh', ['-c', script], { env: { DOCKER_HOST: `unix://${engine.socket}` } }), script);

/** A file in the user's home, written as the user (its scripts and build contexts). */
const put = (path: string, text: string) => sh(`mkdir -p "$(dirname ${path})" && cat > ${path} <<'EOF_RDK'\n${text}\nEOF_RDK`);

beforeAll(async () => {
  engine = await RootlessEngine.forNewUser('rdk', { load: inject('images').busybox.archive });
});

afterAll(async () => {
  if (!engine) return;
  // Rootless podman's lock file (the oracle's) outlives its user.
  await rm(`/dev/shm/libpod_rootless_lock_${engine.user.uid}`, { force: true });
  await engine.destroyWithUser();
});

describe('docker ecosystem clients against rootless berth, as the user', () => {
  it('docker-compose v1: build, named volume, user network by service name, depends_on, healthcheck, ports, env; up, ps, logs, exec, down -v', async () => {
    const port = await freePort();
    await put('app/Dockerfile', 'FROM busybox\nRUN mkdir -p /www && echo hello-from-build > /www/index.html\nCMD ["httpd", "-f", "-p", "8080", "-h", "/www"]');
    await put(
      'app/docker-compose.yml',
      [
        'version: "3.7"',
        'services:',
        '  web:',
        '    build: .',
        '    image: rdkweb:latest',
        `    ports: ["127.0.0.1:${port}:8080"]`,
        '    environment: { GREETING: hello }',
        '    volumes: [data:/data]',
        '    networks: [back]',
        '    healthcheck: { test: ["CMD", "wget", "-q", "-O-", "http://localhost:8080/"], interval: 1s, retries: 20 }',
        '  client:',
        '    image: busybox',
        '    command: sh -c "wget -q -O- http://web:8080/ && echo ENV=$$GREETING && echo > /data/from-client; exec sleep 300"',
        '    environment: { GREETING: fromclient }',
        '    volumes: [data:/data]',
        '    depends_on: [web]',
        '    networks: [back]',
        'volumes: { data: {} }',
        'networks: { back: {} }',
      ].join('\n'),
    );
    const compose = 'docker-compose -p rdk -f app/docker-compose.yml';
    try {
      const up = await sh(`${compose} up -d 2>&1`);
      expect(up).toContain('Successfully tagged rdkweb:latest');
      expect((await sh(`${compose} ps --services`)).split('\n').sort()).toEqual(['', 'client', 'web']);
      // The client reached web by its service name on the user network, and wrote to the shared volume.
      let logs = '';
      for (let i = 0; i < 100 && !logs.includes('ENV='); i++) {
        logs = await sh(`${compose} logs --no-color client`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(logs).toMatch(/hello-from-build\n.*ENV=fromclient/);
      expect(await sh(`${compose} exec -T web sh -c 'cat /www/index.html; echo $GREETING; ls /data'`)).toBe('hello-from-build\nhello\nfrom-client\n');
      let health = '';
      for (let i = 0; i < 100 && health !== 'healthy'; i++) {
        health = (await sh(`docker inspect -f '{{.State.Health.Status}}' rdk_web_1`)).trim();
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(health).toBe('healthy');
      expect(await sh(`wget -q -O- http://127.0.0.1:${port}/`)).toBe('hello-from-build\n');
    } finally {
      await sh(`${compose} down -v -t 1 2>&1`);
    }
    expect(await sh("docker ps -aq; docker volume ls -q; docker network ls --format '{{.Name}}' | grep rdk || true")).toBe('');
  });

  it('python3-docker: run, exec_run, put_archive/get_archive with owners, images.build, networks by name, volumes', async () => {
    await put(
      'py.py',
      `import docker, io, tarfile
c = docker.from_env()
def p(*a): print(*[x.decode().strip() if isinstance(x, bytes) else x for x in a])
p(c.containers.run("busybox", "echo hi", remove=True, network_mode="none"))
k = c.containers.run("busybox", "sleep 300", detach=True, network_mode="none")
p(k.exec_run("id", user="1000:1000").output)
p(k.exec_run("sh -c 'echo $X; pwd'", environment={"X": "y"}, workdir="/tmp").output)
buf = io.BytesIO(); t = tarfile.open(fileobj=buf, mode="w")
info = tarfile.TarInfo("f.txt"); info.size = 8; info.uid = info.gid = 1000; t.addfile(info, io.BytesIO(b"payload\\n")); t.close()
p(k.put_archive("/tmp", buf.getvalue()), k.exec_run("stat -c '%u:%g %s' /tmp/f.txt").output)
bits, stat = k.get_archive("/tmp/f.txt")
m = tarfile.open(fileobj=io.BytesIO(b"".join(bits))).getmembers()[0]
p(stat["name"], m.uid, m.gid, m.size)
k.remove(force=True)
image, _ = c.images.build(fileobj=io.BytesIO(b"FROM busybox\\nRUN echo built > /b && chown 1000 /b\\nUSER 1000\\nCMD stat -c '%u %n' /b\\n"), tag="rdkpy", rm=True)
p(c.containers.run("rdkpy", remove=True, network_mode="none"))
n = c.networks.create("rdkpynet")
srv = c.containers.run("busybox", "httpd -f -p 80 -h /etc", detach=True, name="rdksrv", network="rdkpynet")
p(c.containers.run("busybox", "wget -q -O- http://rdksrv/hostname", network="rdkpynet", remove=True) == srv.id[:12].encode() + b"\\n")
srv.remove(force=True); n.remove()
v = c.volumes.create("rdkpyvol")
c.containers.run("busybox", "sh -c 'echo v > /v/f && chown 1000 /v/f'", volumes={"rdkpyvol": {"bind": "/v", "mode": "rw"}}, remove=True, network_mode="none")
p(c.containers.run("busybox", "stat -c '%u %s' /v/f", volumes=["rdkpyvol:/v:ro"], remove=True, network_mode="none"))
v.remove()`,
    );
    // The same script against a rootful berth prints the same lines.
    expect(await sh('python3 py.py')).toBe(
      ['hi', 'uid=1000 gid=1000 groups=1000', 'y\n/tmp', 'True 1000:1000 8', 'f.txt 1000 1000 8', '1000 /b', 'True', '1000 2', ''].join('\n'),
    );
  });

  it('testcontainers 11 and dockerode as the user: wait strategies, exposed ports, copies, exec, a Network; a client in a container through the mounted socket', async () => {
    const modules = join(dirname(dirname(dirname(rootlessMain()))), 'node_modules');
    await put(
      'tc.cjs',
      `const tc = require(${JSON.stringify(join(modules, 'testcontainers'))});
const Docker = require(${JSON.stringify(join(modules, 'dockerode'))});
const fs = require('fs');
const HTTPD = ['sh', '-c', 'mkdir -p /www && echo hello > /www/index.html && echo ready && exec httpd -f -p 8080 -h /www'];
(async () => {
  const out = {};
  const d = new Docker();
  const [res, box] = await d.run('busybox', ['id', '-u'], process.stderr, { HostConfig: { NetworkMode: 'none' } });
  await box.remove();
  out.dockerode = res.StatusCode;
  const web = await new tc.GenericContainer('busybox').withCommand(HTTPD).withExposedPorts(8080).start();
  out.listening = [web.getHost(), await (await fetch('http://' + web.getHost() + ':' + web.getMappedPort(8080) + '/')).text()];
  await web.stop();
  const log = await new tc.GenericContainer('busybox').withCommand(['sh', '-c', 'sleep 1; echo all go; exec sleep 300'])
    .withWaitStrategy(tc.Wait.forLogMessage('all go')).withStartupTimeout(20000).start();
  out.log = (await log.exec(['echo', 'up'])).output;
  await log.stop();
  const healthy = await new tc.GenericContainer('busybox').withCommand(['sh', '-c', 'sleep 1; touch /tmp/h; exec sleep 300'])
    .withHealthCheck({ test: ['CMD-SHELL', 'test -f /tmp/h'], interval: 300, timeout: 1000, retries: 20, startPeriod: 0 })
    .withWaitStrategy(tc.Wait.forHealthCheck()).withStartupTimeout(20000).start();
  await healthy.stop();
  out.healthy = true;
  fs.writeFileSync('in.txt', 'copied\\n');
  const c = await new tc.GenericContainer('busybox').withCommand(['sleep', '300'])
    .withCopyFilesToContainer([{ source: process.env.HOME + '/in.txt', target: '/tmp/in.txt', mode: 0o640 }])
    .withCopyContentToContainer([{ content: 'content\\n', target: '/tmp/c.txt' }]).start();
  await c.copyFilesToContainer([{ source: process.env.HOME + '/in.txt', target: '/tmp/late.txt' }]);
  out.copies = (await c.exec(['sh', '-c', "stat -c '%a %u %n' /tmp/in.txt /tmp/c.txt /tmp/late.txt; cat /tmp/in.txt"])).output;
  out.execUser = (await c.exec(['sh', '-c', 'id -u; pwd'], { user: '1000', workingDir: '/tmp' })).output;
  await c.stop();
  const net = await new tc.Network().start();
  const srv = await new tc.GenericContainer('busybox').withCommand(HTTPD).withNetwork(net).withNetworkAliases('srv').withExposedPorts(8080).start();
  const cli = await new tc.GenericContainer('busybox').withCommand(['sleep', '300']).withNetwork(net).start();
  out.network = (await cli.exec(['wget', '-q', '-O-', 'http://srv:8080/'])).output;
  await cli.stop(); await srv.stop(); await net.stop();
  console.log(JSON.stringify(out));
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });`,
    );
    // The sandbox has /.dockerenv, where the library would take the bridge's gateway (inside the rootless
    // network namespace) as the host, as it would with rootless dockerd: a user sets the override. Ryuk's
    // image comes from Docker Hub, which tests cannot reach; what it does is checked below.
    const out = await sh(`TESTCONTAINERS_HOST_OVERRIDE=localhost TESTCONTAINERS_RYUK_DISABLED=true ${process.execPath} tc.cjs`);
    expect(JSON.parse(out)).toEqual({
      dockerode: 0,
      listening: ['localhost', 'hello\n'],
      log: 'up\n',
      healthy: true,
      copies: '640 0 /tmp/in.txt\n644 0 /tmp/c.txt\n644 0 /tmp/late.txt\ncopied\n',
      execUser: '1000\n/tmp\n',
      network: 'hello\n',
    });
    // Ryuk's way: the engine's socket bound into a container whose client lists and removes containers.
    const inner = await sh(
      'docker run -d --name rdk-target --network none busybox sleep 300 >/dev/null && ' +
        'docker run --rm --network none -v $XDG_RUNTIME_DIR/berth/berth.sock:/var/run/docker.sock -v /usr/local/bin/docker:/docker:ro busybox ' +
        "sh -c '/docker ps --format {{.Names}} --filter name=rdk-target && /docker rm -f rdk-target' && docker ps -aq",
    );
    expect(inner).toBe('rdk-target\nrdk-target\n');
  });

  it("a container reaches another's published port at its network's gateway and at host-gateway, as on a rootful engine", async () => {
    const port = await freePort();
    // Rootless podman (--network podman, runc), the same user, answers with the server's hostname too:
    // netavark's DNAT rules are in its rootless namespace beside rootlessport. Before, berth's refused
    // ("wget: can't connect to remote host (10.x.0.1): Connection refused").
    const id = (await sh(`docker run -d --name rdk-gw -p ${port}:80 busybox httpd -f -p 80 -h /etc`)).trim();
    try {
      // (Expanded by the container's shell: the user's shell passes \$ on as $.)
      const dial = `wget -q -O- http://\\$(ip route | awk '/default/ {print \\$3}'):${port}/hostname`;
      await sh('docker network create rdk-other >/dev/null');
      // From the default bridge and from a user network (each dials its own gateway), and from the host.
      expect(await sh(`docker run --rm busybox sh -c "${dial}"`)).toBe(`${id.slice(0, 12)}\n`);
      expect(await sh(`docker run --rm --network rdk-other busybox sh -c "${dial}"`)).toBe(`${id.slice(0, 12)}\n`);
      expect(await sh(`wget -q -O- http://127.0.0.1:${port}/hostname`)).toBe(`${id.slice(0, 12)}\n`);
      // Compose files' `extra_hosts: [host.docker.internal:host-gateway]`: dockerd writes its docker0 address
      // (the default bridge's gateway), rootful berth now too; before, the line read "host-gateway".
      const gateway = (await sh(`docker network inspect bridge -f '{{(index .IPAM.Config 0).Gateway}}'`)).trim();
      expect(
        await sh(
          `docker run --rm --network rdk-other --add-host host.docker.internal:host-gateway busybox sh -c "grep host.docker /etc/hosts; wget -q -O- http://host.docker.internal:${port}/hostname"`,
        ),
      ).toBe(`${gateway}\thost.docker.internal\n${id.slice(0, 12)}\n`);
    } finally {
      await sh('docker rm -f rdk-gw >/dev/null; docker network rm rdk-other >/dev/null');
    }
  });

  it('--device: the host node bound in (read-only without w), as rootless podman makes it; docker CLI and podman --remote', async () => {
    const script =
      'ls -ln /dev/mynull /dev/z; echo x > /dev/mynull && echo wrote; head -c 3 /dev/z | wc -c; grep -E "/dev/(mynull|z) " /proc/mounts | cut -d" " -f2,4 | cut -d, -f1';
    const args = ['run', '--rm', '--network', 'none', '--device', '/dev/null:/dev/mynull', '--device', '/dev/zero:/dev/z:r', 'busybox', 'sh', '-c', script];
    // Rootless podman (runc), the same user: `podman run --device …` prints this (the host's nodes, root's,
    // are nobody's inside). Before, the docker CLI's --device was dropped, rootful too ("No such file or
    // directory"), and podman --remote failed with runc's "unable to get oom kill count".
    const want = 'crw-rw-rw- 1 65534 65534 1, 3 /dev/mynull\ncrw-rw-rw- 1 65534 65534 1, 5 /dev/z\nwrote\n3\n/dev/mynull rw\n/dev/z ro\n';
    const strip = (s: string) => s.replace(/ +/g, ' ').replace(/ [A-Z][a-z]{2} +\d+ [\d:]+ /g, ' ');
    expect(strip(ok(await engine.docker(args), 'docker run --device'))).toBe(want);
    expect(strip(ok(await engine.podman(args), 'podman --remote run --device'))).toBe(want);
    const id = ok(await engine.docker(['create', '--device', '/dev/null:/dev/mynull:rw', 'busybox']), 'create').trim();
    expect(JSON.parse(ok(await engine.docker(['inspect', '-f', '{{json .HostConfig.Devices}}', id]), 'inspect'))).toEqual([
      { PathOnHost: '/dev/null', PathInContainer: '/dev/mynull', CgroupPermissions: 'rw' },
    ]);
    await engine.docker(['rm', id]);
    // The rootful berth makes the nodes with mknod, root's (no mounts of them), as dockerd does.
    const rootful = await TestEngine.start();
    try {
      ok(await rootful.docker(['load', '-i', inject('images').busybox.archive]), 'rootful load');
      expect(strip(ok(await rootful.docker(args), 'rootful docker run --device'))).toBe(
        'crw-rw-rw- 1 0 0 1, 3 /dev/mynull\ncrw-rw-rw- 1 0 0 1, 5 /dev/z\nwrote\n3\n',
      );
    } finally {
      await rootful.destroy();
    }
  });
});
