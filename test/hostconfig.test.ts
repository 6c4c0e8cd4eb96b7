// HostConfig fields as dockerd 20.10 applies and echoes them, through real clients (docker CLI,
// docker-py, docker-compose v1): PID/IPC/UTS namespace modes, MemorySwappiness, DeviceCgroupRules,
// Isolation, VolumeDriver, VolumesFrom, MacAddress, log drivers; legacy links on the default bridge;
// a new volume over an image directory taking its owner and mode.
import { describe, expect, inject, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { suiteEngine } from './helpers/suite.js';
import { cliOf } from './helpers/cli.js';
import { dockerPy } from './helpers/docker-py.js';

const images = inject('images');
const engine = suiteEngine({ load: [images.busybox.archive] });
const { docker, ok, env } = cliOf(() => engine);

const inspect = async (name: string, format: string) => (await ok(['inspect', '-f', format, name])).trim();
const idOf = (name: string) => inspect(name, '{{.Id}}');

/** A docker-py script against the engine: its exit code and its output (stdout, then stderr). */
const python = async (script: string) => {
  const res = await dockerPy(engine.socket, script);
  return { code: res.code, out: res.stdout + res.stderr };
};

describe('PID, IPC and UTS modes', () => {
  it("joins a shareable container's IPC (its /dev/shm too) and a container's PIDs, echoing container:<id>", async () => {
    await ok(['run', '-d', '--name', 'donor', '--ipc', 'shareable', 'busybox', 'sleep', '300']);
    await ok(['exec', 'donor', 'sh', '-c', 'echo shared > /dev/shm/x']);
    const donorIpc = (await ok(['exec', 'donor', 'readlink', '/proc/self/ns/ipc'])).trim();
    expect(await ok(['run', '--rm', '--ipc', 'container:donor', 'busybox', 'sh', '-c', 'readlink /proc/self/ns/ipc; cat /dev/shm/x'])).toBe(
      `${donorIpc}\nshared\n`,
    );
    expect(await ok(['run', '--rm', '--pid', 'container:donor', 'busybox', 'ps', '-o', 'pid,args'])).toMatch(/^\s*1 sleep 300$/m);
    const id = await idOf('donor');
    await ok(['create', '--name', 'joiner', '--ipc', 'container:donor', '--pid', 'container:donor', 'busybox', 'true']);
    expect(await inspect('joiner', '{{.HostConfig.IpcMode}} {{.HostConfig.PidMode}} [{{.HostConfig.UTSMode}}]')).toBe(`container:${id} container:${id} []`);
    expect(await inspect('donor', '{{.HostConfig.IpcMode}} [{{.HostConfig.PidMode}}]')).toBe('shareable []');
    await ok(['rm', '-f', 'joiner', 'donor']);
    expect((await docker(['create', '--ipc', 'container:nonexist', 'busybox'])).stderr).toContain('No such container: nonexist');
  });

  it("refuses to join a private or stopped donor with dockerd's words", async () => {
    await ok(['run', '-d', '--name', 'private', 'busybox', 'sleep', '300']);
    const id = await idOf('private');
    expect(await inspect('private', '{{.HostConfig.IpcMode}}')).toBe('private');
    const nonShareable = await docker(['run', '--rm', '--ipc', 'container:private', 'busybox', 'true']);
    expect(nonShareable.stderr).toContain(`can't join IPC of container ${id}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`);
    await ok(['create', '--name', 'pidjoiner', '--pid', 'container:private', 'busybox', 'true']);
    await ok(['stop', '-t', '0', 'private']);
    const res = await engine.http('POST', '/containers/pidjoiner/start');
    expect([res.status, res.json().message]).toEqual([500, `container ${id} is not running`]);
    await ok(['rm', '-f', 'pidjoiner', 'private']);
  });

  it("runs in the host's PID, IPC and UTS namespaces when asked, and without /dev/shm with --ipc none", async () => {
    const out = await ok([
      'run',
      '--rm',
      '--pid',
      'host',
      '--ipc',
      'host',
      '--uts',
      'host',
      'busybox',
      'sh',
      '-c',
      'readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts; hostname',
    ]);
    expect(out).toBe(['pid', 'ipc', 'uts'].map((ns) => `${readlinkSync(`/proc/self/ns/${ns}`)}\n`).join('') + `${hostname()}\n`);
    expect(await ok(['run', '--rm', '--ipc', 'none', 'busybox', 'sh', '-c', 'grep -c " /dev/shm " /proc/mounts; true'])).toBe('0\n');
    await ok(['create', '--name', 'hostmodes', '--pid', 'host', '--ipc', 'host', '--uts', 'host', 'busybox', 'true']);
    expect(await inspect('hostmodes', '{{.HostConfig.IpcMode}} {{.HostConfig.PidMode}} {{.HostConfig.UTSMode}}')).toBe('host host host');
    await ok(['rm', 'hostmodes']);
  });
});

describe('resources and other HostConfig fields', () => {
  it('applies MemorySwappiness and DeviceCgroupRules, and echoes them with Isolation, VolumeDriver and VolumesFrom', async () => {
    const out = await ok([
      'run',
      '--rm',
      '--memory-swappiness',
      '30',
      '--device-cgroup-rule',
      'c 42:7 rwm',
      'busybox',
      'sh',
      '-c',
      'cat /sys/fs/cgroup/memory/memory.swappiness; grep "^c 42:7" /sys/fs/cgroup/devices/devices.list',
    ]);
    expect(out).toBe('30\nc 42:7 rwm\n');
    await ok(['create', '--name', 'src', '-v', '/data', 'busybox', 'true']);
    await ok([
      'create',
      '--name',
      'fields',
      '--memory-swappiness',
      '30',
      '--device-cgroup-rule',
      'c 42:7 rwm',
      '--isolation',
      'default',
      '--volume-driver',
      'local',
      '--volumes-from',
      'src:ro',
      'busybox',
      'true',
    ]);
    expect(JSON.parse(await inspect('fields', '{{json .HostConfig}}'))).toMatchObject({
      MemorySwappiness: 30,
      DeviceCgroupRules: ['c 42:7 rwm'],
      Isolation: 'default',
      VolumeDriver: 'local',
      VolumesFrom: ['src:ro'],
    });
    // What the CLI sends when not asked (-1) is echoed as dockerd does: null.
    await ok(['create', '--name', 'plain', 'busybox', 'true']);
    expect(JSON.parse(await inspect('plain', '{{json .HostConfig}}'))).toMatchObject({
      MemorySwappiness: null,
      DeviceCgroupRules: null,
      Isolation: '',
      VolumesFrom: null,
    });
    // The fields dockerd 20.10 echoes, each for the API versions that have it (KernelMemory until 1.42).
    const at = async (version: string) => Object.keys((await engine.http('GET', `/v${version}/containers/plain/json`)).json().HostConfig).sort();
    const v141 = await at('1.41');
    expect(v141).toEqual(
      expect.arrayContaining([
        'KernelMemory',
        'KernelMemoryTCP',
        'CgroupnsMode',
        'MaskedPaths',
        'ReadonlyPaths',
        'BlkioDeviceReadBps',
        'Devices',
        'CpuRealtimePeriod',
        'UsernsMode',
        'OomScoreAdj',
      ]),
    );
    expect(v141).not.toContain('Init'); // omitted when unset, as dockerd does
    expect(await at('1.50')).toEqual(v141.filter((k) => k !== 'KernelMemory'));
    await ok(['rm', '-v', 'fields', 'plain', 'src']);
    const isolation = await engine.http('POST', '/containers/create', { Image: 'busybox', HostConfig: { Isolation: 'hyperv' } });
    expect([isolation.status, isolation.json().message]).toEqual([500, 'Invalid isolation: "hyperv" - linux only supports \'default\'']);
    const driver = await engine.http('POST', '/containers/create', { Image: 'busybox', HostConfig: { VolumeDriver: 'foo', Binds: ['fresh:/d'] } });
    expect([driver.status, driver.json().message]).toEqual([404, 'create fresh: error looking up volume plugin foo: plugin "foo" not found']);
    const from = await engine.http('POST', '/containers/create', { Image: 'busybox', HostConfig: { VolumesFrom: ['nonexist'] } });
    expect([from.status, from.json().message]).toEqual([400, 'No such container: nonexist']);
  });

  it("gives the interface Config.MacAddress (docker-py mac_address) or the endpoint's (docker CLI --mac-address) and echoes it", async () => {
    const res = await python(
      [
        "k = c.containers.run('busybox', 'sleep 300', detach=True, name='mac', mac_address='02:42:ac:11:00:99')",
        'k.reload()',
        "print(k.attrs['Config']['MacAddress'], k.attrs['NetworkSettings']['MacAddress'], k.attrs['NetworkSettings']['Networks']['bridge']['MacAddress'])",
        "print(k.exec_run('cat /sys/class/net/eth0/address').output.decode().strip())",
        'k.remove(force=True)',
      ].join('\n'),
    );
    expect(res.out).toBe('02:42:ac:11:00:99 02:42:ac:11:00:99 02:42:ac:11:00:99\n02:42:ac:11:00:99\n');
    // The docker CLI (API >= 1.44) sends it in the endpoint's settings instead.
    expect(await ok(['run', '--rm', '--mac-address', '02:42:ac:11:00:98', 'busybox', 'cat', '/sys/class/net/eth0/address'])).toBe('02:42:ac:11:00:98\n');
  });

  it('takes the json-file, local and none log drivers; none keeps no readable logs; others are refused', async () => {
    const res = await python(
      [
        "k = c.containers.run('busybox', 'sh -c \"echo hi; sleep 300\"', detach=True, name='nolog', log_config={'type': 'none'})",
        "print(c.api.inspect_container('nolog')['HostConfig']['LogConfig']['Type'])",
        'try:',
        '    k.logs()',
        'except docker.errors.APIError as e:',
        '    print(e.status_code, e.explanation)',
        "l = c.containers.create('busybox', 'true', log_config={'type': 'local'})",
        "print(c.api.inspect_container(l.id)['HostConfig']['LogConfig']['Type'])",
        'l.remove()',
      ].join('\n'),
    );
    expect(res.out).toBe('none\n501 configured logging driver does not support reading\nlocal\n');
    const cli = await docker(['logs', 'nolog']);
    expect([cli.code, cli.stderr.trim()]).toEqual([1, 'Error response from daemon: configured logging driver does not support reading']);
    await ok(['rm', '-f', 'nolog']);
    expect(await inspect(await ok(['create', 'busybox', 'true']).then((s) => s.trim()), '{{.HostConfig.LogConfig.Type}}')).toBe('json-file');
    const bogus = await docker(['create', '--log-driver', 'bogus', 'busybox', 'true']);
    expect(bogus.stderr).toContain('Error response from daemon: error looking up logging plugin bogus: plugin "bogus" not found');
    expect((await docker(['create', '--log-opt', 'foo=bar', 'busybox', 'true'])).stderr).toContain("unknown log opt 'foo' for json-file log driver");
    expect((await docker(['create', '--log-driver', 'local', '--log-opt', 'labels=x', 'busybox', 'true'])).stderr).toContain(
      "unknown log opt 'labels' for log driver local",
    );
    await ok(['container', 'prune', '-f']);
  });
});

describe('legacy links', () => {
  it('gives /etc/hosts lines and environment as dockerd does, echoes /name:/parent/alias, and rm --link drops one', async () => {
    await ok(['run', '-d', '--name', 'db', '--expose', '5432', '--expose', '81/udp', '-e', 'SECRET=s3', '-e', 'HOME=/h', 'busybox', 'sleep', '300']);
    await ok(['run', '-d', '--name', 'web', '--link', 'db:dbx', '--link', 'db', '-e', 'DBX_NAME=mine', 'busybox', 'sleep', '300']);
    const ip = await inspect('db', '{{.NetworkSettings.IPAddress}}');
    const short = (await idOf('db')).slice(0, 12);
    const hosts = (await ok(['exec', 'web', 'cat', '/etc/hosts'])).split('\n');
    expect(hosts.slice(6, 8)).toEqual([`${ip}\tdbx ${short} db`, `${ip}\tdb ${short}`]);
    const envs = (await ok(['exec', 'web', 'env']))
      .split('\n')
      .filter((l) => l.startsWith('DB'))
      .sort();
    expect(envs.filter((l) => l.startsWith('DB_'))).toEqual([
      'DB_ENV_SECRET=s3',
      'DB_NAME=/web/db',
      `DB_PORT=udp://${ip}:81`,
      `DB_PORT_5432_TCP=tcp://${ip}:5432`,
      `DB_PORT_5432_TCP_ADDR=${ip}`,
      'DB_PORT_5432_TCP_PORT=5432',
      'DB_PORT_5432_TCP_PROTO=tcp',
      `DB_PORT_81_UDP=udp://${ip}:81`,
      `DB_PORT_81_UDP_ADDR=${ip}`,
      'DB_PORT_81_UDP_PORT=81',
      'DB_PORT_81_UDP_PROTO=udp',
    ]);
    expect(envs).toContain('DBX_NAME=mine'); // the container's own variables win
    expect(await ok(['exec', 'web', 'ping', '-c', '1', '-W', '2', 'dbx'])).toContain(`bytes from ${ip}`);
    expect(JSON.parse(await inspect('web', '{{json .HostConfig.Links}}'))).toEqual(['/db:/web/dbx', '/db:/web/db']);
    expect((await ok(['rm', '--link', '/web/dbx'])).trim()).toBe('/web/dbx');
    expect(JSON.parse(await inspect('web', '{{json .HostConfig.Links}}'))).toEqual(['/db:/web/db']);
    expect(await ok(['exec', 'web', 'cat', '/etc/hosts'])).not.toContain('dbx');
    expect((await docker(['rm', '--link', 'db'])).stderr).toContain('Conflict, cannot remove the default link name of the container');
    await ok(['rename', 'db', 'db2']);
    expect(JSON.parse(await inspect('web', '{{json .HostConfig.Links}}'))).toEqual(['/db2:/web/db']);
    // A removed container's link stays, and stops the next start, as in dockerd.
    await ok(['rm', '-f', 'db2']);
    expect(JSON.parse(await inspect('web', '{{json .HostConfig.Links}}'))).toEqual(['/db2:/web/db']);
    expect((await docker(['restart', '-t', '0', 'web'])).stderr).toContain('Cannot link to a non running container: /db2 AS /web/db');
    await ok(['rm', '-f', 'web']);
  });

  it('gives docker-py links (links={name: alias}) the same hosts line and variables', async () => {
    await ok(['run', '-d', '--name', 'py-db', '-e', 'K=v', 'busybox', 'sleep', '300']);
    const ip = await inspect('py-db', '{{.NetworkSettings.IPAddress}}');
    const short = (await idOf('py-db')).slice(0, 12);
    const res = await python(
      [
        "out = c.containers.run('busybox', ['sh', '-c', 'echo $DB_NAME $DB_ENV_K; grep py-db /etc/hosts'], name='py-app', links={'py-db': 'db'}, remove=True)",
        'print(out.decode(), end="")',
      ].join('\n'),
    );
    expect(res.out).toBe(`/py-app/db v\n${ip}\tdb ${short} py-db\n`);
    await ok(['rm', '-f', 'py-db']);
  });

  it("refuses links to missing or stopped containers with dockerd's words", async () => {
    const missing = await engine.http('POST', '/containers/create', { Image: 'busybox', HostConfig: { Links: ['nonexist:x'] } });
    expect([missing.status, missing.json().message]).toEqual([400, 'could not get container for nonexist: No such container: nonexist']);
    for (const [mode, words] of [
      ['host', 'host type networking'],
      ['container:missing', 'container type network'],
    ]) {
      const res = await engine.http('POST', '/containers/create', { Image: 'busybox', HostConfig: { NetworkMode: mode, Links: ['x:y'] } });
      expect([res.status, res.json().message]).toEqual([
        400,
        `conflicting options: ${words} can't be used with links. This would result in undefined behavior`,
      ]);
    }
    await ok(['create', '--name', 'off', 'busybox', 'true']);
    await ok(['create', '--name', 'linker', '--link', 'off:x', 'busybox', 'true']);
    const res = await engine.http('POST', '/containers/linker/start');
    expect([res.status, res.json().message]).toEqual([500, 'Cannot link to a non running container: /off AS /linker/x']);
    await ok(['rm', 'linker', 'off']);
  });

  /** `docker-compose up` of a db (httpd) and an app that links to it as `database`, on the given network mode. */
  const composeLinks = async (project: string, networkMode: string | undefined, appCommand: string) => {
    const dir = await mkdtemp(join(engine.dir, 'compose-'));
    const compose = (args: string[]) =>
      new Promise<{ code: number; out: string }>((resolve) => {
        execFile('docker-compose', ['-p', project, ...args], { cwd: dir, env: env() }, (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
        );
      });
    const mode = networkMode ? [`    network_mode: ${networkMode}`] : [];
    await writeFile(
      join(dir, 'docker-compose.yml'),
      [
        'version: "2"',
        'services:',
        '  db:',
        '    image: busybox',
        ...mode,
        '    stop_signal: SIGKILL',
        '    expose: ["80"]',
        '    command: sh -c "mkdir -p /www && echo from-db > /www/index.html && exec httpd -f -p 80 -h /www"',
        '  app:',
        '    image: busybox',
        ...mode,
        '    links: ["db:database"]',
        `    command: sh -c "${appCommand}for i in 1 2 3 4 5; do wget -qO- http://database/ && break; sleep 0.3; done"`,
      ].join('\n'),
    );
    try {
      const up = await compose(['up', '--abort-on-container-exit', '--exit-code-from', 'app']);
      return { ...up, out: up.out.replace(/\x1b\[[0-9;]*m/g, '') };
    } finally {
      await compose(['down']);
      await rm(dir, { recursive: true, force: true });
    }
  };

  it('lets docker-compose v1 services on the default bridge reach each other through links', async () => {
    const up = await composeLinks('lnk', 'bridge', 'echo $$DATABASE_PORT_80_TCP_ADDR; ');
    expect(up.out).toMatch(/app_1 +\| \d+\.\d+\.\d+\.\d+\s[\s\S]*app_1 +\| from-db/);
    expect(up.code, up.out).toBe(0);
  });

  it('resolves a link alias on a compose project network (dockerd answers it from its DNS)', async () => {
    const up = await composeLinks('lnkn', undefined, '');
    expect(up.out).toMatch(/app_1 +\| from-db/);
    expect(up.code, up.out).toBe(0);
  });
});

describe('volumes', () => {
  it('gives a new named volume the owner and mode of the image directory it is mounted over, empty or not', async () => {
    await ok([
      'run',
      '--name',
      'maker',
      'busybox',
      'sh',
      '-c',
      'mkdir /empty /full && touch /full/f && chown 1234:5678 /empty /full && chmod 710 /empty /full',
    ]);
    await ok(['commit', 'maker', 'owned:1']);
    const out = await ok(['run', '--rm', '-v', 'e1:/empty', '-v', 'f1:/full', 'owned:1', 'stat', '-c', '%u:%g %a %n', '/empty', '/full']);
    expect(out).toBe('1234:5678 710 /empty\n1234:5678 710 /full\n');
    // nocopy leaves the volume as it was made, as dockerd does
    expect(await ok(['run', '--rm', '--mount', 'type=volume,src=e2,dst=/empty,volume-nocopy', 'owned:1', 'stat', '-c', '%u:%g %a', '/empty'])).toBe(
      '0:0 755\n',
    );
    await ok(['rm', 'maker']);
    await ok(['volume', 'rm', 'e1', 'f1', 'e2']);
    await ok(['rmi', 'owned:1']);
  });
});
