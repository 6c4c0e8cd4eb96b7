// A normal user's `berth serve`: per-user paths, the pause namespace it runs in, `berth unshare`, and
// the clear errors of a user who cannot have one.
import { readFile, stat, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MAIN, run } from '../helpers/engine.js';
import { RootlessEngine, RootlessUser, rootlessMain } from '../helpers/rootless.js';

let user: RootlessUser;
let engine: RootlessEngine;

beforeAll(async () => {
  user = await RootlessUser.create();
  engine = await RootlessEngine.start(user);
});

afterAll(async () => {
  await engine?.destroy();
  await user?.destroy();
});

describe('berth serve as a normal user', () => {
  it('says it is rootless and where its socket, root and run root are, by the user’s defaults', () => {
    expect(engine.stderr()).toContain(
      `berth: rootless as ${user.name} (uid ${user.uid}): socket /run/user/${user.uid}/berth/berth.sock, root ${user.home}/.local/share/berth, run root /run/user/${user.uid}/berth`,
    );
  });

  it('answers the docker CLI on the socket only the user may use', async () => {
    expect((await engine.ok(['version', '--format', '{{.Server.Version}}'])).trim()).not.toBe('');
    const st = await stat(engine.socket);
    expect({ uid: st.uid, mode: st.mode & 0o777 }).toEqual({ uid: user.uid, mode: 0o600 });
    // Another normal user cannot connect.
    const other = await RootlessUser.create();
    try {
      const r = await other.run('docker', ['version'], { env: { DOCKER_HOST: `unix://${engine.socket}` } });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/permission denied/i);
    } finally {
      await other.destroy();
    }
  });

  it('runs in the pause process’s user namespace, where the user is uid 0 and the subuid range follows', async () => {
    const pause = await engine.pausePid();
    expect(await RootlessEngine.userns(engine.pid)).toBe(await RootlessEngine.userns(pause));
    expect(await RootlessEngine.userns(engine.pid)).not.toBe(await RootlessEngine.userns(process.pid));
    const map = (await readFile(`/proc/${engine.pid}/uid_map`, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/).map(Number));
    expect(map).toEqual([
      [0, user.uid, 1],
      [1, user.subuid.start, user.subuid.count],
    ]);
    // The host sees the engine as the user, not root.
    expect(/^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${engine.pid}/status`, 'utf8'))?.[1]).toBe(String(user.uid));
  });

  it('says it is rootless in docker info and podman info, with podman’s id mappings', async () => {
    expect(await engine.ok(['info', '--format', '{{json .SecurityOptions}}'])).toContain('name=rootless');
    // No cgroup of its own on this v1 host: no limits, as a rootless dockerd says; overlay with userxattr.
    expect((await engine.ok(['info', '--format', '{{.MemoryLimit}} {{.PidsLimit}} {{.CgroupDriver}} {{json .DriverStatus}}'])).trim()).toBe(
      'false false none [["Backing Filesystem","extfs"],["Supports d_type","true"],["Native Overlay Diff","true"],["userxattr","true"]]',
    );
    // And its warning, a rootless dockerd's words (the docker CLI prints it under `docker info`).
    expect(JSON.parse(await engine.ok(['info', '--format', '{{json .Warnings}}']))).toEqual([
      'WARNING: Running in rootless-mode without cgroups. To enable cgroups in rootless-mode, you need to boot the system in cgroup v2 mode.',
    ]);
    // No controllers for containers either: rootless podman's info, run by the same user, says [] too.
    const controllers = ['info', '--format', '{{json .Host.CgroupControllers}}'];
    const theirs = await user.run('podman', controllers);
    expect(theirs.stdout.trim(), theirs.stderr).toBe('[]');
    expect((await engine.podman(controllers)).stdout.trim()).toBe('[]');
    const r = await engine.podman(['info', '--format', '{{.Host.Security.Rootless}} {{json .Host.IDMappings.UIDMap}}']);
    expect(r.stderr).toBe('');
    const [flag, map] = r.stdout.trim().split(' ');
    expect(flag).toBe('true');
    expect(JSON.parse(map!)).toEqual([
      { container_id: 0, host_id: user.uid, size: 1 },
      { container_id: 1, host_id: user.subuid.start, size: user.subuid.count },
    ]);
  });

  it('loads images into the user’s root, owned by the user and the subuid range on the host', async () => {
    await engine.load(inject('images').busybox.archive);
    expect(await engine.ok(['images', '--format', '{{.Repository}}:{{.Tag}}'])).toContain('busybox:latest');
    expect((await stat(engine.root)).uid).toBe(user.uid);
  });

  it('joins the same namespace after a kill -9 and a restart', async () => {
    const before = await RootlessEngine.userns(engine.pid);
    const pause = await engine.pausePid();
    await engine.kill9();
    await engine.restart();
    expect(await engine.pausePid()).toBe(pause);
    expect(await RootlessEngine.userns(engine.pid)).toBe(before);
    expect(await engine.ok(['images', '--format', '{{.Repository}}'])).toContain('busybox');
  });

  it('stops on SIGTERM to the launcher, as systemd and a terminal stop it, and leaves the pause', async () => {
    const engineAlive = () => process.kill(engine.pid, 0);
    await engine.stop();
    expect(engineAlive).toThrow();
    const pause = await engine.pausePid();
    expect(() => process.kill(pause, 0)).not.toThrow();
    await engine.restart();
  });
});

describe('berth unshare', () => {
  it('runs a command as uid 0 of the engine’s namespace, with the engine’s root named', async () => {
    const r = await engine.unshare(['sh', '-c', 'id -u; cat /proc/self/uid_map; echo "$BERTH_ROOT"']);
    expect(r.code).toBe(0);
    const [id, m0, m1, root] = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.trim().replace(/\s+/g, ' '));
    expect([id, m0, m1, root]).toEqual(['0', `0 ${user.uid} 1`, `1 ${user.subuid.start} ${user.subuid.count}`, engine.root]);
  });

  it('chowns a file of the user’s to a container id: the host sees the matching subordinate id', async () => {
    const file = `${user.home}/owned`;
    await writeFile(file, 'x');
    await run('chown', [`${user.name}:${user.gid}`, file]);
    const r = await engine.unshare(['chown', '1000:1000', file]);
    expect(r).toMatchObject({ code: 0 });
    const st = await stat(file);
    expect([st.uid, st.gid]).toEqual([user.subuid.start + 999, expect.any(Number)]);
    // An id past the range is refused by the kernel.
    const past = await engine.unshare(['chown', String(user.subuid.count + 10), file]);
    expect(past.code).not.toBe(0);
    expect(past.stderr).toMatch(/Invalid argument/);
  });

  it('passes the command’s exit status on', async () => {
    expect((await engine.unshare(['sh', '-c', 'exit 7'])).code).toBe(7);
  });

  it('as root says to use it rootless, as podman does', async () => {
    const r = await run(process.execPath, [MAIN, 'unshare', 'id']);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe('berth unshare: please use unshare with rootless\n');
  });
});

describe('a user without subordinate ids', () => {
  it('is told which file lacks them and the command that adds them', async () => {
    const bare = await RootlessUser.create();
    try {
      await run('sed', ['-i', `/^${bare.name}:/d`, '/etc/subuid', '/etc/subgid']);
      const r = await bare.run(process.execPath, [rootlessMain(), 'serve']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toBe(
        `berth: user ${bare.name} (uid ${bare.uid}) has no range in /etc/subuid: rootless containers need subordinate ids. ` +
          `As root run: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${bare.name}\n`,
      );
      expect(await bare.processes()).toEqual([]);
    } finally {
      await bare.destroy();
    }
  });
});
