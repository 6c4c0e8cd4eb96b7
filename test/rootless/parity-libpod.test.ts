// The libpod API of a rootless berth through podman --remote, against rootless podman 4.3 itself run by
// the same user (its own storage; runc, cgroupfs and a file events log from the user's containers.conf,
// as this VM needs): what a podman user types after the course notes, where the two differed.
import { readFile, rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { run, type Result } from '../helpers/engine.js';
import { RootlessEngine, configurePodman, squeeze } from '../helpers/rootless.js';

let engine: RootlessEngine;

const ok = (r: Result, what: string) => {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
};
/** Rootless podman itself, as the user (the oracle). */
const local = async (args: string[]) => ok(await engine.user.run('podman', args), `podman ${args.join(' ')}`);
/** podman --remote against the rootless berth. */
const berth = async (args: string[]) => ok(await engine.podman(args), `podman --remote ${args.join(' ')}`);
/** The same command in both, as [berth's, podman's]. */
const both = (args: string[]) => Promise.all([berth(args), local(args)]);
/** A shell line as the user: the docker CLI against the berth, to check Docker's side stays dockerd's. */
const docker = async (args: string[]) => ok(await engine.docker(args), `docker ${args.join(' ')}`);

beforeAll(async () => {
  const archive = inject('images').busybox.archive;
  engine = await RootlessEngine.forNewUser('rpm', {
    load: archive,
    before: async (user) => {
      await configurePodman(user);
      await run('runuser', [
        '-u',
        user.name,
        '--',
        'sh',
        '-c',
        `mkdir -p ${user.home}/ctx && printf 'FROM busybox\\nRUN echo built > /b\\nCMD cat /b\\n' > ${user.home}/ctx/Containerfile`,
      ]);
    },
  });
  const loaded = await engine.user.run('podman', ['load'], { input: await readFile(archive) });
  if (loaded.code !== 0) throw new Error(`podman load: ${loaded.stderr}`);
}, 120_000);

afterAll(async () => {
  if (!engine) return;
  await engine.user.run('podman', ['rm', '-af', '-t', '0']);
  // podman's lock file outside the user's dirs (its pause and storage go with the user).
  await rm(`/dev/shm/libpod_rootless_lock_${engine.user.uid}`, { force: true });
  await engine.destroyWithUser();
}, 60_000);

describe('podman --remote on a rootless berth, as rootless podman', () => {
  it('top: HUSER, HGROUP and HGROUPS are the host ids (podman maps them through its namespace)', async () => {
    try {
      await both(['run', '-d', '--name', 'tr', '--network', 'none', 'busybox', 'sleep', '600']);
      await both(['run', '-d', '--name', 'tu', '--network', 'none', '--user', '1000:1000', 'busybox', 'sleep', '600']);
      const { uid, gid, subuid } = engine.user;
      // podman: `HUSER HGROUP` / `1002 1002` for container root (the user, by number: psgo names it
      // from the container's /etc/passwd), and the subordinate id for uid 1000 (berth said `root`, and
      // the host's name of uid 1000).
      const [root, rootOracle] = await both(['top', 'tr', 'huser', 'hgroup']);
      expect(squeeze(root)).toBe(squeeze(rootOracle));
      expect(squeeze(root)).toBe(`HUSER HGROUP\n${uid} ${gid}`);
      const descriptors = ['top', 'tu', 'user', 'huser', 'group', 'hgroup', 'hgroups'];
      const [user, userOracle] = await both(descriptors);
      expect(squeeze(user)).toBe(squeeze(userOracle));
      const sub = subuid.start + 999;
      expect(squeeze(user)).toBe(`USER HUSER GROUP HGROUP HGROUPS\n1000 ${sub} 1000 ${sub} ${sub}`);
    } finally {
      await both(['rm', '-f', '-t', '0', 'tr', 'tu']);
    }
  });

  it('id in run and exec: the primary group among the supplementary ones only where podman puts it', async () => {
    try {
      // podman's exec: `uid=0(root) gid=0(root)`, `uid=1000 gid=0(root)`, `uid=65534(nobody)
      // gid=65534(nobody)`: no `groups=` (berth added the primary group, as dockerd does); its run adds it
      // for a user other than root.
      const [run, runOracle] = await both(['run', '-d', '--name', 'ids', '--network', 'none', 'busybox', 'sleep', '600']);
      expect(run).toMatch(/^[0-9a-f]{64}\n$/);
      expect(runOracle).toMatch(/^[0-9a-f]{64}\n$/);
      for (const user of [[], ['-u', '1000'], ['-u', 'nobody'], ['-u', '1000:1000']]) {
        const [ours, theirs] = await both(['exec', ...user, 'ids', 'id']);
        expect(ours).toBe(theirs);
      }
      expect(await berth(['exec', 'ids', 'id'])).toBe('uid=0(root) gid=0(root)\n');
      const [nobody, nobodyOracle] = await both(['run', '--rm', '--network', 'none', '--user', 'nobody', 'busybox', 'id']);
      expect(nobody).toBe(nobodyOracle);
      expect(nobody).toBe('uid=65534(nobody) gid=65534(nobody) groups=65534(nobody)\n');
      const [root, rootOracle] = await both(['run', '--rm', '--network', 'none', 'busybox', 'id']);
      expect(root).toBe(rootOracle);
      expect(root).toBe('uid=0(root) gid=0(root)\n');
      // A uid the image lacks gets podman's passwd and group lines: `uid=1000(1000) gid=1000(1000)
      // groups=1000(1000)`, `1000:*:1000:1000:container user:/:/bin/sh`, `1000:x:1000:1000` (berth
      // named none); with no group, gid 0 and the uid's own group line.
      for (const user of ['1000:1000', '1000']) {
        const probe = ['run', '--rm', '--network', 'none', '--user', user, 'busybox', 'sh', '-c', 'id; tail -1 /etc/passwd; tail -1 /etc/group'];
        const [ours, theirs] = await both(probe);
        expect(ours).toBe(theirs);
      }
      expect(await berth(['run', '--rm', '--network', 'none', '--user', '1000', 'busybox', 'sh', '-c', 'id; tail -1 /etc/passwd'])).toBe(
        'uid=1000(1000) gid=0(root) groups=0(root)\n1000:*:1000:0:container user:/:/bin/sh\n',
      );
      // Docker's side keeps dockerd's.
      expect(await docker(['run', '--rm', '--network', 'none', '--user', 'nobody', 'busybox', 'id'])).toBe(
        'uid=65534(nobody) gid=65534(nobody) groups=65534(nobody)\n',
      );
      expect(await docker(['run', '--rm', '--network', 'none', '--user', '1000', 'busybox', 'id'])).toBe('uid=1000 gid=0(root) groups=0(root)\n');
    } finally {
      await both(['rm', '-f', '-t', '0', 'ids']);
    }
  });

  it('inspect .Mounts of a named volume and a bind as podman’s', async () => {
    try {
      await Promise.all([engine.user.run('mkdir', ['-p', 'data']), both(['volume', 'create', 'mv'])]);
      // podman: `volume mv <mountpoint> /data local  true rprivate [nosuid nodev rbind]` (berth: Mode `z`,
      // no propagation, as dockerd shows a volume).
      const run = ['run', '-d', '--name', 'mnt', '--network', 'none', '-v', 'mv:/data', '-v', `${engine.user.home}/data:/hd:ro`, 'busybox', 'sleep', '600'];
      await both(run);
      const format = '{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}} {{.Driver}} {{.Mode}} {{.RW}} {{.Propagation}} {{.Options}}|{{end}}';
      const [ours, theirs] = await both(['inspect', '--format', format, 'mnt']);
      expect(ours).toBe(theirs);
      expect(ours.trim()).toBe('volume mv /data local  true rprivate [nosuid nodev rbind]|bind  /hd   false rprivate [rbind]|');
      // The volume, once a libpod container mounted it: NeedsChown false, as podman's.
      const volume = ['volume', 'inspect', '--format', '{{.NeedsCopyUp}} {{.NeedsChown}}', 'mv'];
      const [vol, volOracle] = await both(volume);
      expect(vol).toBe(volOracle);
      expect(vol.trim()).toBe('true false');
    } finally {
      await both(['rm', '-f', '-t', '0', 'mnt']);
      await both(['volume', 'rm', '-f', 'mv']);
    }
  });

  it('network connect of a container already on the network: podman’s error', async () => {
    try {
      await both(['network', 'create', 'pn']);
      await both(['run', '-d', '--name', 'onnet', '--network', 'pn', 'busybox', 'sleep', '600']);
      // podman: `Error: container <id> is already connected to network "pn": network is already
      // connected`, exit 125 (berth said dockerd's `endpoint with name onnet already exists in network pn`).
      const args = ['network', 'connect', 'pn', 'onnet'];
      const [ours, theirs] = await Promise.all([engine.podman(args), engine.user.run('podman', args)]);
      const [id, theirId] = await both(['inspect', '--format', '{{.Id}}', 'onnet']);
      expect(ours.code).toBe(125);
      expect(ours.code).toBe(theirs.code);
      expect(ours.stderr.replace(id.trim(), '<id>')).toBe(theirs.stderr.replace(theirId.trim(), '<id>'));
    } finally {
      await both(['rm', '-f', '-t', '0', 'onnet']);
      await both(['network', 'rm', 'pn']);
    }
  });

  it('image rm of a built image takes its dangling intermediate images along, as podman’s', async () => {
    // podman: `Untagged: localhost/pimg:latest`, then two `Deleted:` (the image and the RUN step's
    // intermediate); berth deleted one and left a `<none>` image for `system prune` to find.
    const list = ['images', '-a', '--format', '{{.Repository}}:{{.Tag}}'];
    const before = await both(list);
    await both(['build', '-q', '-t', 'pimg', 'ctx']);
    const [out, oracle] = await both(['image', 'rm', 'pimg']);
    const shape = (s: string) => squeeze(s).replace(/[0-9a-f]{64}/g, '<id>');
    expect(shape(out)).toBe(shape(oracle));
    expect(shape(out)).toBe('Untagged: localhost/pimg:latest\nDeleted: <id>\nDeleted: <id>');
    expect(await berth(list)).toBe(before[0]);
  });

  it('run of a missing command: runc’s error as podman words it, not the cgroup warning before it', async () => {
    // podman: `Error: runc: runc create failed: unable to start container process: exec: "nosuchcmd":
    // executable file not found in $PATH: OCI runtime attempted to invoke a command that was not found`
    // (exit 127). Rootless runc first warns `unable to get oom kill count` (no cgroup): berth said that.
    const args = ['run', '-d', '--name', 'nocmd', '--network', 'none', 'busybox', 'nosuchcmd'];
    const [ours, theirs] = await Promise.all([engine.podman(args), engine.user.run('podman', args)]);
    try {
      expect(ours.code).toBe(127);
      expect(ours.code).toBe(theirs.code);
      expect(ours.stderr.trim()).toBe(theirs.stderr.trim());
      // Attached, podman --remote says it while preparing the attach.
      const attached = await engine.podman(['run', '--rm', '--network', 'none', 'busybox', '/etc']);
      expect(attached.code).toBe(126);
      expect(attached.stderr).toMatch(
        /: runc: runc create failed: unable to start container process: exec: "\/etc": permission denied: OCI permission denied\n$/,
      );
    } finally {
      await both(['rm', '-f', 'nocmd']);
    }
  });

  it('a new volume takes the --user of the first container that mounts it (podman’s NeedsChown)', async () => {
    const stat = ['stat', '-c', '%u:%g %a'];
    try {
      await both(['volume', 'create', 'pv']);
      // podman: the user writes to it; the directory is 1000:1000 (berth: root's, `Permission denied`).
      const write = [
        'run',
        '--rm',
        '--network',
        'none',
        '--user',
        '1000:1000',
        '-v',
        'pv:/data',
        'busybox',
        'sh',
        '-c',
        'touch /data/f && stat -c "%u:%g" /data /data/f',
      ];
      const [ours, theirs] = await both(write);
      expect(squeeze(ours)).toBe(squeeze(theirs));
      expect(squeeze(ours)).toBe('1000:1000\n1000:1000');
      // Once only: the next container (another user) finds it as it was.
      const again = ['run', '--rm', '--network', 'none', '--user', '2000', '-v', 'pv:/data', 'busybox', ...stat, '/data'];
      const [second, secondOracle] = await both(again);
      expect(second).toBe(secondOracle);
      expect(second.trim()).toBe('1000:1000 755');
      // On the host, the subordinate ids (the engine's namespace maps 1000 there).
      const mountpoint = (await berth(['volume', 'inspect', '--format', '{{.Mountpoint}}', 'pv'])).trim();
      expect(squeeze(ok(await run('stat', ['-c', '%u:%g', mountpoint]), 'stat'))).toBe(`${engine.user.subuid.start + 999}:${engine.user.subuid.start + 999}`);
      // Over a directory of the image: that directory's owner and mode, whatever the user.
      const tmp = ['run', '--rm', '--network', 'none', '--user', '1000', '-v', 'pt:/tmp', 'busybox', ...stat, '/tmp'];
      const [overTmp, overTmpOracle] = await both(tmp);
      expect(overTmp).toBe(overTmpOracle);
      expect(overTmp.trim()).toBe('0:0 1777');
      // Docker's containers keep dockerd's way: a new volume stays root's.
      expect((await docker(['run', '--rm', '--network', 'none', '--user', '1000', '-v', 'dv:/data', 'busybox', ...stat, '/data'])).trim()).toBe('0:0 755');
    } finally {
      await both(['volume', 'rm', '-f', 'pv', 'pt']);
      await berth(['volume', 'rm', '-f', 'dv']);
    }
  });
});
