// A host config in the body of POST /containers/{id}/start, as clients before API 1.24 send it (dockerd
// 20.10 still applies it there): the fields start reads (ports, restart policy, privileges) take effect,
// checked as create checks them. No client in use still sends it, so raw HTTP at /v1.22.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { GOLDEN } from './helpers/golden.js';
import { suiteEngine } from './helpers/suite.js';

const engine = suiteEngine({ load: [join(GOLDEN, 'dockerd-busybox.tar')] });

const create = async (name: string) => {
  const res = await engine.http('POST', `/v1.22/containers/create?name=${name}`, { Image: 'busybox', Cmd: ['sleep', '60'], ExposedPorts: { '80/tcp': {} } });
  expect(res.status).toBe(201);
};

describe('start with a host config before API 1.24', () => {
  it('publishes the ports and takes the restart policy given at start (bare or wrapped)', async () => {
    for (const [name, wrap] of [['startbare', false], ['startwrapped', true]] as const) {
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
