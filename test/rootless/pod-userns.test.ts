// --userns for pods and --userns=container:<id> on a rootless engine, against podman 4.3 run by the same
// user on the same machine (its own storage; runc, cgroupfs and a file events log from the user's
// containers.conf, as this VM needs): a pod's members join its infra container's user namespace, so
// all see one mapping; a container joins a running one's.
import { readFile, rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { httpOn } from '../helpers/engine.js';
import { RootlessEngine, configurePodman, squeeze } from '../helpers/rootless.js';

let engine: RootlessEngine;

const lines = squeeze;

/** podman run by the user itself (its own storage: the oracle). */
const podman = (args: string[]) => engine.user.run('podman', args);
const podmanOk = async (args: string[]) => {
  const r = await podman(args);
  if (r.code !== 0) throw new Error(`podman ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
/** The same through berth's libpod API. */
const berthOk = async (args: string[]) => {
  const r = await engine.podman(args);
  if (r.code !== 0) throw new Error(`podman --remote ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
/** `cmd` in both (the same arguments), as [berth's, podman's]. */
const both = (args: string[]) => Promise.all([berthOk(args), podmanOk(args)]);

/** A running container's uid_map as the host sees it (root reads any process's). */
const hostUidMap = async (ps: (args: string[]) => Promise<string>, name: string) => {
  const pid = (await ps(['inspect', '--format', '{{.State.Pid}}', name])).trim();
  return lines(await readFile(`/proc/${pid}/uid_map`, 'utf8'));
};

/** What `pod inspect` says of the pod's user namespace (podman lists SharedNamespaces in a Go map's order). */
const podUserns = async (ps: (args: string[]) => Promise<string>, pod: string) => {
  const doc = JSON.parse(await ps(['pod', 'inspect', pod]));
  const d = Array.isArray(doc) ? doc[0] : doc;
  return { userns: d.InfraConfig.userns, shared: [...d.SharedNamespaces].sort() };
};

beforeAll(async () => {
  const archive = inject('images').busybox.archive;
  engine = await RootlessEngine.forNewUser('rlp', {
    load: archive,
    before: configurePodman,
  });
  const loaded = await engine.user.run('podman', ['load'], { input: await readFile(archive) });
  if (loaded.code !== 0) throw new Error(`podman load: ${loaded.stderr}`);
});

afterAll(async () => {
  if (!engine) return;
  await podman(['pod', 'rm', '-af', '-t', '0']);
  await podman(['rm', '-af', '-t', '0']);
  // podman's lock file outside the user's dirs (its pause and storage go with the user).
  await rm(`/dev/shm/libpod_rootless_lock_${engine.user.uid}`, { force: true });
  await engine.destroyWithUser();
});

/** Removes the pods (and containers) both made in a test. */
const cleanBoth = async () => {
  await Promise.all([engine.podman(['pod', 'rm', '-af', '-t', '0']), podman(['pod', 'rm', '-af', '-t', '0'])]);
  await Promise.all([engine.podman(['rm', '-af', '-t', '0']), podman(['rm', '-af', '-t', '0'])]);
};

describe('pod create --userns', () => {
  it('keep-id: a member runs as the user in the infra container’s mapping; inspect as podman’s', async () => {
    try {
      await both(['pod', 'create', '--name', 'pk', '--userns', 'keep-id']);
      const probe = ['run', '--rm', '--pod', 'pk', 'busybox', 'sh', '-c', 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map'];
      const [ours, theirs] = await both(probe);
      const { uid, gid } = engine.user;
      expect(lines(ours).split('\n').slice(0, 2)).toEqual([String(uid), String(gid)]);
      expect(lines(ours)).toBe(lines(theirs));
      // The infra container and a running member: one mapping, as the host sees them.
      await both(['run', '-d', '--pod', 'pk', '--name', 'pk-m', 'busybox', 'sleep', '60']);
      const infra = (await berthOk(['pod', 'inspect', '--format', '{{.InfraContainerID}}', 'pk'])).trim();
      const infraMap = await hostUidMap(berthOk, infra);
      expect(await hostUidMap(berthOk, 'pk-m')).toBe(infraMap);
      expect(infraMap).toBe(lines(`0 ${engine.user.subuid.start} ${uid}\n${uid} ${uid} 1\n${uid + 1} ${engine.user.subuid.start + uid} ${65536 - uid}`));
      // podman's: the member is in the infra container's namespace, with its (keep-id's) user.
      const member = '{{.HostConfig.UsernsMode}} {{.Config.User}}';
      const [ourMember, theirMember] = await both(['inspect', '--format', member, 'pk-m']);
      const theirInfra = (await podmanOk(['pod', 'inspect', '--format', '{{.InfraContainerID}}', 'pk'])).trim();
      expect(ourMember.replace(infra, '<infra>')).toBe(theirMember.replace(theirInfra, '<infra>'));
      expect(ourMember.trim()).toBe(`container:${infra} ${uid}:${gid}`);
      expect(await podUserns(berthOk, 'pk')).toEqual(await podUserns(podmanOk, 'pk'));
    } finally {
      await cleanBoth();
    }
  });

  it.each([['nomap'], ['auto'], ['host']])('%s: the member’s mapping and pod inspect as podman’s', async (mode) => {
    try {
      await both(['pod', 'create', '--name', 'pm', '--userns', mode]);
      const [ours, theirs] = await both(['run', '--rm', '--pod', 'pm', 'busybox', 'sh', '-c', 'id -u; cat /proc/self/uid_map']);
      expect(lines(ours)).toBe(lines(theirs));
      expect(await podUserns(berthOk, 'pm')).toEqual(await podUserns(podmanOk, 'pm'));
    } finally {
      await cleanBoth();
    }
  });

  it('auto: two members share the pod’s slice; a second pod gets another', async () => {
    try {
      const maps = async (ps: (args: string[]) => Promise<string>) => {
        for (const pod of ['pa1', 'pa2']) await ps(['pod', 'create', '--name', pod, '--userns', 'auto']);
        for (const [name, pod] of [
          ['a1', 'pa1'],
          ['a2', 'pa1'],
          ['b1', 'pa2'],
        ])
          await ps(['create', '--name', name, '--pod', pod, 'busybox', 'cat', '/proc/self/uid_map']);
        await ps(['pod', 'start', 'pa1']);
        await ps(['pod', 'start', 'pa2']);
        const out: string[] = [];
        for (const name of ['a1', 'a2', 'b1']) {
          await ps(['wait', name]);
          out.push(lines(await ps(['logs', name])));
        }
        return out;
      };
      const ours = await maps(berthOk);
      expect(ours).toEqual(['0 1 1024', '0 1 1024', '0 1025 1024']);
      expect(ours).toEqual(await maps(podmanOk));
    } finally {
      await cleanBoth();
    }
  });

  it('--share pid on the pod’s bridge: members see each other’s processes; exec into a member works', async () => {
    try {
      await berthOk(['pod', 'create', '--name', 'pp', '--userns', 'keep-id', '--share', 'pid,net,ipc,uts']);
      await berthOk(['run', '-d', '--name', 'pp1', '--pod', 'pp', 'busybox', 'sleep', '300']);
      const ps = await berthOk(['run', '--rm', '--pod', 'pp', 'busybox', 'ps', '-o', 'args']);
      expect(ps).toContain('sleep 300');
      // runc exec joins the member's user namespace first, then the pod's network and IPC namespaces, made in it.
      expect((await berthOk(['exec', 'pp1', 'sh', '-c', 'id -u; ls /dev/mqueue >/dev/null && echo mqueue'])).trim()).toBe(`${engine.user.uid}\nmqueue`);
    } finally {
      await cleanBoth();
    }
  });

  it('a member with a --userns of its own is refused as podman’s client refuses it', async () => {
    try {
      await berthOk(['pod', 'create', '--name', 'pr', '--userns', 'keep-id']);
      const r = await httpOn(engine.socket, 'POST', '/v4.3.1/libpod/containers/create', { image: 'busybox', pod: 'pr', userns: { nsmode: 'nomap' } });
      expect([r.status, r.json().message]).toEqual([400, '--userns and --pod cannot be set together']);
    } finally {
      await cleanBoth();
    }
  });
});

describe('run --userns=container:<id>', () => {
  it('joins a running container’s user namespace: its mapping, its namespace, its view of the image’s owners', async () => {
    try {
      await both(['run', '-d', '--name', 'target', '--network', 'none', '--userns', 'keep-id', 'busybox', 'sleep', '60']);
      const probe = ['run', '--rm', '--network', 'none', '--userns', 'container:target', 'busybox', 'sh', '-c'];
      const [ours, theirs] = await both([...probe, 'id -u; cat /proc/self/uid_map; ls -ln /bin/busybox | cut -c1-30']);
      expect(lines(ours)).toBe(lines(theirs));
      // The very namespace (the target's, joined), not one of the same mappings.
      const ns = 'readlink /proc/self/ns/user';
      expect(await berthOk([...probe, ns])).toBe(await berthOk(['exec', 'target', 'sh', '-c', ns]));
      // On the default network (a bridge the engine made, its namespace made in the target's user namespace): that very one too.
      const bridged = await berthOk(['run', '--rm', '--userns', 'container:target', 'busybox', 'sh', '-c', ns]);
      expect(bridged).toBe(await berthOk(['exec', 'target', 'sh', '-c', ns]));
      // podman's inspect names the target by ID.
      await both(['create', '--name', 'joiner', '--userns', 'container:target', 'busybox', 'true']);
      const id = (await berthOk(['inspect', '--format', '{{.Id}}', 'target'])).trim();
      expect((await berthOk(['inspect', '--format', '{{.HostConfig.UsernsMode}}', 'joiner'])).trim()).toBe(`container:${id}`);
    } finally {
      await cleanBoth();
    }
  });

  it('HostConfig.UsernsMode container:<name> through the Docker API (podman’s compat API parses it as --userns)', async () => {
    try {
      await berthOk(['run', '-d', '--name', 'target', '--network', 'none', '--userns', 'nomap', 'busybox', 'sleep', '60']);
      const created = await httpOn(engine.socket, 'POST', '/v1.41/containers/create', {
        Image: 'busybox',
        Cmd: ['cat', '/proc/self/uid_map'],
        HostConfig: { UsernsMode: 'container:target', NetworkMode: 'none' },
      });
      expect(created.status).toBe(201);
      const id: string = created.json().Id;
      expect((await engine.docker(['start', '-a', id])).stdout).toBe(await berthOk(['exec', 'target', 'cat', '/proc/self/uid_map']));
    } finally {
      await cleanBoth();
    }
  });

  it('a target that does not run or does not exist: podman’s errors', async () => {
    try {
      await both(['create', '--name', 'idle', '--userns', 'keep-id', 'busybox', 'sleep', '60']);
      // podman's service refuses the attached run (its attach prepares the container, dependencies first).
      const r = await engine.podman(['run', '--name', 'waits', '--userns', 'container:idle', 'busybox', 'true']);
      const [waits, idle] = await Promise.all(['waits', 'idle'].map(async (n) => (await berthOk(['inspect', '--format', '{{.Id}}', n])).trim()));
      expect({ code: r.code, stderr: r.stderr.trim() }).toEqual({
        code: 126,
        stderr: `Error: preparing container ${waits} for attach: some dependencies of container ${waits} are not started: ${idle}: container state improper`,
      });
      const [ours, theirs] = await Promise.all([
        engine.podman(['run', '--rm', '--userns', 'container:nope', 'busybox', 'true']),
        podman(['run', '--rm', '--userns', 'container:nope', 'busybox', 'true']),
      ]);
      expect({ code: ours.code, stderr: ours.stderr }).toEqual({ code: theirs.code, stderr: theirs.stderr.replace(/^time=.*shared mount.*\n/m, '') });
    } finally {
      await cleanBoth();
    }
  });
});
