// A host config in the body of POST /containers/{id}/start, as clients before API 1.24 send it (dockerd
// 20.10 still applies it there): ports, restart policy, privileges, mounts (registered over create's) and
// the network mode (a new one replaces the networks; none given means `default`), checked as create
// checks them. No client in use still sends it, so raw HTTP at /v1.22.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { TEST_BASE } from './helpers/engine.js';
import { GOLDEN } from './helpers/golden.js';
import { suiteEngine } from './helpers/suite.js';

const engine = suiteEngine({ load: [join(GOLDEN, 'dockerd-busybox.tar')] });

const create = async (name: string) => {
  const res = await engine.http('POST', `/v1.22/containers/create?name=${name}`, { Image: 'busybox', Cmd: ['sleep', '60'], ExposedPorts: { '80/tcp': {} } });
  expect(res.status).toBe(201);
};

describe('start with a host config before API 1.24', () => {
  it('publishes the ports and takes the restart policy given at start (bare or wrapped)', async () => {
    for (const [name, wrap] of [
      ['startbare', false],
      ['startwrapped', true],
    ] as const) {
      await create(name);
      try {
        const hc = { PortBindings: { '80/tcp': [{ HostPort: '0' }] }, RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 } };
        const res = await engine.http('POST', `/v1.22/containers/${name}/start`, wrap ? { HostConfig: hc } : hc);
        expect(res.status).toBe(204);
        const inspect = (await engine.http('GET', `/v1.22/containers/${name}/json`)).json();
        expect(inspect.HostConfig.RestartPolicy).toEqual({ Name: 'on-failure', MaximumRetryCount: 2 });
        expect(Number(inspect.NetworkSettings.Ports['80/tcp'][0].HostPort)).toBeGreaterThan(0);
        // the CLI sees it too
        expect((await engine.docker(['port', name, '80'])).stdout).toMatch(/^0\.0\.0\.0:\d+$/m);
      } finally {
        await engine.docker(['rm', '-f', name]);
      }
    }
  }, 60_000);

  it('refuses what create refuses, and then does not start', async () => {
    await create('startbad');
    try {
      const bad = await engine.http('POST', '/v1.22/containers/startbad/start', { RestartPolicy: { Name: 'bogus' } });
      expect(bad.status).toBe(400);
      expect(bad.json().message).toBe("invalid restart policy: unknown policy 'bogus'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'");
      const port = await engine.http('POST', '/v1.22/containers/startbad/start', { PortBindings: { '80/tcp': [{ HostPort: 'x' }] } });
      expect(port.status).toBe(400);
      expect(port.json().message).toBe('invalid port specification: "x" for 80/tcp');
      const inspect = (await engine.http('GET', '/v1.22/containers/startbad/json')).json();
      expect(inspect.State.Status).toBe('created');
      expect(inspect.HostConfig.RestartPolicy.Name).not.toBe('bogus');
    } finally {
      await engine.docker(['rm', '-f', 'startbad']);
    }
  }, 60_000);
});

describe('mounts and network mode given to start before API 1.24', () => {
  it('registers the binds, volumes and tmpfs over the create ones and moves to the network mode given', async () => {
    const dir = await mkdtemp(join(TEST_BASE, 'berth-startbind-'));
    await writeFile(join(dir, 'f'), 'hi\n');
    expect((await engine.docker(['network', 'create', 'startnet'])).code).toBe(0);
    try {
      const created = await engine.http('POST', '/v1.22/containers/create?name=startmounts', {
        Image: 'busybox',
        Cmd: ['sleep', '60'],
        HostConfig: { Binds: [`${dir}:/create`] },
      });
      expect(created.status).toBe(201);
      const hc = { Binds: [`${dir}:/data:ro`, 'startvol:/vol'], Tmpfs: { '/tm': '' }, NetworkMode: 'startnet' };
      expect((await engine.http('POST', '/v1.22/containers/startmounts/start', hc)).status).toBe(204);
      const seen = await engine.docker([
        'exec',
        'startmounts',
        'sh',
        '-c',
        'cat /data/f /create/f; touch /data/x 2>/dev/null || echo ro; grep -c " /tm tmpfs" /proc/mounts; ls -d /vol',
      ]);
      expect(seen.stdout).toBe('hi\nhi\nro\n1\n/vol\n');
      const inspect = (await engine.http('GET', '/v1.22/containers/startmounts/json')).json();
      expect(inspect.HostConfig.Binds).toEqual(hc.Binds);
      expect(inspect.HostConfig.NetworkMode).toBe('startnet');
      expect(inspect.Mounts.map((m: { Destination: string }) => m.Destination).sort()).toEqual(['/create', '/data', '/vol']);
      expect(Object.keys(inspect.NetworkSettings.Networks)).toEqual(['startnet']);
      expect(inspect.NetworkSettings.Networks.startnet.IPAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    } finally {
      await engine.docker(['rm', '-f', 'startmounts']);
      await engine.docker(['volume', 'rm', 'startvol']);
      await engine.docker(['network', 'rm', 'startnet']);
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('a body without NetworkMode puts the container back on the default network, as dockerd does', async () => {
    expect((await engine.docker(['network', 'create', 'startnet2'])).code).toBe(0);
    try {
      const created = await engine.http('POST', '/v1.22/containers/create?name=startdefault', {
        Image: 'busybox',
        Cmd: ['sleep', '60'],
        HostConfig: { NetworkMode: 'startnet2' },
      });
      expect(created.status).toBe(201);
      expect((await engine.http('POST', '/v1.22/containers/startdefault/start', { Privileged: false })).status).toBe(204);
      const inspect = (await engine.http('GET', '/v1.22/containers/startdefault/json')).json();
      expect(inspect.HostConfig.NetworkMode).toBe('default');
      expect(Object.keys(inspect.NetworkSettings.Networks)).toEqual(['bridge']);
      expect((await engine.docker(['stop', '-t', '0', 'startdefault'])).code).toBe(0);
      expect((await engine.http('POST', '/v1.22/containers/startdefault/start', { NetworkMode: 'none' })).status).toBe(204);
      expect(await engine.docker(['exec', 'startdefault', 'sh', '-c', 'ls /sys/class/net']).then((r) => r.stdout)).toBe('lo\n');
    } finally {
      await engine.docker(['rm', '-f', 'startdefault']);
      await engine.docker(['network', 'rm', 'startnet2']);
    }
  }, 60_000);
});
