// HostConfig.NetworkMode as dockerd echoes it: 20.10 (API ≤ 1.41) keeps what the create gave, a blank
// one being `default`; clients of API 1.44 and later read `bridge` for it, as newer dockerd answers them.
// docker-py (Debian's 5.0, API 1.41) sends `default` when not told otherwise.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { GOLDEN } from './helpers/golden.js';
import { run } from './helpers/engine.js';
import { suiteEngine } from './helpers/suite.js';

const engine = suiteEngine({ load: [join(GOLDEN, 'dockerd-busybox.tar')] });

describe('HostConfig.NetworkMode echo', () => {
  it('follows the request version: default before 1.44, bridge from 1.44', async () => {
    const cases: [string, object, string, string][] = [
      ['nothing', {}, 'default', 'bridge'],
      ['default', { NetworkMode: 'default' }, 'default', 'bridge'],
      ['bridge', { NetworkMode: 'bridge' }, 'bridge', 'bridge'],
    ];
    for (const [name, hc, old, recent] of cases) {
      const res = await engine.http('POST', `/v1.41/containers/create?name=nm-${name}`, { Image: 'busybox', HostConfig: hc });
      expect(res.status).toBe(201);
      const id = res.json().Id;
      try {
        for (const [version, want] of [
          ['1.41', old],
          ['1.44', recent],
        ]) {
          expect((await engine.http('GET', `/v${version}/containers/${id}/json`)).json().HostConfig.NetworkMode).toBe(want);
          const list = (await engine.http('GET', `/v${version}/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ id: [id] }))}`)).json();
          expect(list[0].HostConfig.NetworkMode).toBe(want);
        }
      } finally {
        await engine.http('DELETE', `/containers/${id}?force=1`);
      }
    }
  }, 60_000);

  it('docker-py at 1.41 reads back default', async () => {
    const py = `import docker\nc = docker.APIClient(base_url='unix://${engine.socket}', version='1.41')\nx = c.create_container('busybox', name='nm-py', host_config=c.create_host_config())\nprint(c.inspect_container(x['Id'])['HostConfig']['NetworkMode'])\nc.remove_container(x['Id'], force=True)`;
    const res = await run('/usr/bin/python3', ['-c', py]);
    expect(res.stderr).toBe('');
    expect(res.stdout).toBe('default\n');
  }, 60_000);
});
