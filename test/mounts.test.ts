// Mount options as dockerd checks and applies them: Binds and Mounts refused with moby's messages (400),
// and tmpfs size/mode/exec, bind propagation, missing bind sources, volume nocopy and subpath honoured.
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { suiteEngine } from './helpers/suite.js';
import { cliOf } from './helpers/cli.js';
import { run } from './helpers/engine.js';

const images = inject('images');
const engine = suiteEngine({ load: [images.busybox.archive] });
const { docker, ok } = cliOf(() => engine);

/** POST /containers/create with this HostConfig: the status and message. */
async function create(hostConfig: object): Promise<[number, string]> {
  const res = await engine.http('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: hostConfig });
  const body = res.json();
  if (res.status === 201) await engine.http('DELETE', `/containers/${body.Id}?v=1`);
  return [res.status, body.message ?? 'created'];
}

describe('mount checks', () => {
  it("refuses bad Mounts with moby's messages", async () => {
    const bind = (more: object) => ({ Mounts: [{ Type: 'bind', Source: engine.dir, Target: '/x', ...more }] });
    const cfg = (type: string, message: string) => [400, `invalid mount config for type "${type}": ${message}`];
    const cases: [object, unknown[]][] = [
      [{ Mounts: [{ Type: 'foo', Target: '/x' }] }, cfg('foo', 'mount type unknown')],
      [{ Mounts: [{ Target: '/x' }] }, cfg('', 'mount type unknown')],
      [bind({ Source: '/nonexistent/dir' }), cfg('bind', 'bind source path does not exist: /nonexistent/dir')],
      [bind({ Source: 'rel' }), cfg('bind', "invalid mount path: 'rel' mount path must be absolute")],
      [bind({ Target: 'x' }), cfg('bind', "invalid mount path: 'x' mount path must be absolute")],
      [bind({ Target: '' }), cfg('bind', 'field Target must not be empty')],
      [bind({ Source: '' }), cfg('bind', 'field Source must not be empty')],
      [bind({ Target: '/' }), cfg('bind', "invalid specification: destination can't be '/'")],
      [bind({ VolumeOptions: { NoCopy: true } }), cfg('bind', 'field VolumeOptions must not be specified')],
      [bind({ BindOptions: { Propagation: 'bogus' } }), cfg('bind', 'invalid propagation mode: bogus')],
      [
        { Mounts: [{ Type: 'volume', Source: 'vv', Target: '/x', BindOptions: { Propagation: 'shared' } }] },
        cfg('volume', 'field BindOptions must not be specified'),
      ],
      [{ Mounts: [{ Type: 'volume', Target: '/x', ReadOnly: true }] }, cfg('volume', 'must not set ReadOnly mode when using anonymous volumes')],
      [{ Mounts: [{ Type: 'volume', Target: '/x', VolumeOptions: { Subpath: 'a' } }] }, cfg('volume', 'must not set Subpath when using anonymous volumes')],
      [
        { Mounts: [{ Type: 'volume', Source: 'vv', Target: '/x', VolumeOptions: { Subpath: '../a' } }] },
        cfg('volume', 'subpath must be a relative path within the volume'),
      ],
      [{ Mounts: [{ Type: 'tmpfs', Source: 'x', Target: '/x' }] }, cfg('tmpfs', 'field Source must not be specified')],
      [{ Mounts: [{ Type: 'tmpfs', Target: '/x', BindOptions: {} }] }, cfg('tmpfs', 'field BindOptions must not be specified')],
      [{ Mounts: [{ Type: 'tmpfs', Target: '/x', TmpfsOptions: { Options: [['suid']] } }] }, cfg('tmpfs', 'invalid option: suid')],
      [
        { Mounts: [{ Type: 'tmpfs', Target: '/x', TmpfsOptions: { Mode: 'x' } }] },
        [400, 'json: cannot unmarshal string into Go struct field TmpfsOptions.HostConfig.Mounts.TmpfsOptions.Mode of type fs.FileMode'],
      ],
      [
        {
          Mounts: [
            { Type: 'volume', Target: '/x' },
            { Type: 'tmpfs', Target: '/x' },
          ],
        },
        [400, 'Duplicate mount point: /x'],
      ],
      [{ Binds: [`${engine.dir}:/x`], Mounts: [{ Type: 'tmpfs', Target: '/x/' }] }, [400, 'Duplicate mount point: /x/']],
      [{ Binds: [`${engine.dir}:/x`, 'vv:/x/'] }, [400, 'Duplicate mount point: /x']],
      [{ Binds: [`${engine.dir}:/x`], Tmpfs: { '/x': 'size=1m' } }, [400, 'Duplicate mount point: /x']],
      [{ Tmpfs: { rel: '' } }, [400, "invalid mount path: 'rel' mount path must be absolute"]],
      [{ Binds: ['vv:/x:foo'] }, [400, 'invalid mode: foo']],
      [{ Binds: ['/tmp:/x:ro,rw'] }, [400, 'invalid mode: ro,rw']],
      [{ Binds: ['/tmp:/x:shared,slave'] }, [400, 'invalid mode: shared,slave']],
      [{ Binds: ['a:b:c:d'] }, [400, "invalid volume specification: 'a:b:c:d'"]],
      [{ Binds: [':/x'] }, [400, "invalid volume specification: ':/x'"]],
      [{ Binds: ['/tmp:ro'] }, [400, "invalid volume specification: '/tmp:ro'"]],
      [
        { Binds: ['/tmp:x'] },
        [400, `invalid volume specification: '/tmp:x': invalid mount config for type "bind": invalid mount path: 'x' mount path must be absolute`],
      ],
      [
        { Binds: ['rel'] },
        [400, `invalid volume specification: 'rel': invalid mount config for type "volume": invalid mount path: 'rel' mount path must be absolute`],
      ],
      // what dockerd takes: a Binds source that does not exist yet (made at start), tmpfs options on a bind
      [{ Binds: [`${engine.dir}/later:/x`] }, [201, 'created']],
      [bind({ TmpfsOptions: { SizeBytes: 1 } }), [201, 'created']],
    ];
    for (const [hostConfig, expected] of cases)
      expect([JSON.stringify(hostConfig), ...(await create(hostConfig))]).toEqual([JSON.stringify(hostConfig), ...expected]);
    expect(existsSync(join(engine.dir, 'later'))).toBe(false);
    // the CLI shows them as dockerd's
    const dup = await docker(['run', '--rm', '-v', '/tmp:/x', '-v', `${engine.dir}:/x`, 'busybox', 'true']);
    expect([dup.code, dup.stderr]).toEqual([125, expect.stringContaining('Error response from daemon: Duplicate mount point: /x')]);
    const missing = await docker(['run', '--rm', '--mount', 'type=bind,src=/nonexistent/dir,dst=/x', 'busybox', 'true']);
    expect(missing.stderr).toContain('invalid mount config for type "bind": bind source path does not exist: /nonexistent/dir');
    expect(await ok(['ps', '-aq'])).toBe('');
    expect(await ok(['volume', 'ls', '-q'])).toBe('');
  });

  it('honours tmpfs size, mode and exec, Binds modes, made bind sources, and volume nocopy and subpath', async () => {
    const out = await ok([
      'run',
      '--rm',
      '--mount',
      'type=tmpfs,dst=/t,tmpfs-size=2m,tmpfs-mode=1770',
      '-v',
      `${engine.dir}/made/here:/m`,
      'busybox',
      'sh',
      '-c',
      'grep " /t " /proc/mounts; stat -c %a /t; touch /m/x',
    ]);
    expect(out).toMatch(/^tmpfs \/t tmpfs rw,nosuid,nodev,noexec,relatime,size=2048k,mode=1770 0 0\n1770\n$/);
    expect(existsSync(join(engine.dir, 'made', 'here', 'x'))).toBe(true);
    // TmpfsOptions.Options exec: no noexec
    const res = await engine.http('POST', '/containers/create', {
      Image: 'busybox',
      Cmd: ['sh', '-c', 'grep " /t " /proc/mounts'],
      HostConfig: { Mounts: [{ Type: 'tmpfs', Target: '/t', ReadOnly: true, TmpfsOptions: { SizeBytes: 3 << 20, Options: [['exec']] } }] },
    });
    expect(res.status).toBe(201);
    const id = res.json().Id;
    await ok(['start', id]);
    expect(await ok(['wait', id])).toBe('0\n');
    expect(await ok(['logs', id])).toMatch(/^tmpfs \/t tmpfs ro,nosuid,nodev,relatime,size=3072k/);
    await ok(['rm', id]);
    // nocopy: the image's /etc is copied into an empty volume, unless asked not to
    await ok(['run', '--rm', '-v', 'copied:/etc', 'busybox', 'true']);
    await ok(['run', '--rm', '--mount', 'type=volume,src=plain,dst=/etc,volume-nocopy', 'busybox', 'true']);
    expect(await ok(['run', '--rm', '-v', 'copied:/a', '-v', 'plain:/b', 'busybox', 'sh', '-c', 'ls /a | grep -c passwd; ls /b | wc -l'])).toBe('1\n0\n');
    // Mode as dockerd shows it, and a volume's subpath
    await ok(['run', '--rm', '-v', 'plain:/p', 'busybox', 'mkdir', '-p', '/p/a/b']);
    await ok(['run', '--name', 'sub', '-v', 'copied:/c:ro', '--mount', 'type=volume,src=plain,dst=/s,volume-subpath=a', 'busybox', 'ls', '/s']);
    expect(await ok(['logs', 'sub'])).toBe('b\n');
    const mounts = JSON.parse(await ok(['inspect', '-f', '{{json .Mounts}}', 'sub']));
    expect(mounts[0]).toMatchObject({ Type: 'volume', Name: 'copied', Destination: '/c', Mode: 'ro', RW: false });
    await ok(['rm', 'sub']);
    const noSub = await docker(['run', '--rm', '--mount', 'type=volume,src=plain,dst=/s,volume-subpath=none', 'busybox', 'true']);
    expect(noSub.code).not.toBe(0);
    expect(noSub.stderr).toContain(`cannot access path ${join(engine.root, 'volumes', 'plain', '_data', 'none')}`);
    await ok(['volume', 'rm', 'copied', 'plain']);
  });

  it('checks bind propagation against the source mount as dockerd, and shares a shared one', async () => {
    const shared = join(engine.dir, 'shared');
    const priv = join(engine.dir, 'private');
    await mkdir(shared);
    await mkdir(priv);
    for (const [dir, how] of [
      [shared, '--make-shared'],
      [priv, '--make-private'],
    ] as const) {
      expect((await run('mount', ['--bind', dir, dir])).code).toBe(0);
      expect((await run('mount', [how, dir])).code).toBe(0);
    }
    try {
      const refused = await docker(['run', '--rm', '-v', `${priv}:/p:rslave`, 'busybox', 'true']);
      expect(refused.stderr).toContain(`path ${priv} is mounted on ${priv} but it is not a shared or slave mount`);
      const refusedShared = await docker(['run', '--rm', '--mount', `type=bind,src=${priv},dst=/p,bind-propagation=rshared`, 'busybox', 'true']);
      expect(refusedShared.stderr).toContain(`path ${priv} is mounted on ${priv} but it is not a shared mount`);
      // rshared from a shared mount: the container's mount is in a peer group
      const info = await ok([
        'run',
        '--rm',
        '--mount',
        `type=bind,src=${shared},dst=/p,bind-propagation=rshared`,
        'busybox',
        'grep',
        ' /p ',
        '/proc/self/mountinfo',
      ]);
      expect(info).toMatch(/ shared:\d+/);
    } finally {
      await run('umount', ['-l', shared]);
      await run('umount', ['-l', priv]);
    }
  });
});
