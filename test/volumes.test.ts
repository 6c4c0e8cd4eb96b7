// Named local volumes through the docker CLI: create, list, inspect, use from containers, in-use
// refusals, removal and prune.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { TestEngine } from './helpers/engine.js';
import { cliOf } from './helpers/cli.js';

const images = inject('images');
let engine: TestEngine;

beforeAll(async () => {
  engine = await TestEngine.start();
  expect((await engine.docker(['load', '-i', images.busybox.archive])).code).toBe(0);
});
afterAll(async () => {
  await engine?.destroy();
});

const { docker, ok } = cliOf(() => engine);

describe('docker volume', () => {
  it('creates, lists, inspects, and keeps data across containers', async () => {
    expect((await ok(['volume', 'create', '--label', 'team=a', 'data'])).trim()).toBe('data');
    const v = JSON.parse(await ok(['volume', 'inspect', 'data']))[0];
    expect(v).toMatchObject({ Name: 'data', Driver: 'local', Labels: { team: 'a' }, Scope: 'local', Mountpoint: join(engine.root, 'volumes', 'data', '_data') });
    expect(await ok(['volume', 'ls', '-q'])).toBe('data\n');
    await ok(['run', '--rm', '-v', 'data:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f']);
    expect(await ok(['run', '--rm', '-v', 'data:/data:ro', 'busybox', 'cat', '/data/f'])).toBe('kept\n');
    const ro = await docker(['run', '--rm', '-v', 'data:/data:ro', 'busybox', 'touch', '/data/g']);
    expect(ro.code).not.toBe(0);
    // a volume a container names is made at create, as dockerd does
    await ok(['create', '--name', 'user', '-v', 'auto:/x', 'busybox', 'true']);
    expect((await ok(['volume', 'ls', '-q'])).split('\n').filter(Boolean).sort()).toEqual(['auto', 'data']);
    const mounts = JSON.parse(await ok(['inspect', '-f', '{{json .Mounts}}', 'user']));
    expect(mounts).toEqual([{ Type: 'volume', Name: 'auto', Source: join(engine.root, 'volumes', 'auto', '_data'), Destination: '/x', Driver: 'local', Mode: 'z', RW: true, Propagation: '' }]);
    expect(await ok(['volume', 'ls', '-q', '--filter', 'dangling=true'])).toBe('data\n');
    expect(await ok(['volume', 'ls', '-q', '--filter', 'label=team=a'])).toBe('data\n');
  });

  it('refuses to remove a volume in use (409), removes it after, and prunes', async () => {
    const busy = await engine.http('DELETE', '/volumes/auto');
    expect(busy.status).toBe(409);
    expect(busy.json().message).toMatch(/^remove auto: volume is in use - \[[0-9a-f]{64}\]$/);
    await ok(['rm', 'user']);
    await ok(['volume', 'rm', 'auto']);
    expect(existsSync(join(engine.root, 'volumes', 'auto'))).toBe(false);
    expect((await engine.http('GET', '/volumes/auto')).status).toBe(404);
    // named volumes survive a plain prune (dockerd ≥ 23 prunes anonymous ones), not prune -a
    await ok(['volume', 'prune', '-f']);
    expect(await ok(['volume', 'ls', '-q'])).toBe('data\n');
    await ok(['volume', 'prune', '-a', '-f']);
    expect(await ok(['volume', 'ls', '-q'])).toBe('');
    const bad = await docker(['volume', 'create', 'bad/name']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('includes invalid characters for a local volume name');
    await new Promise((r) => setTimeout(r, 1100)); // --until 0s is whole seconds: let this one pass
    const events = await ok(['events', '--since', '5m', '--until', '0s', '--filter', 'type=volume', '--format', '{{.Action}} {{.Actor.ID}}']);
    expect(events).toContain('create data\n');
    expect(events).toContain('destroy data\n');
  });
});
