// docker cp through what is mounted in a container (berth issue 13): its volumes and binds, and the
// /etc files the engine bind-mounts, as dockerd sees them (it mounts them over the rootfs for the copy);
// PUT keeps the archive's owners as dockerd does; and a container swapping a directory of its volume for
// a symlink to / can not make a copy through the volume reach the host.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import tar from 'tar-stream';
import { run, TestEngine, TEST_BASE } from './helpers/engine.js';

const images = inject('images');
let engine: TestEngine;
let local: string; // the test's host files: a bind source and files to copy in

const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
const SECRET = `berth-cpmounts-secret-${tag}`;
const probe = `berth-cpmounts-probe-${tag}`; // a host file: /<probe>
const written = `berth-cpmounts-put-${tag}`; // what racing PUTs attempt: must never appear as /<written>

const ok = async (args: string[]) => {
  const res = await engine.docker(args);
  expect(res.code, `docker ${args.join(' ')}: ${res.stderr}`).toBe(0);
  return res.stdout;
};

/** The members of a tar: name, owner and content. */
type Member = { name: string; mode: number; uid: number; gid: number; content: string };
async function members(body: Buffer): Promise<Member[]> {
  const out: Member[] = [];
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      out.push({
        name: entry.header.name,
        mode: (entry.header.mode ?? 0) & 0o7777,
        uid: entry.header.uid ?? -1,
        gid: entry.header.gid ?? -1,
        content: Buffer.concat(chunks).toString(),
      });
    }
  })();
  extract.end(body);
  await done;
  return out;
}

/** `docker cp <src> -`: the tar's members. */
const cpOut = async (src: string) => {
  const res = await engine.docker(['cp', src, '-']);
  expect(res.code, res.stderr).toBe(0);
  return members(Buffer.from(res.stdout));
};

beforeAll(async () => {
  await writeFile(`/${probe}`, SECRET);
  local = await mkdtemp(join(TEST_BASE, 'berth-cpmounts-'));
  await writeFile(join(local, 'b.txt'), 'bound\n');
  await writeFile(join(local, 'in.txt'), 'copied in\n');
  await mkdir(join(local, 'tree', 'vol1'), { recursive: true });
  await writeFile(join(local, 'tree', 'vol1', 'put.txt'), 'through the root\n');
  await mkdir(join(local, 'tree2', 'vol1'), { recursive: true });
  await writeFile(join(local, 'tree2', 'vol1', 'put2.txt'), 'refused\n');
  engine = await TestEngine.start();
  await ok(['load', '-i', images.busybox.archive]);
  await ok(['volume', 'create', 'cpvol']);
  await ok(['run', '--rm', '-v', 'cpvol:/vol1', 'busybox', 'sh', '-c', 'echo hello > /vol1/data.txt']);
});
afterAll(async () => {
  await engine?.destroy();
  await rm(`/${probe}`, { force: true });
  await rm(`/${written}`, { force: true });
  if (local) await rm(local, { recursive: true, force: true });
});

describe('docker cp through mounts', () => {
  it('copies out of and into a named volume of a never-started container', async () => {
    await ok(['create', '--name', 'volc', '-v', 'cpvol:/vol1', 'busybox', 'true']);
    expect((await cpOut('volc:/vol1/data.txt')).map((m) => [m.name, m.content])).toEqual([['data.txt', 'hello\n']]);
    // The mount point itself: the volume's content under the asked name.
    expect((await cpOut('volc:/vol1')).map((m) => m.name).sort()).toEqual(['vol1/', 'vol1/data.txt']);
    // The root holding it: the volume's files in their place, the rest of the rootfs around them.
    const whole = await engine.http('GET', '/containers/volc/archive?path=/'); // binaries: raw bytes, not the CLI's text
    expect(whole.status).toBe(200);
    const all = await members(whole.body);
    expect(all.filter((m) => m.name.includes('vol1')).map((m) => [m.name, m.content])).toEqual([
      ['./vol1/', ''],
      ['./vol1/data.txt', 'hello\n'],
    ]);
    expect(all.some((m) => m.name === './bin/busybox')).toBe(true);
    await ok(['cp', join(local, 'in.txt'), 'volc:/vol1/']);
    expect(await ok(['run', '--rm', '-v', 'cpvol:/v', 'busybox', 'cat', '/v/in.txt'])).toBe('copied in\n');
    // Into a directory holding it: the entries below the mount point go into the volume.
    await ok(['cp', join(local, 'tree') + '/.', 'volc:/']);
    expect(await ok(['run', '--rm', '-v', 'cpvol:/v', 'busybox', 'cat', '/v/put.txt'])).toBe('through the root\n');
    await ok(['rm', 'volc']);
  });

  it("PUT follows a symlink in the archive's path into the volume mounted where it points, as dockerd", async () => {
    await ok(['volume', 'create', 'cplinkvol']);
    await ok(['create', '--name', 'linkc', '-v', 'cplinkvol:/vol1', 'busybox', 'true']);
    const pack = async (entries: [tar.Headers, string?][]) => {
      const p = tar.pack();
      for (const [h, body] of entries) p.entry(h, body);
      p.finalize();
      const chunks: Buffer[] = [];
      for await (const c of p) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    };
    // An absolute and a relative symlink to the mount point, then files below them (no directory entries).
    const links = await pack([[{ name: 'link', type: 'symlink', linkname: '/vol1' }], [{ name: 'rel', type: 'symlink', linkname: 'vol1' }]]);
    expect((await engine.docker(['cp', '-', 'linkc:/'], { input: links })).code).toBe(0);
    const files = await pack([
      [{ name: 'link/f.txt', mode: 0o644 }, 'via link\n'],
      [{ name: 'rel/g.txt', mode: 0o644 }, 'via rel\n'],
    ]);
    const put = await engine.docker(['cp', '-', 'linkc:/'], { input: files });
    expect(put.stderr).toBe('');
    expect(await ok(['run', '--rm', '-v', 'cplinkvol:/v', 'busybox', 'cat', '/v/f.txt', '/v/g.txt'])).toBe('via link\nvia rel\n');
    expect((await cpOut('linkc:/link/f.txt')).map((m) => m.content)).toEqual(['via link\n']);
    await ok(['rm', 'linkc']);
    await ok(['volume', 'rm', 'cplinkvol']);
  });

  it("mounts a never-started container's volumes with driver options for the copy, as dockerd", async () => {
    const dev = join(local, 'optdev');
    await mkdir(dev);
    await writeFile(join(dev, 'h.txt'), 'from the device\n');
    await ok(['volume', 'create', '-o', 'type=none', '-o', 'o=bind', '-o', `device=${dev}`, 'cpoptvol']);
    await ok(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=1m', 'cptmpvol']);
    await ok(['create', '--name', 'optc', '-v', 'cpoptvol:/b', '-v', 'cptmpvol:/t', 'busybox', 'true']);
    const mountpoint = (await ok(['volume', 'inspect', '-f', '{{.Mountpoint}}', 'cpoptvol'])).trim();
    const mounted = async () => (await readFile('/proc/mounts', 'utf8')).includes(` ${mountpoint} `);
    try {
      expect((await cpOut('optc:/b')).map((m) => [m.name, m.content])).toEqual([
        ['b/', ''],
        ['b/h.txt', 'from the device\n'],
      ]);
      await ok(['cp', join(local, 'in.txt'), 'optc:/b/']);
      expect(await readFile(join(dev, 'in.txt'), 'utf8')).toBe('copied in\n');
      // A tmpfs volume is mounted for each copy and gone after it: what one copy put there, the next does not see.
      await ok(['cp', join(local, 'in.txt'), 'optc:/t/']);
      expect((await cpOut('optc:/t')).map((m) => m.name)).toEqual(['t/']);
      // Nothing stays mounted for a container that does not run (a GET releases once its stream has closed).
      for (let i = 0; i < 50 && (await mounted()); i++) await new Promise((r) => setTimeout(r, 100));
      expect(await mounted()).toBe(false);
    } finally {
      await ok(['rm', 'optc']);
      await ok(['volume', 'rm', 'cpoptvol', 'cptmpvol']);
    }
  });

  it('copies out of and into a bind mount of a running container', async () => {
    await ok(['run', '-d', '--name', 'bindc', '-v', `${local}:/bnd`, '--tmpfs', '/tm', 'busybox', 'sleep', '300']);
    expect((await cpOut('bindc:/bnd/b.txt')).map((m) => m.content)).toEqual(['bound\n']);
    // A tmpfs lives only in the container's mount namespace: dockerd leaves it out, and sees the rootfs under it.
    await ok(['exec', 'bindc', 'sh', '-c', 'echo t > /tm/t']);
    expect((await engine.docker(['cp', 'bindc:/tm/t', '-'])).stderr).toContain('Could not find the file /tm/t in container bindc');
    await ok(['cp', join(local, 'in.txt'), 'bindc:/bnd/in2.txt']);
    expect(await readFile(join(local, 'in2.txt'), 'utf8')).toBe('copied in\n');
    await ok(['rm', '-f', 'bindc']);
  });

  it('reads /etc/hosts, /etc/resolv.conf and /etc/hostname of a running container as the container sees them', async () => {
    await ok(['run', '-d', '--name', 'etcc', '--add-host', 'cpmounts.example:10.1.2.3', '--dns', '10.9.8.7', 'busybox', 'sleep', '300']);
    for (const file of ['hosts', 'resolv.conf', 'hostname']) {
      const seen = await ok(['exec', 'etcc', 'cat', `/etc/${file}`]);
      expect(seen.length).toBeGreaterThan(0);
      expect((await cpOut(`etcc:/etc/${file}`)).map((m) => [m.name, m.content])).toEqual([[file, seen]]);
    }
    expect(await ok(['exec', 'etcc', 'cat', '/etc/hosts'])).toContain('cpmounts.example');
    // A directory holding them: its tar has the mounted files in their place (dockerd: etc/hosts, 150 bytes).
    const etc = await cpOut('etcc:/etc');
    expect(etc.filter((m) => m.name === 'etc/hosts').map((m) => m.content)).toEqual([await ok(['exec', 'etcc', 'cat', '/etc/hosts'])]);
    expect(etc.filter((m) => m.name === 'etc/passwd')).toHaveLength(1);
    // A stopped container keeps them (dockerd's paths stay set once the files are written).
    await ok(['stop', '-t', '0', 'etcc']);
    expect((await cpOut('etcc:/etc/resolv.conf'))[0]!.content).toContain('nameserver 10.9.8.7');
    await ok(['rm', '-f', 'etcc']);
  });

  it('reads /etc files of a never-started container as dockerd does (its init layer holds empty ones)', async () => {
    await ok(['create', '--name', 'etcnew', '--dns', '10.9.8.7', 'busybox', 'true']);
    // dockerd: `-rwxr-xr-x root/root 0 hosts`, the same for the other two.
    for (const file of ['hosts', 'resolv.conf', 'hostname']) {
      expect((await cpOut(`etcnew:/etc/${file}`)).map((m) => [m.name, m.mode, m.uid, m.gid, m.content])).toEqual([[file, 0o755, 0, 0, '']]);
    }
    await ok(['rm', 'etcnew']);
  });

  it('PUT keeps the archive owners (docker-py put_archive), and copyUIDGID gives the container user', async () => {
    await ok(['create', '--name', 'ownc', '-u', 'nobody', '-v', 'cpvol:/vol1', 'busybox', 'true']);
    const py = [
      'import docker, io, tarfile',
      `client = docker.DockerClient(base_url='unix://${engine.socket}')`,
      "b = io.BytesIO(); t = tarfile.open(fileobj=b, mode='w')",
      "ti = tarfile.TarInfo('owned.txt'); ti.uid = 1042; ti.gid = 1043; ti.size = 2; t.addfile(ti, io.BytesIO(b'hi'))",
      't.close()',
      "c = client.containers.get('ownc')",
      "assert c.put_archive('/tmp', b.getvalue())",
      "assert c.put_archive('/vol1', b.getvalue())",
      "stream, st = c.get_archive('/vol1/owned.txt')",
      "m = tarfile.open(fileobj=io.BytesIO(b''.join(stream))).getmembers()[0]",
      "print(m.name, m.uid, m.gid, st['name'], st['size'])",
    ].join('\n');
    const res = await run('/usr/bin/python3', ['-c', py]);
    expect(res.stderr).toBe('');
    expect(res.stdout).toBe('owned.txt 1042 1043 owned.txt 2\n');
    expect((await cpOut('ownc:/tmp/owned.txt')).map((m) => [m.uid, m.gid])).toEqual([[1042, 1043]]);
    const body = await new Promise<Buffer>((resolve) => {
      const pack = tar.pack();
      const chunks: Buffer[] = [];
      pack.on('data', (c: Buffer) => chunks.push(c));
      pack.on('end', () => resolve(Buffer.concat(chunks)));
      pack.entry({ name: 'asuser.txt', uid: 1042, gid: 1043, mode: 0o644 }, 'x');
      pack.finalize();
    });
    expect((await engine.http('PUT', '/containers/ownc/archive?path=/tmp&copyUIDGID=1', body, { 'content-type': 'application/x-tar' })).status).toBe(200);
    expect((await cpOut('ownc:/tmp/asuser.txt')).map((m) => [m.uid, m.gid])).toEqual([[65534, 65534]]);
    await ok(['rm', 'ownc']);
  });

  it('refuses a PUT into a read-only volume, and allows one into a writable volume of a read-only rootfs, with dockerd messages', async () => {
    await ok(['create', '--name', 'roc', '--read-only', '-v', 'cpvol:/vro:ro', '-v', 'cpvol:/vrw', 'busybox', 'true']);
    const ro = await engine.docker(['cp', join(local, 'in.txt'), 'roc:/vro/']);
    expect(ro.stderr).toContain('mounted volume is marked read-only');
    await ok(['cp', join(local, 'b.txt'), 'roc:/vrw/']);
    expect((await engine.docker(['cp', join(local, 'in.txt'), 'roc:/tmp/'])).stderr).toContain('container rootfs is marked read-only');
    await ok(['rm', 'roc']);
    // Below the destination too: the host's source is writable, the mount is not.
    await ok(['create', '--name', 'roc2', '-v', 'cpvol:/vol1:ro', 'busybox', 'true']);
    // (dockerd: "Error processing tar file(exit status 1): lchown /vol1: read-only file system")
    const below = await engine.docker(['cp', join(local, 'tree2') + '/.', 'roc2:/']);
    expect(below.code).not.toBe(0);
    expect(below.stderr).toContain('read-only');
    expect((await ok(['run', '--rm', '-v', 'cpvol:/v', 'busybox', 'ls', '/v'])).split('\n')).not.toContain('put2.txt');
    await ok(['rm', 'roc2']);
  });
});

describe('a container swapping a directory of its volume for a symlink to /', () => {
  const ATTEMPTS = 1000;
  const BUDGET_MS = 70_000;

  it('can not make GET or PUT archive through the volume, or through a bind of a directory in it, reach the host', async () => {
    const id = (
      await ok([
        'run',
        '-d',
        '--name',
        'volracer',
        '-v',
        'racevol:/v',
        'busybox',
        'sh',
        '-c',
        'mkdir -p /v/d; ln -s / /v/symroot; while :; do mv /v/d /v/tmpd; mv /v/symroot /v/d; mv /v/d /v/symroot; mv /v/tmpd /v/d; done',
      ])
    ).trim();
    await new Promise((r) => setTimeout(r, 300)); // the loop is running
    const put = await new Promise<Buffer>((resolve) => {
      const pack = tar.pack();
      const chunks: Buffer[] = [];
      pack.on('data', (c: Buffer) => chunks.push(c));
      pack.on('end', () => resolve(Buffer.concat(chunks)));
      pack.entry({ name: written, mode: 0o644 }, 'x');
      pack.finalize();
    });
    const statuses = new Set<number>();
    const deadline = Date.now() + BUDGET_MS;
    let tries = 0;
    let escapedAt = 0;
    while (tries < ATTEMPTS && Date.now() < deadline && !escapedAt) {
      tries++;
      const [w, r] = await Promise.all([
        engine.http('PUT', `/containers/${id}/archive?path=/v/d/`, put, { 'content-type': 'application/x-tar' }),
        engine.http('GET', `/containers/${id}/archive?path=/v/d/${probe}`),
      ]);
      statuses.add(w.status);
      if (existsSync(`/${written}`) || r.body.includes(SECRET)) escapedAt = tries;
    }
    expect(escapedAt, `a copy through the volume reached the host after ${escapedAt} tries`).toBe(0);
    expect(tries).toBe(ATTEMPTS);
    // The copies went through the volume: into /v/d, or through the swapped symlink into the container's /.
    expect(statuses.has(200), [...statuses].join()).toBe(true);

    // Another container binds that very directory (a source the racer controls): the source resolves
    // inside the volume, where the symlink to / leads to the volume's own root, never the host's.
    await ok(['create', '--name', 'bindvictim', '-v', `${engine.root}/volumes/racevol/_data/d:/b`, 'busybox', 'true']);
    statuses.clear();
    tries = 0;
    const bindDeadline = Date.now() + BUDGET_MS;
    while (tries < ATTEMPTS && Date.now() < bindDeadline && !escapedAt) {
      tries++;
      const [w, r] = await Promise.all([
        engine.http('PUT', '/containers/bindvictim/archive?path=/b/', put, { 'content-type': 'application/x-tar' }),
        engine.http('GET', `/containers/bindvictim/archive?path=/b/${probe}`),
      ]);
      statuses.add(w.status);
      if (existsSync(`/${written}`) || r.body.includes(SECRET)) escapedAt = tries;
    }
    expect(escapedAt, `a copy through the bind reached the host after ${escapedAt} tries`).toBe(0);
    expect(tries).toBe(ATTEMPTS);
    expect(statuses.has(200), [...statuses].join()).toBe(true);
    await ok(['rm', 'bindvictim']);
    await ok(['rm', '-f', 'volracer']);
    await ok(['volume', 'rm', 'racevol']);
    expect((await stat(`/${probe}`)).size).toBe(SECRET.length);
  }, 120_000);
});
