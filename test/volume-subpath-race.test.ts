// Path races in volumes (issue 12): a container on a volume swaps /v/real between a symlink to one of
// the volume's directories and a symlink to the host's / as fast as it can while another container mounts that volume's subpath `real`
// (or binds <volume>/_data/real). What gets mounted must never be the host's /.
//
// Two loops against the same swapper. A full start is ~0.3 s here (the swapper keeps a core busy), so
// 1000 full starts would take minutes: the 1000-attempt loop runs the engine's own start steps in this
// process, with the engine's VolumeService (activate: resolve, check, pin) and the OCI mount source the
// spec gets (ociMount), and looks the source up by name as runc's mount does; the second loop makes
// real starts through the API for as long as a bound allows, the container itself looking for the host.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suiteEngine } from './helpers/suite.js';
import { TestEngine } from './helpers/engine.js';
import { cliOf } from './helpers/cli.js';
import { openDatabase } from '../runtime/state/db.js';
import { EventLog } from '../runtime/events/log.js';
import { VolumeService } from '../runtime/volumes/service.js';
import { ociMount, type MountPoint } from '../runtime/volumes/mounts.js';

const images = inject('images');
const engine = suiteEngine({ load: [images.busybox.archive] });
const { ok } = cliOf(() => engine);

const ATTEMPTS = 1000;
const FULL_STARTS_MS = 30_000;
const stagingMounts = async () => (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.includes('/subpaths/'));
const REFUSAL = /points outside of the volume|cannot access path|bind source path does not exist|no such file or directory/;

describe('volume subpath and bind races', () => {
  // A file only the host's / holds: whoever sees it through the mount sees the host.
  const probe = `berth-subpath-probe-${randomBytes(6).toString('hex')}`;
  let data = '';
  let rootfs = '';
  beforeAll(async () => {
    writeFileSync(`/${probe}`, 'host\n');
    await ok(['volume', 'create', 'race']);
    data = join(engine.root, 'volumes', 'race', '_data');
    mkdirSync(join(data, 'd'));
    symlinkSync('d', join(data, 'real'));
    // /v/real leads alternately to a directory of the volume (d) and to / (the host's, for a lookup on
    // the host), each swap one atomic rename, as fast as sh goes: it always exists, so a check by name
    // passes half of the time, and a later use by name finds / half of the time.
    // It does the same to /real in its own rootfs (a bind source inside a container's rootfs).
    await ok([
      'run',
      '-d',
      '--name',
      'swapper',
      '--network',
      'none',
      '-v',
      'race:/v',
      'busybox',
      'sh',
      '-c',
      'mkdir /d; ln -s d /real; while :; do ln -s / /v/a; mv -T /v/a /v/real; ln -s / /a; mv -T /a /real; ln -s d /v/b; mv -T /v/b /v/real; ln -s d /b; mv -T /b /real; done',
    ]);
    rootfs = join(engine.root, 'containers', (await ok(['inspect', '-f', '{{.Id}}', 'swapper'])).trim(), 'merged');
  }, 60_000);
  afterAll(async () => {
    rmSync(`/${probe}`, { force: true });
    rmSync(`/made-${probe}`, { recursive: true, force: true }); // made only by an escape
    await ok(['rm', '-f', 'swapper']);
    await ok(['volume', 'rm', 'race']);
    // Nothing staged is left behind, by a start that worked or one that was refused.
    expect(await stagingMounts()).toEqual([]);
  });

  it(`never gives runc a source that leads to the host (${ATTEMPTS} resolutions handed out)`, async () => {
    const db = openDatabase(join(engine.dir, 'race.db'));
    const volumes = new VolumeService(db, engine.root, new EventLog(db), join(engine.dir, 'race-run'), { all: () => [] });
    // One mount point an attempt, in turn: the subpath, a bind inside the volume, a bind inside the swapper's rootfs.
    const holders: { id: string; mounts: MountPoint[] }[] = [
      { id: 'race-subpath', mounts: [{ type: 'volume', name: 'race', destination: '/sub', rw: true, mode: 'z', propagation: '', subpath: 'real' }] },
      { id: 'race-bind', mounts: [{ type: 'bind', source: join(data, 'real'), destination: '/bind', rw: true, mode: '', propagation: 'rprivate' }] },
      { id: 'race-rootfs', mounts: [{ type: 'bind', source: join(rootfs, 'real'), destination: '/bind', rw: true, mode: '', propagation: 'rprivate' }] },
    ];
    const seen = { attempts: 0, mounted: 0, refused: 0, hostSeen: 0 };
    const hostSeenBy: Record<string, number> = {};
    const started = Date.now();
    try {
      // Until 1000 sources were handed out (a refusal costs nothing to race), bounded in time.
      while (seen.mounted + seen.hostSeen < ATTEMPTS && Date.now() - started < 75_000) {
        const holder = holders[seen.attempts++ % holders.length]!;
        let staged;
        try {
          staged = await volumes.activate(holder);
        } catch (err) {
          expect((err as Error).message).toMatch(REFUSAL);
          seen.refused++;
          continue;
        }
        try {
          const m = holder.mounts[0]!;
          const { source } = ociMount(m, volumes.mountpoint, staged?.get(m)) as { source: string };
          // runc's mount(2) looks the source up by name, following symlinks: so does this.
          if (existsSync(join(source, probe))) {
            if (!seen.hostSeen) console.log(`host first seen at attempt ${seen.attempts} (${holder.id})`);
            seen.hostSeen++;
            hostSeenBy[holder.id] = (hostSeenBy[holder.id] ?? 0) + 1;
          } else seen.mounted++;
        } finally {
          await volumes.release(holder);
        }
      }
    } finally {
      db.close();
      rmSync(join(engine.dir, 'race-run'), { recursive: true, force: true });
    }
    console.log('subpath/bind resolutions:', seen, hostSeenBy, `${Date.now() - started} ms`);
    expect(seen.hostSeen).toBe(0);
    expect(seen.mounted).toBeGreaterThanOrEqual(ATTEMPTS);
    expect(await stagingMounts()).toEqual([]);
  }, 120_000);

  it('resolves a bind source inside a volume within the volume: made there, its symlinks never lead to the host', async () => {
    await ok(['volume', 'create', 'binds']);
    const made = `made-${probe}`; // unique: what an escape would make in the host's /
    const vol = join(engine.root, 'volumes', 'binds', '_data');
    symlinkSync('/', join(vol, 'up'));
    // Binds make a missing source: inside the volume, through its symlinks as the volume sees them.
    const out = await ok([
      'run',
      '--rm',
      '--network',
      'none',
      '-v',
      `${vol}/up/${made}/here:/m`,
      '-v',
      `${vol}/up:/root-of-volume`,
      'busybox',
      'sh',
      '-c',
      `touch /m/x; ls /root-of-volume; test -e /root-of-volume/${probe} && echo host; true`,
    ]);
    expect(out.split('\n')).toEqual([made, 'up', '']);
    expect(existsSync(join(vol, made, 'here', 'x'))).toBe(true);
    expect(existsSync(`/${made}`)).toBe(false);
    const missing = await engine.http('POST', '/containers/create', {
      Image: 'busybox',
      HostConfig: { NetworkMode: 'none', Mounts: [{ Type: 'bind', Source: `${vol}/${made}`, Target: '/m' }] },
    });
    expect(missing.status).toBe(201);
    rmSync(join(vol, made), { recursive: true });
    symlinkSync('/etc', join(vol, made));
    // /etc of the volume does not exist: refused as a missing source, never the host's /etc.
    const start = await engine.http('POST', `/containers/${missing.json().Id}/start`);
    expect(start.json().message).toBe(`invalid mount config for type "bind": bind source path does not exist: ${vol}/${made}`);
    await ok(['rm', missing.json().Id]);
    await ok(['volume', 'rm', 'binds']);
    expect(await stagingMounts()).toEqual([]);
  });

  it('leaves no staging mount behind an engine killed mid-start: the next engine start removes it', async () => {
    const other = await TestEngine.create();
    try {
      await other.start([], { BERTH_CRASH_AT: 'start:staged' });
      const load = await other.docker(['load', '-i', images.busybox.archive]);
      expect(load.code, load.stderr + other.stderr).toBe(0);
      const created = await other.docker(['volume', 'create', 'vol']);
      expect(created.code, created.stderr).toBe(0);
      mkdirSync(join(other.root, 'volumes', 'vol', '_data', 'sub'));
      const run = await other.docker(['run', '-d', '--network', 'none', '--mount', 'type=volume,src=vol,dst=/s,volume-subpath=sub', 'busybox', 'true']);
      expect(run.code).not.toBe(0); // the engine died under it
      await new Promise((r) => (other.process!.exitCode !== null || other.process!.signalCode !== null ? r(null) : other.process!.once('exit', r)));
      const staged = async () => (await stagingMounts()).filter((l) => l.includes(other.runRoot));
      expect(await staged()).toHaveLength(1);
      await other.start();
      expect(await staged()).toEqual([]);
      expect(readdirSync(join(other.runRoot, 'subpaths'))).toEqual([]);
    } finally {
      await other.destroy();
    }
  }, 60_000);

  it(`never mounts the host's / into a container started on the subpath (full starts, ${FULL_STARTS_MS / 1000} s)`, async () => {
    // Both mounts in one container: the subpath (/sub) and a bind whose source is in the volume (/bind).
    const res = await engine.http('POST', '/containers/create', {
      Image: 'busybox',
      Cmd: ['sh', '-c', `test -e /sub/${probe} && exit 3; test -e /bind/${probe} && exit 4; exit 0`],
      HostConfig: {
        NetworkMode: 'none',
        Mounts: [
          { Type: 'volume', Source: 'race', Target: '/sub', VolumeOptions: { Subpath: 'real' } },
          { Type: 'bind', Source: join(data, 'real'), Target: '/bind' },
        ],
      },
    });
    expect(res.status, res.body.toString()).toBe(201);
    const id = res.json().Id;
    const seen = { ran: 0, refused: 0, hostSeen: 0 };
    const started = Date.now();
    // One container started again and again: every start resolves and mounts afresh.
    while (Date.now() - started < FULL_STARTS_MS) {
      const start = await engine.http('POST', `/containers/${id}/start`);
      if (start.status !== 204) {
        expect(start.json().message).toMatch(REFUSAL);
        seen.refused++;
        continue;
      }
      const code = (await engine.http('POST', `/containers/${id}/wait`)).json().StatusCode;
      if (code !== 0 && !seen.hostSeen) console.log(`host first seen at start ${seen.ran + seen.refused + 1} (exit ${code})`);
      if (code !== 0) seen.hostSeen++;
      seen.ran++;
    }
    console.log('subpath/bind full starts:', seen);
    await ok(['rm', '-f', id]);
    expect(seen.hostSeen).toBe(0);
    expect(seen.ran).toBeGreaterThan(10);
    expect(await stagingMounts()).toEqual([]);
  }, 90_000);
});
