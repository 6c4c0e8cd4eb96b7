// Old clients and per-version behaviour: skopeo 1.9's docker-daemon transport speaks API 1.22, which
// dockerd 20.10 serves (its floor is 1.12); older versions get the older shapes, and behaviour that
// changed between versions follows the version a request names.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { run } from './helpers/engine.js';
import { GOLDEN } from './helpers/golden.js';
import { suiteEngine } from './helpers/suite.js';

const engine = suiteEngine({ load: [join(GOLDEN, 'dockerd-busybox.tar')] });
const skopeo = (args: string[]) => run('skopeo', ['--insecure-policy', ...args]);

describe('skopeo docker-daemon: (API 1.22)', () => {
  it('inspects, copies out to an OCI archive and back in', async () => {
    const host = `unix://${engine.socket}`;
    const inspected = await skopeo(['inspect', '--daemon-host', host, 'docker-daemon:busybox:latest']);
    expect(inspected.stderr).toBe('');
    expect(JSON.parse(inspected.stdout)).toMatchObject({ Name: 'docker.io/library/busybox', Architecture: 'amd64', Os: 'linux' });

    const archive = join(engine.dir, 'busybox.oci.tar');
    const out = await skopeo(['copy', '-q', '--src-daemon-host', host, 'docker-daemon:busybox:latest', `oci-archive:${archive}`]);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const back = await skopeo(['copy', '-q', '--dest-daemon-host', host, `oci-archive:${archive}`, 'docker-daemon:copied/bb:v1']);
    expect(back.stderr).toBe('');
    expect(back.code).toBe(0);
    // The same ID dockerd 20.10 gives after this round trip (skopeo rewrites the config on the way).
    const id = await engine.docker(['image', 'inspect', '--format', '{{.Id}}', 'copied/bb:v1']);
    expect(id.stdout.trim()).toBe('sha256:99884d2de3a83c1ca7c7abe3bbb479986e5e8a0022b586dbbcb769ee1ebf1552');
    expect((await engine.docker(['run', '--rm', 'copied/bb:v1', 'echo', 'hi'])).stdout).toBe('hi\n');
    expect((await engine.docker(['rmi', 'copied/bb:v1'])).code).toBe(0);
  }, 60_000);

  it('serves 1.12 to 1.50 and refuses below, as dockerd 20.10 words it', async () => {
    expect((await engine.http('GET', '/v1.12/version')).json().MinAPIVersion).toBe('1.12');
    const old = await engine.http('GET', '/v1.11/version');
    expect(old.status).toBe(400);
    expect(old.json()).toEqual({
      message: 'client version 1.11 is too old. Minimum supported API version is 1.12, please upgrade your client to a newer version',
    });
  });
});

describe('container inspect shapes before 1.21', () => {
  it('drops per-network settings, echoes host settings in Config, and before 1.20 gives Volumes maps', async () => {
    const created = await engine.docker(['create', '--name', 'shapes', '-v', '/data', '--memory', '64m', '--cpu-shares', '512', 'busybox', 'true']);
    expect(created.code).toBe(0);
    try {
      const v121 = (await engine.http('GET', '/v1.21/containers/shapes/json')).json();
      expect(v121.NetworkSettings.Networks).toHaveProperty('bridge');
      expect(v121.Config).not.toHaveProperty('VolumeDriver');

      const v120 = (await engine.http('GET', '/v1.20/containers/shapes/json')).json();
      expect(v120.NetworkSettings).not.toHaveProperty('Networks');
      expect(v120.NetworkSettings.Ports).toBeNull(); // empty: null before 1.21 (dockerd 20.10)
      expect(v121.NetworkSettings.Ports).toEqual({});
      expect(v120.Config).toMatchObject({ MacAddress: '', NetworkDisabled: false, VolumeDriver: '' });
      expect(v120.Config).not.toHaveProperty('Memory');
      expect(v120.Mounts).toHaveLength(1);
      expect(v120).not.toHaveProperty('Volumes');

      const v119 = (await engine.http('GET', '/v1.19/containers/shapes/json')).json();
      expect(v119).not.toHaveProperty('Mounts');
      expect(v119.NetworkSettings).not.toHaveProperty('Networks');
      expect(v119.Config).toMatchObject({ Memory: 64 * 1024 * 1024, MemorySwap: v119.HostConfig.MemorySwap, CpuShares: 512, Cpuset: '', VolumeDriver: '' });
      expect(Object.keys(v119.Volumes)).toEqual(['/data']);
      expect(v119.Volumes['/data']).toBe(v120.Mounts[0].Source);
      expect(v119.VolumesRW).toEqual({ '/data': true });
    } finally {
      await engine.docker(['rm', '-v', 'shapes']);
    }
  });
});

describe('other pre-1.25 shapes', () => {
  it('info before 1.25 has ExecutionDriver and security options by name', async () => {
    const old = (await engine.http('GET', '/v1.22/info')).json();
    expect(old.ExecutionDriver).toBe('<not supported>');
    expect(old.SecurityOptions.every((o: string) => !o.includes('='))).toBe(true);
    const current = (await engine.http('GET', '/v1.41/info')).json();
    expect(current).not.toHaveProperty('ExecutionDriver');
    expect(old.SecurityOptions).toEqual(current.SecurityOptions.map((o: string) => /name=([^,]*)/.exec(o)![1]));
  });

  it('stats before 1.21 sum the interfaces in one `network`, with no name or id', async () => {
    expect((await engine.docker(['run', '-d', '--name', 'stats20', 'busybox', 'sleep', '60'])).code).toBe(0);
    try {
      const current = (await engine.http('GET', '/v1.41/containers/stats20/stats?stream=0')).json();
      const old = (await engine.http('GET', '/v1.20/containers/stats20/stats?stream=0')).json();
      expect(Object.keys(old).sort()).toEqual([
        'blkio_stats',
        'cpu_stats',
        'memory_stats',
        'network',
        'num_procs',
        'pids_stats',
        'precpu_stats',
        'preread',
        'read',
        'storage_stats',
      ]);
      expect(Object.keys(old.network).sort()).toEqual(Object.keys(current.networks.eth0).sort());
      expect(old.network.rx_packets).toBeGreaterThanOrEqual(current.networks.eth0.rx_packets);
    } finally {
      await engine.docker(['rm', '-f', 'stats20']);
    }
  });

  it('a host config on start is refused from 1.24 on, as dockerd words it', async () => {
    expect((await engine.docker(['create', '--name', 'startbody', 'busybox', 'true'])).code).toBe(0);
    try {
      const res = await engine.http('POST', '/v1.24/containers/startbody/start', { Dns: ['9.9.9.9'] });
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ message: 'starting container with non-empty request body was deprecated since API v1.22 and removed in v1.24' });
      expect((await engine.http('POST', '/v1.24/containers/startbody/start', {})).status).toBe(204);
    } finally {
      await engine.docker(['rm', '-f', 'startbody']);
    }
  });
});

describe('behaviour follows the request version', () => {
  it('image inspect carries Container/ContainerConfig and VirtualSize for a 1.41 client only', async () => {
    const inspect = async (env: NodeJS.ProcessEnv) => JSON.parse((await engine.docker(['image', 'inspect', 'busybox'], { env })).stdout)[0];
    const old = await inspect({ DOCKER_API_VERSION: '1.41' });
    expect(old).toHaveProperty('ContainerConfig');
    expect(old).toHaveProperty('Container');
    expect(old.VirtualSize).toBe(old.Size);
    const current = await inspect({});
    expect(current).not.toHaveProperty('ContainerConfig');
    expect(current).not.toHaveProperty('VirtualSize');
  });

  it('volume prune takes unused named volumes for a 1.41 client, anonymous ones only from 1.42', async () => {
    for (const name of ['keepme', 'named141']) expect((await engine.docker(['volume', 'create', name])).code).toBe(0);
    const prune = (env: NodeJS.ProcessEnv) => engine.docker(['volume', 'prune', '-f'], { env });
    const current = await prune({});
    expect(current.code).toBe(0);
    expect(current.stdout).not.toContain('keepme');
    const old = await prune({ DOCKER_API_VERSION: '1.41' });
    expect(old.code).toBe(0);
    expect(old.stdout).toContain('keepme');
    expect(old.stdout).toContain('named141');
    expect((await engine.docker(['volume', 'ls', '-q'])).stdout).toBe('');
    // dockerd 20.10 knows no `all` filter.
    const all = await engine.http('POST', `/v1.41/volumes/prune?filters=${encodeURIComponent('{"all":["true"]}')}`);
    expect(all.status).toBe(400);
  });
});
