// Networks as clients other than the docker CLI create them: docker-py (Debian's python3-docker, run by
// /usr/bin/python3) sends unset IPAM pool fields as null; names may hold spaces as dockerd allows;
// GET /networks/ lists like /networks; endpoint settings kept; compose one-off runs get no service alias.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GOLDEN } from './helpers/golden.js';
import { suiteEngine } from './helpers/suite.js';
import { dockerPy } from './helpers/docker-py.js';

const engine = suiteEngine({ load: [join(GOLDEN, 'dockerd-busybox.tar')] });

const python = (script: string) => dockerPy(engine.socket, script);

describe('networks from docker-py', () => {
  it('creates a network from IPAM pools whose unset fields are null, named with a space, and runs a container on it', async () => {
    const res = await python(
      [
        "ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet='10.79.0.0/24')])",
        "n = c.networks.create('py net', ipam=ipam)",
        'try:',
        "    print(json.dumps(n.attrs['IPAM']['Config']))",
        "    print(c.containers.run('busybox', 'ip -4 -o addr show eth0', network='py net', remove=True).decode().split()[3])",
        'finally:',
        '    n.remove()',
      ].join('\n'),
    );
    expect(res.stderr).toBe('');
    const [config, address] = res.stdout.trim().split('\n');
    expect(JSON.parse(config!)[0].Subnet).toBe('10.79.0.0/24');
    expect(address).toBe('10.79.0.2/24');
  }, 60_000);

  it('sends the nulls the schema now takes (raw, as docker-py 5 sends them)', async () => {
    const body = {
      Name: 'nullpool',
      CheckDuplicate: true,
      IPAM: { Driver: 'default', Config: [{ Subnet: '10.79.1.0/24', IPRange: null, Gateway: null, AuxiliaryAddresses: null }], Options: null },
    };
    const res = await engine.http('POST', '/v1.41/networks/create', body);
    expect(res.status).toBe(201);
    expect((await engine.docker(['network', 'rm', 'nullpool'])).code).toBe(0);
  });
});

describe('network names and paths', () => {
  it('refuses a blank name in dockerd words', async () => {
    const res = await engine.http('POST', '/v1.41/networks/create', { Name: '  ' });
    expect(res.status).toBe(400);
    expect(res.json()).toEqual({ message: 'invalid name:   ' });
  });

  it('lists networks at /networks/ too', async () => {
    const slash = await engine.http('GET', '/v1.41/networks/');
    expect(slash.status).toBe(200);
    expect(
      slash
        .json()
        .map((n: { Name: string }) => n.Name)
        .sort(),
    ).toEqual(
      (await engine.http('GET', '/v1.41/networks'))
        .json()
        .map((n: { Name: string }) => n.Name)
        .sort(),
    );
  });
});

describe('endpoint settings kept as dockerd keeps them', () => {
  it('stores LinkLocalIPs and DriverOpts from create and connect, and the container still runs', async () => {
    for (const n of ['ll1', 'll2']) expect((await engine.docker(['network', 'create', n])).code).toBe(0);
    try {
      const created = await engine.docker([
        'create',
        '--name',
        'llc',
        '--network',
        'name=ll1,driver-opt=com.example.x=y',
        '--link-local-ip',
        '169.254.7.7',
        'busybox',
        'sleep',
        '30',
      ]);
      expect(created.stderr).toBe('');
      const connected = await engine.docker(['network', 'connect', '--link-local-ip', '169.254.8.8', '--driver-opt', 'a=b', 'll2', 'llc']);
      expect(connected.stderr).toBe('');
      expect((await engine.docker(['start', 'llc'])).code).toBe(0);
      const nets = JSON.parse((await engine.docker(['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'llc'])).stdout);
      expect(nets.ll1.IPAMConfig).toEqual({ LinkLocalIPs: ['169.254.7.7'] });
      expect(nets.ll1.DriverOpts).toEqual({ 'com.example.x': 'y' });
      expect(nets.ll2.IPAMConfig).toEqual({ LinkLocalIPs: ['169.254.8.8'] });
      expect(nets.ll2.DriverOpts).toEqual({ a: 'b' });
      expect(nets.ll1.IPAddress).not.toBe('');
    } finally {
      await engine.docker(['rm', '-f', 'llc']);
      await engine.docker(['network', 'rm', 'll1', 'll2']);
    }
  });
});

describe('docker-compose one-off containers', () => {
  it('get the service name as an alias only with --use-aliases; short IDs appended once, at start', async () => {
    const dir = join(engine.dir, 'compose');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'docker-compose.yml'), 'version: "3"\nservices:\n  web:\n    image: busybox\n    command: sleep 30\n');
    const env = { ...process.env, DOCKER_HOST: `unix://${engine.socket}` };
    const compose = (args: string[]) =>
      new Promise<string>((resolve, reject) => {
        execFile('docker-compose', ['-p', 'oneoff', ...args], { cwd: dir, env }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout)));
      });
    const aliases = async (name: string) =>
      JSON.parse((await engine.docker(['inspect', '-f', '{{json .NetworkSettings.Networks.oneoff_default.Aliases}}', name])).stdout);
    try {
      const plain = (await compose(['run', '-d', 'web', 'sleep', '30'])).trim();
      const aliased = (await compose(['run', '-d', '--use-aliases', 'web', 'sleep', '30'])).trim();
      await compose(['up', '-d']);
      const short = async (name: string) => (await engine.docker(['inspect', '-f', '{{.Id}}', name])).stdout.slice(0, 12);
      expect(await aliases(plain)).toEqual([await short(plain)]);
      expect((await aliases(aliased)).sort()).toEqual([await short(aliased), 'web'].sort());
      expect((await aliases('oneoff_web_1')).sort()).toEqual([await short('oneoff_web_1'), 'web'].sort());
      // Never started: the aliases as asked, no short ID.
      expect((await engine.docker(['network', 'create', 'fresh'])).code).toBe(0);
      expect((await engine.docker(['create', '--name', 'unstarted', '--network', 'fresh', '--network-alias', 'a1', 'busybox'])).code).toBe(0);
      expect(JSON.parse((await engine.docker(['inspect', '-f', '{{json .NetworkSettings.Networks.fresh.Aliases}}', 'unstarted'])).stdout)).toEqual(['a1']);
    } finally {
      await engine.docker(['rm', '-f', 'unstarted']);
      await engine.docker(['network', 'rm', 'fresh']);
      const ids = (await engine.docker(['ps', '-aq', '--filter', 'label=com.docker.compose.project=oneoff'])).stdout.split('\n').filter(Boolean);
      if (ids.length) await engine.docker(['rm', '-f', ...ids]);
      await compose(['down']).catch(() => undefined);
    }
  }, 90_000);
});

describe('docker-compose v1 links on the project network', () => {
  it('resolve the link alias by DNS, which follows the linked container to its new address after a restart', async () => {
    const dir = join(engine.dir, 'compose-links');
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'docker-compose.yml'),
      'version: "2"\nservices:\n  db:\n    image: busybox\n    command: sleep 300\n  app:\n    image: busybox\n    command: sleep 300\n    links:\n      - db:database\n',
    );
    const env = { ...process.env, DOCKER_HOST: `unix://${engine.socket}` };
    const compose = (args: string[]) =>
      new Promise<string>((resolve, reject) => {
        execFile('docker-compose', ['-p', 'linked', ...args], { cwd: dir, env }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout)));
      });
    const ipOf = async (name: string) => (await engine.docker(['inspect', '-f', '{{.NetworkSettings.Networks.linked_default.IPAddress}}', name])).stdout.trim();
    // What the alias resolves to in app (hosts file, then DNS), polled: right after a restart on the network,
    // aardvark-dns 1.4 leaves the other containers' queries unanswered for up to ~40 s (names too, links or not).
    const resolvesTo = async (want: string) => {
      let seen = '';
      for (let deadline = Date.now() + 75_000; seen !== want && Date.now() < deadline; ) {
        seen = /PING database \(([\d.]+)\)/.exec((await engine.docker(['exec', 'linked_app_1', 'ping', '-c1', '-W1', 'database'])).stdout)?.[1] ?? '';
        if (seen !== want) await new Promise((r) => setTimeout(r, 250));
      }
      return seen;
    };
    try {
      await compose(['up', '-d']);
      const before = await ipOf('linked_db_1');
      expect(await resolvesTo(before)).toBe(before);
      // dockerd writes no /etc/hosts line for a link on a user network (its DNS answers it).
      expect((await engine.docker(['exec', 'linked_app_1', 'cat', '/etc/hosts'])).stdout).not.toContain('database');
      // db restarts with another address: a filler takes its old one meanwhile.
      expect((await engine.docker(['stop', '-t', '0', 'linked_db_1'])).code).toBe(0);
      expect((await engine.docker(['run', '-d', '--name', 'linkfiller', '--network', 'linked_default', 'busybox', 'sleep', '300'])).code).toBe(0);
      expect((await engine.docker(['start', 'linked_db_1'])).code).toBe(0);
      const after = await ipOf('linked_db_1');
      expect(after).not.toBe(before);
      expect(await resolvesTo(after)).toBe(after);
    } finally {
      await engine.docker(['rm', '-f', 'linkfiller']);
      await compose(['down', '-t', '0']).catch(() => undefined);
    }
  }, 110_000);
});

describe('a network that does not exist yet', () => {
  it('is looked up at start, as dockerd does: create works, start fails until the network exists', async () => {
    const created = await engine.docker(['create', '--name', 'late', '--network', 'later', '--network-alias', 'lal', 'busybox', 'sleep', '30']);
    expect(created.stderr).toBe('');
    try {
      const before = JSON.parse((await engine.docker(['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'late'])).stdout);
      expect(before.later).toMatchObject({ NetworkID: '', Aliases: ['lal'], IPAddress: '' });
      const failed = await engine.docker(['start', 'late']);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain('Error response from daemon: network later not found');
      expect((await engine.docker(['network', 'create', 'later'])).code).toBe(0);
      expect((await engine.docker(['start', 'late'])).code).toBe(0);
      const after = JSON.parse((await engine.docker(['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'late'])).stdout);
      expect(Object.keys(after)).toEqual(['later']);
      expect(after.later.IPAddress).not.toBe('');
      expect(after.later.Aliases[0]).toBe('lal');
    } finally {
      await engine.docker(['rm', '-f', 'late']);
      await engine.docker(['network', 'rm', 'later']);
    }
  });
});
