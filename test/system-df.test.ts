// `GET /system/df` and `docker system df [-v]`: images with shared sizes and container counts, each
// layer once in LayersSize, containers' writable layers, local volumes' usage, the (empty) build cache.
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { suiteEngine } from './helpers/suite.js';
import { cliOf } from './helpers/cli.js';

const images = inject('images');
const engine = suiteEngine({ load: [images.busybox.archive, images.layered.archive] });
const { ok } = cliOf(() => engine);

describe('system df', () => {
  it("counts images, containers and volumes as dockerd, in dockerd's shape", async () => {
    await ok(['volume', 'create', 'named']);
    await ok(['volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', 'mounted']);
    // 6 bytes in the volume, and a hard link to them that counts once; 4 bytes in the writable layer
    await ok(['run', '--name', 'writer', '-v', 'named:/n', 'busybox', 'sh', '-c', 'echo hello > /n/x; ln /n/x /n/y; echo abc > /file']);
    await ok(['create', '--name', 'idle', '-v', '/anon', images.layered.tag, 'true']);
    const df = (await engine.http('GET', '/system/df')).json();
    expect(Object.keys(df).sort()).toEqual(['BuildCache', 'Containers', 'Images', 'LayersSize', 'Volumes']);
    const busybox = df.Images.find((i: { Id: string }) => i.Id === images.busybox.id);
    const layered = df.Images.find((i: { Id: string }) => i.Id === images.layered.id);
    // layered is FROM busybox: busybox's layers are shared by both, and counted once in LayersSize
    expect(busybox).toMatchObject({ Containers: 1, SharedSize: busybox.Size, RepoTags: ['busybox:latest'], ParentId: '' });
    expect(layered).toMatchObject({ Containers: 1, SharedSize: busybox.Size, RepoTags: [images.layered.tag] });
    expect(layered.Size).toBeGreaterThan(busybox.Size);
    expect(df.LayersSize).toBe(layered.Size);
    expect(busybox).not.toHaveProperty('VirtualSize'); // API ≥ 1.44
    const writer = df.Containers.find((c: { Names: string[] }) => c.Names[0] === '/writer');
    const idle = df.Containers.find((c: { Names: string[] }) => c.Names[0] === '/idle');
    expect(writer).toMatchObject({ SizeRw: 4, SizeRootFs: busybox.Size + 4, State: 'exited', Image: 'busybox' });
    expect(writer.Mounts[0]).toMatchObject({ Type: 'volume', Name: 'named', Destination: '/n' });
    expect(idle).not.toHaveProperty('SizeRw'); // 0 is left out, as dockerd does
    expect(idle.SizeRootFs).toBe(layered.Size);
    // volumes with driver options are mounts of something else: left out, as dockerd does
    const volumes = Object.fromEntries(df.Volumes.map((v: { Name: string }) => [v.Name, v]));
    expect(Object.keys(volumes)).toHaveLength(2);
    expect(volumes.named).toMatchObject({ Name: 'named', Driver: 'local', Scope: 'local', Options: null, UsageData: { Size: 6, RefCount: 1 } });
    expect(volumes[idle.Mounts[0].Name].UsageData).toEqual({ Size: 0, RefCount: 1 });
    expect(df.BuildCache).toEqual([]);

    // `type` (API ≥ 1.42) narrows it; the rest is null
    const only = (await engine.http('GET', '/system/df?type=volume&type=build-cache')).json();
    expect(only).toEqual({ LayersSize: 0, Images: null, Containers: null, Volumes: df.Volumes, BuildCache: [] });
    const bad = await engine.http('GET', '/system/df?type=bogus');
    expect([bad.status, bad.json().message]).toEqual([400, 'unknown object type: bogus']);
    // older API versions: VirtualSize, and `type` ignored
    const old = (await engine.http('GET', '/v1.41/system/df?type=volume')).json();
    expect(old.Images.find((i: { Id: string }) => i.Id === images.busybox.id).VirtualSize).toBe(busybox.Size);
    expect(old.Containers).toHaveLength(2);
  });

  it('is what docker system df and df -v print', async () => {
    const rows = Object.fromEntries(
      (await ok(['system', 'df', '--format', '{{json .}}']))
        .trim()
        .split('\n')
        .map((l) => {
          const r = JSON.parse(l);
          return [r.Type, r];
        }),
    );
    expect(rows.Images).toMatchObject({ TotalCount: '2', Active: '2' });
    expect(rows.Containers).toMatchObject({ TotalCount: '2', Active: '0', Size: '4B', Reclaimable: '4B (100%)' });
    expect(rows['Local Volumes']).toMatchObject({ TotalCount: '2', Active: '2', Size: '6B' });
    expect(rows['Build Cache']).toMatchObject({ TotalCount: '0', Size: '0B' });
    const verbose = await ok(['system', 'df', '-v']);
    expect(verbose).toMatch(/^busybox\s+latest\s+\S+\s+.+\s+\S+B\s+\S+B\s+0B\s+1$/m); // all its layers shared: unique 0B
    expect(verbose).toMatch(/^named\s+1\s+6B$/m);
    expect(verbose).toMatch(/\s4B\s.*\swriter$/m);
    expect(verbose).toContain('Build cache usage: 0B');
    await ok(['rm', '-v', 'writer', 'idle']);
    await ok(['volume', 'rm', 'named', 'mounted']);
    const empty = (await engine.http('GET', '/system/df')).json();
    expect([empty.Containers, empty.Volumes]).toEqual([[], []]);
  });
});
