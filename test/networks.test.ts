// Networks through the docker CLI: the default bridge, user networks with names and aliases resolved by
// aardvark-dns, published ports reached from the host, connect/disconnect, internal networks, and that
// nothing (bridge, rule, namespace, DNS server) stays on the host once containers and networks are gone.
import { afterAll, describe, expect, inject, it } from 'vitest';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { suiteEngine } from './helpers/suite.js';
import { cliOf } from './helpers/cli.js';
import { hostAddress, leftovers, traceOf, type NetworkTrace } from './helpers/network.js';

const images = inject('images');
const engine = suiteEngine({ load: [images.busybox.archive] });
const { docker, ok, env } = cliOf(() => engine);
const traces: NetworkTrace[] = [];
const hostPorts: number[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HTTPD = (text: string) => ['sh', '-c', `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 80 -h /www`];

async function fetchText(url: string): Promise<string> {
  for (let i = 0; ; i++) {
    try {
      return await (await fetch(url)).text();
    } catch (err) {
      if (i > 30) throw err;
      await sleep(100);
    }
  }
}

/** A free TCP port on the host, for tests that choose their own host ports. */
function freePort(): number {
  const port = 20000 + Math.floor(Math.random() * 10000);
  hostPorts.push(port);
  return port;
}

afterAll(async () => {
  // Best effort: after a failure the engine may be down (the suite helper then reaps and scrubs).
  const ids = (await docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  if (ids.length) await docker(['rm', '-f', ...ids]);
});

describe('the default bridge', () => {
  it('gives each container an address, a hosts entry and a way out', async () => {
    traces.push(await traceOf(engine, 'bridge'));
    const [bridge] = traces;
    const out = await ok(['run', '--rm', '--hostname', 'box', 'busybox', 'sh', '-c', 'ip -4 -o addr show eth0; cat /etc/hosts; ip route']);
    const ip = /inet (\d+\.\d+\.\d+\.\d+)\/16/.exec(out)?.[1];
    expect(ip, out).toBeDefined();
    expect(out).toContain(`${ip}\tbox`);
    const gateway = bridge!.subnet.replace(/0\/16$/, '1');
    expect(out).toContain(`default via ${gateway}`);
    // The host answers on its own address through the gateway: containers reach beyond the bridge.
    expect(await ok(['run', '--rm', 'busybox', 'ping', '-c', '1', '-W', '2', hostAddress()])).toContain('1 packets received');

    await ok(['run', '-d', '--name', 'plain', 'busybox', 'sleep', '300']);
    const settings = JSON.parse(await ok(['inspect', '-f', '{{json .NetworkSettings}}', 'plain']));
    expect(settings.IPAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(settings).toMatchObject({ Gateway: gateway, IPPrefixLen: 16 });
    expect(settings.Networks.bridge).toMatchObject({ IPAddress: settings.IPAddress, Gateway: gateway, Aliases: null });
    expect(settings.Networks.bridge.MacAddress).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    // No names on the default bridge, as with Docker.
    expect((await docker(['run', '--rm', 'busybox', 'nslookup', 'plain'])).code).not.toBe(0);
    await ok(['stop', '-t', '0', 'plain']);
    expect(JSON.parse(await ok(['inspect', '-f', '{{json .NetworkSettings.Networks.bridge}}', 'plain'])).IPAddress).toBe('');
    await ok(['rm', 'plain']);
  });

  it('shapes /etc/hosts and /etc/resolv.conf with --add-host, --dns, --dns-search, --hostname', async () => {
    const out = await ok([
      'run',
      '--rm',
      '--add-host',
      'db.local:10.1.2.3',
      '--dns',
      '10.9.9.9',
      '--dns-search',
      'corp.example',
      '--hostname',
      'named',
      'busybox',
      'sh',
      '-c',
      'cat /etc/hosts /etc/resolv.conf; hostname',
    ]);
    expect(out).toContain('10.1.2.3\tdb.local');
    expect(out).toContain('nameserver 10.9.9.9');
    expect(out).toContain('search corp.example');
    expect(out.trim().endsWith('named')).toBe(true);
  });
});

describe('published ports', () => {
  it('answers from the host on 127.0.0.1 and its own address; docker port and ps report them', async () => {
    const port = freePort();
    await ok(['run', '-d', '--name', 'web', '-p', `${port}:80`, 'busybox', ...HTTPD('hello')]);
    expect((await fetchText(`http://127.0.0.1:${port}/`)).trim()).toBe('hello');
    expect((await fetchText(`http://${hostAddress()}:${port}/`)).trim()).toBe('hello');
    expect((await ok(['port', 'web'])).trim()).toBe(`80/tcp -> 0.0.0.0:${port}`);
    expect((await ok(['ps', '--filter', 'name=web', '--format', '{{.Ports}}'])).trim()).toBe(`0.0.0.0:${port}->80/tcp`);
    expect(JSON.parse(await ok(['inspect', '-f', '{{json .NetworkSettings.Ports}}', 'web']))).toEqual({
      '80/tcp': [{ HostIp: '0.0.0.0', HostPort: String(port) }],
    });
    expect((await ok(['ps', '-q', '--filter', `publish=${port}`])).trim()).toHaveLength(12);

    // The same host port for a second container: a clear error at start, and nothing half set up.
    const clash = await docker(['run', '-d', '--name', 'clash', '-p', `${port}:80`, 'busybox', ...HTTPD('no')]);
    expect(clash.code).toBe(125);
    expect(clash.stderr).toContain(`Bind for 0.0.0.0:${port} failed: port is already allocated`);
    const clashNet = JSON.parse(await ok(['inspect', '-f', '{{json .NetworkSettings}}', 'clash']));
    expect(clashNet).toMatchObject({ SandboxKey: '', Ports: {}, IPAddress: '' });
    expect((await fetchText(`http://127.0.0.1:${port}/`)).trim()).toBe('hello');
    await ok(['rm', 'clash']);

    await ok(['rm', '-f', 'web']);
    expect((await docker(['run', '--rm', '-d', '-p', `${port}:80`, 'busybox', 'true'])).code).toBe(0); // free again
  });

  it('binds to one address, picks free ports for -p 80 and -P, and maps ranges', async () => {
    const port = freePort();
    await ok(['run', '-d', '--name', 'local', '-p', `127.0.0.1:${port}:80`, '-p', '80', '--expose', '81', '-P', 'busybox', ...HTTPD('local')]);
    expect((await fetchText(`http://127.0.0.1:${port}/`)).trim()).toBe('local');
    const ports = JSON.parse(await ok(['inspect', '-f', '{{json .NetworkSettings.Ports}}', 'local']));
    expect(ports['80/tcp']).toContainEqual({ HostIp: '127.0.0.1', HostPort: String(port) });
    const picked = ports['80/tcp'].find((p: { HostIp: string }) => p.HostIp === '0.0.0.0');
    expect(Number(picked.HostPort)).toBeGreaterThanOrEqual(1024);
    hostPorts.push(Number(picked.HostPort));
    expect((await fetchText(`http://127.0.0.1:${picked.HostPort}/`)).trim()).toBe('local');
    expect(ports['81/tcp']).toHaveLength(1); // -P publishes what is exposed
    hostPorts.push(Number(ports['81/tcp'][0].HostPort));
    const range = freePort();
    await ok(['run', '-d', '--name', 'ranged', '-p', `${range}-${range + 1}:80-81`, 'busybox', 'sh', '-c', 'httpd -p 80 -h /; httpd -f -p 81 -h /etc']);
    hostPorts.push(range + 1);
    expect(await ok(['port', 'ranged', '81/tcp'])).toContain(`0.0.0.0:${range + 1}`);
    // The server in the container may not listen yet: fetchText retries until it does.
    expect((await fetchText(`http://127.0.0.1:${range + 1}/hostname`)).trim()).toHaveLength(12);
    await ok(['rm', '-f', 'local', 'ranged']);
  });

  it('takes host port 0 as any free port, as testcontainers asks (-p 0:80, HostPort "0")', async () => {
    await ok(['run', '-d', '--name', 'zero', '-p', '0:80', '-p', '127.0.0.1:0:81', 'busybox', ...HTTPD('zero')]);
    const ports = JSON.parse(await ok(['inspect', '-f', '{{json .NetworkSettings.Ports}}', 'zero']));
    const picked = Number(ports['80/tcp'][0].HostPort);
    hostPorts.push(picked, Number(ports['81/tcp'][0].HostPort));
    expect(picked).toBeGreaterThanOrEqual(1024);
    expect(ports['81/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: expect.stringMatching(/^[1-9]\d+$/) }]);
    expect((await ok(['port', 'zero', '80/tcp'])).trim()).toBe(`0.0.0.0:${picked}`);
    expect((await fetchText(`http://127.0.0.1:${picked}/`)).trim()).toBe('zero');
    // What was asked stays as asked, as dockerd keeps it.
    expect(JSON.parse(await ok(['inspect', '-f', '{{json .HostConfig.PortBindings}}', 'zero']))['80/tcp']).toEqual([{ HostIp: '', HostPort: '0' }]);
    // The raw body testcontainers sends.
    const created = await engine.http('POST', '/containers/create?name=zero-api', {
      Image: 'busybox',
      Cmd: HTTPD('api'),
      ExposedPorts: { '8080/tcp': {} },
      HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '0' }] } },
    });
    expect(created.status, created.body.toString()).toBe(201);
    expect((await engine.http('POST', '/containers/zero-api/start')).status).toBe(204);
    const apiPort = (await engine.http('GET', '/containers/zero-api/json')).json().NetworkSettings.Ports['80/tcp'][0].HostPort;
    hostPorts.push(Number(apiPort));
    expect(apiPort).not.toBe(String(picked));
    expect((await fetchText(`http://127.0.0.1:${apiPort}/`)).trim()).toBe('api');
    await ok(['rm', '-f', 'zero', 'zero-api']);
  });

  it('forwards UDP (-p HOST:53/udp)', async () => {
    const port = freePort();
    await ok(['run', '-d', '--name', 'udp', '-p', `${port}:53/udp`, 'busybox', 'sleep', '300']);
    // busybox has no UDP server: a Python echo server runs in the container's network namespace.
    const netns = (await ok(['inspect', '-f', '{{.NetworkSettings.SandboxKey}}', 'udp'])).trim();
    const server = spawn(
      'nsenter',
      [
        `--net=${netns}`,
        'python3',
        '-c',
        'import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(("0.0.0.0",53))\nd,a=s.recvfrom(100)\ns.sendto(b"echo:"+d,a)',
      ],
      { stdio: 'ignore' },
    );
    try {
      await sleep(300);
      const reply = await new Promise<string>((resolve, reject) => {
        const s = createSocket('udp4');
        const timer = setInterval(() => s.send('ping', port, hostAddress()), 200);
        const done = (settle: () => void) => {
          clearInterval(timer);
          clearTimeout(deadline);
          s.close();
          settle();
        };
        const deadline = setTimeout(() => done(() => reject(new Error('no UDP reply'))), 5000);
        s.once('message', (m) => done(() => resolve(m.toString())));
      });
      expect(reply).toBe('echo:ping');
    } finally {
      server.kill('SIGKILL');
    }
    await ok(['rm', '-f', 'udp']);
  });
});

describe('user-defined networks', () => {
  it('resolve containers by name and alias; connect, disconnect, inspect, ls filters', async () => {
    await ok(['network', 'create', '--label', 'team=a', 'app']);
    traces.push(await traceOf(engine, 'app'));
    await ok(['run', '-d', '--name', 'server', '--network', 'app', '--network-alias', 'api', 'busybox', ...HTTPD('from-server')]);
    const byName = await ok(['run', '--rm', '--network', 'app', 'busybox', 'wget', '-qO-', 'http://server/']);
    expect(byName.trim()).toBe('from-server');
    expect((await ok(['run', '--rm', '--network', 'app', 'busybox', 'wget', '-qO-', 'http://api/'])).trim()).toBe('from-server');
    const ip = (await ok(['inspect', '-f', '{{.NetworkSettings.Networks.app.IPAddress}}', 'server'])).trim();
    expect(await ok(['run', '--rm', '--network', 'app', 'busybox', 'nslookup', 'server'])).toContain(`Address: ${ip}`);

    const net = JSON.parse(await ok(['network', 'inspect', 'app']))[0];
    expect(net).toMatchObject({ Name: 'app', Driver: 'bridge', Scope: 'local', Internal: false, Labels: { team: 'a' }, IPAM: { Driver: 'default' } });
    expect(Object.values(net.Containers)).toEqual([expect.objectContaining({ Name: 'server', IPv4Address: `${ip}/24` })]);
    expect((await ok(['network', 'ls', '--filter', 'label=team=a', '--format', '{{.Name}}'])).trim()).toBe('app');
    expect((await ok(['network', 'ls', '--filter', 'type=builtin', '--format', '{{.Name}}'])).split('\n').filter(Boolean).sort()).toEqual([
      'bridge',
      'host',
      'none',
    ]);

    // A second network, connected while running, with an alias and a static address.
    await ok(['network', 'create', '--subnet', '10.231.7.0/24', 'back']);
    traces.push(await traceOf(engine, 'back'));
    await ok(['network', 'connect', '--alias', 'store', '--ip', '10.231.7.50', 'back', 'server']);
    expect(await ok(['exec', 'server', 'ip', '-4', '-o', 'addr'])).toContain('10.231.7.50/24');
    expect((await ok(['run', '--rm', '--network', 'back', 'busybox', 'wget', '-qO-', 'http://store/'])).trim()).toBe('from-server');
    await ok(['network', 'disconnect', 'back', 'server']);
    expect(await ok(['exec', 'server', 'ip', '-4', '-o', 'addr'])).not.toContain('10.231.7.50');
    expect((await docker(['network', 'disconnect', 'back', 'server'])).code).not.toBe(0);

    // In use: refused; after the container goes, removed.
    const busy = await engine.http('DELETE', '/networks/app');
    expect(busy.status).toBe(403);
    expect(busy.json().message).toMatch(/has active endpoints/);
    expect((await docker(['network', 'rm', 'bridge'])).stderr).toContain('bridge is a pre-defined network and cannot be removed');
    expect((await docker(['network', 'create', 'app'])).stderr).toContain('network with name app already exists');
    await ok(['rm', '-f', 'server']);
    await ok(['network', 'rm', 'app']);
    expect((await ok(['network', 'prune', '-f'])).trim()).toBe('Deleted Networks:\nback');
    expect((await ok(['network', 'ls', '--format', '{{.Name}}'])).split('\n').filter(Boolean).sort()).toEqual(['bridge', 'host', 'none']);
  });

  it('lets docker-compose services find each other by service and container name', async () => {
    const dir = await mkdtemp(join(engine.dir, 'compose-'));
    const compose = (args: string[]) =>
      new Promise<{ code: number; out: string }>((resolve) => {
        execFile('docker-compose', ['-p', 'shop', ...args], { cwd: dir, env: env() }, (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
        );
      });
    await writeFile(
      join(dir, 'docker-compose.yml'),
      [
        'version: "3"',
        'services:',
        '  web:',
        '    image: busybox',
        '    stop_signal: SIGKILL',
        '    command: sh -c "mkdir -p /www && echo from-web > /www/index.html && exec httpd -f -p 80 -h /www"',
        '  client:',
        '    image: busybox',
        '    depends_on: [web]',
        '    command: sh -c "for i in 1 2 3 4 5; do wget -qO- http://web/ && break; sleep 0.3; done; wget -qO- http://shop_web_1/"',
      ].join('\n'),
    );
    try {
      const up = await compose(['up', '--abort-on-container-exit', '--exit-code-from', 'client']);
      up.out = up.out.replace(/\x1b\[[0-9;]*m/g, '');
      expect(up.out).toMatch(/client_1 +\| from-web[\s\S]*client_1 +\| from-web/);
      expect(up.code, up.out).toBe(0);
    } finally {
      const down = await compose(['down']);
      expect(down.out).toContain('Removing network shop_default');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps internal networks from reaching outside; shares a namespace with container:<name>', async () => {
    await ok(['network', 'create', '--internal', 'sealed']);
    traces.push(await traceOf(engine, 'sealed'));
    await ok(['run', '-d', '--name', 'inside', '--network', 'sealed', 'busybox', 'sleep', '300']);
    expect((await docker(['exec', 'inside', 'ping', '-c', '1', '-W', '1', hostAddress()])).code).not.toBe(0);
    const own = (await ok(['exec', 'inside', 'ip', '-4', '-o', 'addr', 'show', 'eth0'])).trim();
    const shared = (await ok(['run', '--rm', '--network', 'container:inside', 'busybox', 'ip', '-4', '-o', 'addr', 'show', 'eth0'])).trim();
    expect(shared.split(/\s+/)[3]).toBe(own.split(/\s+/)[3]);
    await ok(['rm', '-f', 'inside']);
    await ok(['network', 'rm', 'sealed']);
  });

  it('refuses unknown networks at start (404, as dockerd looks them up there) and bad port specs at create (400)', async () => {
    const unknown = await engine.http('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'nowhere' } });
    expect(unknown.status).toBe(201);
    const start = await engine.http('POST', `/containers/${unknown.json().Id}/start`);
    expect(start.status).toBe(404);
    expect(start.json().message).toBe('network nowhere not found');
    expect((await engine.http('DELETE', `/containers/${unknown.json().Id}`)).status).toBe(204);
    const bad = await engine.http('POST', '/containers/create', {
      Image: 'busybox',
      Cmd: ['true'],
      HostConfig: { PortBindings: { 'x/tcp': [{ HostPort: '1' }] } },
    });
    expect(bad.status).toBe(400);
    const overlap = await engine.http('POST', '/networks/create', { Name: 'dup', IPAM: { Config: [{ Subnet: traces[0]!.subnet }] } });
    expect(overlap.status).toBe(403);
  });
});

describe('a network between containers', () => {
  it('keeps its bridge and rules after its last container, as dockerd keeps docker0; containers after it work; network rm takes them', async () => {
    await ok(['network', 'create', 'kept']);
    const trace = await traceOf(engine, 'kept');
    traces.push(trace);
    await ok(['run', '--rm', '--network', 'kept', 'busybox', 'true']);
    const between = await leftovers(engine, [trace]);
    expect(between).toContain(`bridge ${trace.bridge}`);
    expect(between.filter((l) => l.startsWith('rule ')).length).toBeGreaterThan(0);
    expect(between.filter((l) => l.startsWith('netns '))).toEqual([]);
    // The next ones (set up on the kept bridge) reach each other by name, the host, and a published port.
    const port = freePort();
    await ok(['run', '-d', '--name', 'kept1', '--network', 'kept', '--network-alias', 'k1', '-p', `${port}:80`, 'busybox', ...HTTPD('kept1')]);
    await ok(['run', '-d', '--name', 'kept2', '--network', 'kept', 'busybox', ...HTTPD('kept2')]);
    expect((await fetchText(`http://127.0.0.1:${port}/`)).trim()).toBe('kept1');
    expect(await ok(['run', '--rm', '--network', 'kept', 'busybox', 'wget', '-qO-', 'http://kept2/'])).toBe('kept2\n');
    expect(await ok(['exec', 'kept2', 'wget', '-qO-', 'http://k1/'])).toBe('kept1\n');
    expect(await ok(['run', '--rm', '--network', 'kept', 'busybox', 'ping', '-c', '1', '-W', '2', hostAddress()])).toContain('1 packets received');
    await ok(['rm', '-f', 'kept1', 'kept2']);
    // Nothing of the containers stays (the network's DNS server serves it until it goes), and the name of a removed one resolves no more.
    expect((await leftovers(engine, [], [port])).filter((l) => !l.startsWith('aardvark-dns '))).toEqual([]);
    expect((await docker(['run', '--rm', '--network', 'kept', 'busybox', 'nslookup', 'kept2'])).code).not.toBe(0);
    await ok(['network', 'rm', 'kept']);
    expect(await leftovers(engine, [trace])).toEqual([]);
  }, 60_000);
});

describe('kill -9 and cleanup', () => {
  it('undoes the networking of containers that ended while the engine was down, and of a reset run root', async () => {
    await ok(['network', 'create', 'crash']);
    traces.push(await traceOf(engine, 'crash'));
    const port = freePort();
    await ok(['run', '-d', '--name', 'shortlived', '--network', 'crash', '-p', `${port}:80`, 'busybox', 'sh', '-c', 'sleep 1.5']);
    const keeper = freePort();
    await ok(['run', '-d', '--name', 'keeper', '-p', `${keeper}:80`, 'busybox', ...HTTPD('kept')]);
    await engine.stop('SIGKILL');
    // While the engine is down: the published port still answers, and `shortlived` exits (berth cleanup).
    expect((await fetchText(`http://127.0.0.1:${keeper}/`)).trim()).toBe('kept');
    const forwarded = () => new RegExp(`--dport ${port}\\b`).test(execFileSync('iptables-save', { encoding: 'utf8' }));
    for (let i = 0; i < 50 && forwarded(); i++) await sleep(200);
    expect(forwarded()).toBe(false);
    await engine.start();
    expect((await fetchText(`http://127.0.0.1:${keeper}/`)).trim()).toBe('kept');
    expect((await ok(['inspect', '-f', '{{.State.Status}}', 'shortlived'])).trim()).toBe('exited');
    // What a reboot does: every process and mount gone. The engine then tears down from its record.
    await engine.stop('SIGKILL');
    const { reapStragglers } = await import('./helpers/engine.js');
    await reapStragglers(engine.dir, { keepNetworks: true }); // bridges and rules stay: the engine must undo them
    await engine.start();
    expect((await ok(['inspect', '-f', '{{.State.Status}}', 'keeper'])).trim()).toBe('exited');
    expect(execFileSync('iptables-save', { encoding: 'utf8' })).not.toMatch(new RegExp(`--dport ${keeper}\\b`));
    await ok(['rm', 'shortlived', 'keeper']);
    await ok(['network', 'rm', 'crash']);
  }, 120_000);

  it('recovers from a kill -9 at each step of a start: nothing half set up stays, the port is free again', async () => {
    await ok(['network', 'create', 'halfway']);
    traces.push(await traceOf(engine, 'halfway'));
    const port = freePort();
    for (const point of ['start:prepared', 'start:created', 'start:recorded']) {
      await engine.stop();
      await engine.start([], { BERTH_CRASH_AT: point });
      const cut = await docker(['run', '-d', '--name', 'halfway', '--network', 'halfway', '-p', `${port}:80`, 'busybox', ...HTTPD(point)]);
      expect(cut.code, point).not.toBe(0); // the engine died under the CLI
      await engine.start();
      const c = JSON.parse(await ok(['inspect', 'halfway']))[0];
      expect(c.State.Running, point).toBe(false);
      expect(c.NetworkSettings.Networks.halfway.IPAddress, point).toBe('');
      expect(pgrep(`conmon.*${c.Id}`), point).toBe('');
      // Everything it held is free: the same port and network serve a new start.
      await ok(['start', 'halfway']);
      expect((await fetchText(`http://127.0.0.1:${port}/`)).trim(), point).toBe(point);
      await ok(['rm', '-f', 'halfway']);
    }
    await ok(['network', 'rm', 'halfway']);
  }, 120_000);

  it('leaves no bridge, rule, namespace or DNS server of a removed network behind (the default one keeps its bridge and rules, as docker0)', async () => {
    await docker(['rm', '-f', ...(await ok(['ps', '-aq'])).split('\n').filter(Boolean)]);
    const [bridge, ...removed] = traces;
    expect(await leftovers(engine, removed, hostPorts)).toEqual([]);
    // (The engine's removal, test/helpers/network.ts scrubNetworks, takes these.)
    expect((await leftovers(engine, [bridge!])).filter((l) => !l.startsWith('rule '))).toEqual([`bridge ${bridge!.bridge}`, `anchor ${bridge!.anchor}`]);
  });
});

/** The processes whose command line matches (pgrep exits 1 when none does). */
function pgrep(pattern: string): string {
  try {
    return execFileSync('pgrep', ['-af', pattern], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}
