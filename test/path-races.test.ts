// A container's own processes swap directories and files for symlinks to the host's files as fast as
// they can while the engine works on paths inside it (berth issue 12, CVE-2018-15664's class). Each
// race is tried at least 1000 times; nothing may be written, read or listed outside the container.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { TestEngine } from './helpers/engine.js';
import { tarOf } from './helpers/archive.js';
import tar from 'tar-stream';

const images = inject('images');
let engine: TestEngine;

const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
// On the host, at paths a container could only reach by escaping: `/` seen through a swapped symlink.
const SECRET = `berth-host-secret-${tag}`;
const probe = `berth-race-probe-${tag}`; // a host file: /<probe>
const probeDir = `berth-race-dir-${tag}`; // a host dir: /<probeDir>/inside
const written = `berth-race-put-${tag}`; // what PUT attempts write: must never appear as /<written>

const ATTEMPTS = 1000;
const BUDGET_MS = 60_000;
// An export tars the whole rootfs and a commit imports a layer: on a shared 2-core machine 1000 of them
// take minutes, so these two get a shorter budget and make at least HEAVY_MIN attempts, past the budget
// on a slow machine (the old commit leaked a host file within 30; the suite's 30-minute budget sets the rest).
const HEAVY_BUDGET_MS = 20_000;
const HEAVY_MIN = 100;
const TIMEOUT = BUDGET_MS + 30_000;

// The loop: /w/d is a directory, then a symlink to /, then a directory again, forever.
const DIR_SWAP = 'mkdir -p /w/d; ln -s / /w/symroot; while :; do mv /w/d /w/tmpd; mv /w/symroot /w/d; mv /w/d /w/symroot; mv /w/tmpd /w/d; done';

/**
 * Runs `attempt` ATTEMPTS times (within the budget, but at least `min`), `parallel` at a time; returns the first attempt
 * that escaped (0 for none) and how many ran.
 */
async function race(attempt: (i: number) => Promise<boolean>, parallel = 1, budget = BUDGET_MS, min = 0): Promise<{ escapedAt: number; tries: number }> {
  const deadline = Date.now() + budget;
  let started = 0;
  let escapedAt = 0;
  const worker = async () => {
    // `min` attempts are made even past the budget: a loaded machine slows the race, it does not excuse it.
    while (!escapedAt && started < ATTEMPTS && (Date.now() < deadline || started < min)) {
      const i = ++started;
      if (await attempt(i)) escapedAt ||= i;
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { escapedAt, tries: escapedAt || started };
}

const engineFds = async () => (await readdir(`/proc/${engine.process!.pid}/fd`)).length;

const runSwapper = async (name: string, script: string) => {
  const res = await engine.docker(['run', '-d', '--name', name, 'busybox', 'sh', '-c', script]);
  expect(res.code, res.stderr).toBe(0);
  await new Promise((r) => setTimeout(r, 300)); // the loop is running
  return res.stdout.trim();
};

beforeAll(async () => {
  await writeFile(`/${probe}`, SECRET);
  await mkdir(`/${probeDir}`);
  await writeFile(`/${probeDir}/inside`, SECRET);
  await writeFile(`/${probeDir}/huge`, '');
  await truncate(`/${probeDir}/huge`, 2 ** 40); // sparse: a size no container layer here comes near
  engine = await TestEngine.start();
  expect((await engine.docker(['load', '-i', images.busybox.archive])).code).toBe(0);
});
afterAll(async () => {
  await engine?.destroy();
  await rm(`/${probe}`, { force: true });
  await rm(`/${probeDir}`, { recursive: true, force: true });
  await rm(`/${written}`, { force: true });
  await rm(`/${written}-cli`, { force: true });
});

describe('docker cp against a container swapping /w/d for a symlink to /', () => {
  let id: string;
  let fdsBefore = 0;
  beforeAll(async () => {
    id = await runSwapper('cpracer', DIR_SWAP);
    fdsBefore = await engineFds();
  });

  it(
    'PUT archive never writes outside the container',
    async () => {
      const body = await tarOf([{ name: written, content: 'x' }]);
      const statuses = new Set<number>();
      const { escapedAt, tries } = await race(async () => {
        const res = await engine.http('PUT', `/containers/${id}/archive?path=/w/d/`, body, { 'content-type': 'application/x-tar' });
        statuses.add(res.status);
        return existsSync(`/${written}`);
      });
      expect(escapedAt, `PUT wrote into the host's / after ${escapedAt} tries`).toBe(0);
      expect(tries).toBe(ATTEMPTS);
      // The swaps were seen: some copies went through the symlink, into the container's own /.
      expect((await engine.http('HEAD', `/containers/${id}/archive?path=/${written}`)).status).toBe(200);
      expect(
        [...statuses].every((s) => s === 200 || s === 404),
        [...statuses].join(),
      ).toBe(true);
    },
    TIMEOUT,
  );

  it(
    'GET archive never returns a host file',
    async () => {
      const { escapedAt, tries } = await race(async () => {
        const res = await engine.http('GET', `/containers/${id}/archive?path=/w/d/${probe}`);
        return res.body.includes(SECRET);
      });
      expect(escapedAt, `GET returned the host's /${probe} after ${escapedAt} tries`).toBe(0);
      expect(tries).toBe(ATTEMPTS);
    },
    TIMEOUT,
  );

  it(
    'GET archive of the parent never descends through the swapped symlink',
    async () => {
      const { escapedAt, tries } = await race(
        async () => {
          const res = await engine.http('GET', `/containers/${id}/archive?path=/w`);
          return res.body.includes(SECRET);
        },
        1,
        10_000,
        HEAVY_MIN,
      ); // GNU tar's own walk, safe before too: a guard, on a short budget
      expect(escapedAt, `GET /w contained a host file after ${escapedAt} tries`).toBe(0);
      expect(tries).toBeGreaterThanOrEqual(HEAVY_MIN);
    },
    TIMEOUT,
  );

  it(
    'HEAD archive (stat) never sees a host file',
    async () => {
      const statuses = new Set<number>();
      const { escapedAt, tries } = await race(async () => {
        const res = await engine.http('HEAD', `/containers/${id}/archive?path=/w/d/${probe}`);
        statuses.add(res.status);
        return res.status === 200; // there is no such file in the container
      });
      expect(escapedAt, `HEAD found the host's /${probe} after ${escapedAt} tries`).toBe(0);
      expect(tries).toBe(ATTEMPTS);
      expect([...statuses]).toEqual([404]);
    },
    TIMEOUT,
  );

  it(
    'the docker CLI copies neither way through the swap',
    async () => {
      const local = await mkdtemp('/var/tmp/berth-race-cli-');
      try {
        const cliName = `${written}-cli`;
        await writeFile(join(local, cliName), 'x');
        for (let i = 0; i < 40; i++) {
          await engine.docker(['cp', join(local, cliName), 'cpracer:/w/d/']);
          expect(existsSync(`/${cliName}`), `docker cp wrote into the host's / after ${i + 1} tries`).toBe(false);
          const out = await engine.docker(['cp', `cpracer:/w/d/${probe}`, '-']);
          expect(out.stdout.includes(SECRET), `docker cp returned a host file after ${i + 1} tries`).toBe(false);
        }
      } finally {
        await rm(local, { recursive: true, force: true });
      }
    },
    TIMEOUT,
  );

  it('holds no descriptors once the copies are done', async () => {
    expect(await engineFds()).toBeLessThan(fdsBefore + 10);
  });
});

describe('diff, commit and export against a container swapping its files for symlinks to host files', () => {
  let id: string;
  // /t/f flips between a regular file and a symlink to the host's probe file; /t/sub between a
  // directory and a symlink to the host's probe dir. Inside the container both symlinks dangle.
  const script = [
    `mkdir -p /t/sub; echo container > /t/f; echo container > /t/sub/file; ln -s /${probe} /t/lnk; ln -s /${probeDir} /t/dlnk`,
    'while :; do mv /t/f /t/x; mv /t/lnk /t/f; mv /t/f /t/lnk; mv /t/x /t/f; mv /t/sub /t/y; mv /t/dlnk /t/sub; mv /t/sub /t/dlnk; mv /t/y /t/sub; done',
  ].join('; ');
  let fdsBefore = 0;
  beforeAll(async () => {
    id = await runSwapper('fsracer', script);
    fdsBefore = await engineFds();
  });

  it(
    'diff never lists a host directory',
    async () => {
      const statuses = new Set<number>();
      const { escapedAt, tries } = await race(async () => {
        const res = await engine.http('GET', `/containers/${id}/changes`);
        statuses.add(res.status);
        return res.body.includes('/inside');
      });
      expect(escapedAt, `diff listed the host's /${probeDir} after ${escapedAt} tries`).toBe(0);
      expect(tries).toBe(ATTEMPTS);
      expect([...statuses]).toEqual([200]); // entries that vanish mid-walk are not errors
    },
    TIMEOUT,
  );

  it(
    'system df never measures a host directory',
    async () => {
      const statuses = new Set<number>();
      const { escapedAt, tries } = await race(async () => {
        const res = await engine.http('GET', '/v1.44/system/df?type=container');
        statuses.add(res.status);
        const mine = (res.json().Containers ?? []).find((c: { Id: string }) => c.Id === id);
        return !mine || mine.SizeRw >= 2 ** 39;
      });
      expect(escapedAt, `df measured the host's /${probeDir} after ${escapedAt} tries`).toBe(0);
      expect(tries).toBe(ATTEMPTS);
      expect([...statuses]).toEqual([200]);
    },
    TIMEOUT,
  );

  it(
    'export never contains a host file',
    async () => {
      const statuses = new Set<number>();
      const { escapedAt, tries } = await race(
        async () => {
          const res = await engine.http('GET', `/containers/${id}/export`);
          statuses.add(res.status);
          return res.body.includes(SECRET);
        },
        2,
        HEAVY_BUDGET_MS,
        HEAVY_MIN,
      );
      expect([...statuses]).toEqual([200]);
      expect(escapedAt, `export contained a host file after ${escapedAt} tries`).toBe(0);
      expect(tries).toBeGreaterThanOrEqual(HEAVY_MIN);
    },
    TIMEOUT,
  );

  it(
    'commit never puts a host file into the layer',
    async () => {
      const blobs = join(engine.root, 'blobs', 'sha256');
      const seen = new Set<string>();
      const leaked = async () => {
        for (const name of await readdir(blobs)) {
          if (seen.has(name)) continue;
          seen.add(name);
          if ((await readFile(join(blobs, name))).includes(SECRET)) return true;
        }
        return false;
      };
      const failures = new Set<string>();
      try {
        const { escapedAt, tries } = await race(
          async () => {
            // pause=0: dockerd's default pause would stop the loop; the walk itself must be safe.
            const res = await engine.http('POST', `/commit?container=${id}&pause=0`);
            if (res.status !== 201) failures.add(`${res.status} ${res.body}`);
            return leaked();
          },
          2,
          HEAVY_BUDGET_MS,
          HEAVY_MIN,
        );
        expect(escapedAt, `commit put a host file into a layer after ${escapedAt} tries`).toBe(0);
        expect(tries).toBeGreaterThanOrEqual(HEAVY_MIN);
        expect([...failures]).toEqual([]); // entries that vanish mid-walk are not errors
      } finally {
        await engine.http('POST', '/images/prune?filters=' + encodeURIComponent(JSON.stringify({ dangling: ['true'] })));
      }
    },
    TIMEOUT,
  );

  it('holds no descriptors once the walks are done', async () => {
    expect(await engineFds()).toBeLessThan(fdsBefore + 10);
  });
});

describe('docker cp edge cases', () => {
  beforeAll(async () => {
    const res = await engine.docker(['run', '-d', '--name', 'cpedge', 'busybox', 'sh', '-c', 'ln -s /nonexistent /dlink; mkdir /dst; sleep 1000']);
    expect(res.code, res.stderr).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
  });

  it('refuses to copy into a dangling symlink to a directory, as dockerd', async () => {
    const local = await mkdtemp('/var/tmp/berth-race-cli-');
    try {
      await writeFile(join(local, 'f'), 'x');
      const res = await engine.docker(['cp', join(local, 'f'), 'cpedge:/dlink/']);
      expect(res.code).not.toBe(0);
      // The CLI's own error once the daemon says /dlink/ does not exist (moby: HEAD follows a trailing /).
      expect(res.stderr).toContain('no such directory');
      expect((await engine.http('HEAD', '/containers/cpedge/archive?path=/dlink/')).status).toBe(404);
      expect((await engine.http('HEAD', '/containers/cpedge/archive?path=/nonexistent')).status).toBe(404);
    } finally {
      await rm(local, { recursive: true, force: true });
    }
  });

  it('names GET entries as dockerd: /dst/ follows and keeps the name, /dst/. gives the content', async () => {
    const entries = await tarOf([
      { name: 'inner', content: 'hi' },
      { name: 'l', type: 'symlink', linkname: 'inner' },
    ]);
    expect((await engine.http('PUT', '/containers/cpedge/archive?path=/dst', entries, { 'content-type': 'application/x-tar' })).status).toBe(200);
    const names = async (path: string) => {
      const res = await engine.http('GET', `/containers/cpedge/archive?path=${path}`);
      expect(res.status).toBe(200);
      const list: string[] = [];
      const extract = tar.extract();
      extract.on('entry', (h, stream, next) => {
        list.push(h.type === 'symlink' ? `${h.name} -> ${h.linkname}` : h.name);
        stream.resume();
        stream.on('end', next);
      });
      await new Promise<void>((resolve, reject) =>
        extract
          .on('finish', () => resolve())
          .on('error', reject)
          .end(res.body),
      );
      return list.sort();
    };
    // What dockerd 20.10 answers for the same container paths.
    expect(await names('/dst/')).toEqual(['dst/', 'dst/inner', 'dst/l -> inner']);
    expect(await names('/dst')).toEqual(['dst/', 'dst/inner', 'dst/l -> inner']);
    expect(await names('/dst/.')).toEqual(['./', './inner', './l -> inner']);
  });

  it('answers a truncated or garbage upload with 400 and keeps serving', async () => {
    const whole = await tarOf([{ name: 'big', content: Buffer.alloc(4096, 'a') }]);
    const put = (body: Buffer) => engine.http('PUT', '/containers/cpedge/archive?path=/dst', body, { 'content-type': 'application/x-tar' });
    const truncated = await put(whole.subarray(0, 512 + 1000));
    expect(truncated.status, truncated.body.toString()).toBe(400);
    const garbage = await put(randomBytes(4096));
    expect(garbage.status, garbage.body.toString()).toBe(400);
    // A client that goes away mid-body.
    await new Promise<void>((resolve) => {
      const req = httpRequest({
        socketPath: engine.socket,
        method: 'PUT',
        path: '/containers/cpedge/archive?path=/dst',
        headers: { 'content-length': '100000', 'content-type': 'application/x-tar' },
      });
      req.on('error', () => resolve());
      req.write(whole.subarray(0, 1024), () => setTimeout(() => (req.destroy(), resolve()), 100));
    });
    await new Promise((r) => setTimeout(r, 200));
    expect((await engine.http('GET', '/_ping')).status).toBe(200);
    expect(engine.process?.exitCode).toBe(null);
  });
});

describe('a refused upload', () => {
  it('gets its answer while the client still sends: the rest of the body is read, not cut off', async () => {
    // The first entry is refused (a file over a directory); 32 MiB follow it. Cutting the connection
    // under the sender gave the docker CLI "error during connect" instead of the message.
    const create = await engine.docker(['create', '--name', 'refused', 'busybox', 'true']);
    expect(create.code, create.stderr).toBe(0);
    try {
      const body = await tarOf([
        { name: 'tmp', content: Buffer.from('x') },
        { name: 'filler', content: Buffer.alloc(32 * 1024 * 1024) },
      ]);
      const put = await engine.http('PUT', '/containers/refused/archive?path=/&noOverwriteDirNonDir=true', body, { 'content-type': 'application/x-tar' });
      expect(put.status, put.body.toString()).toBe(400);
      expect(put.json().message).toContain('cannot overwrite directory');
    } finally {
      await engine.docker(['rm', '-f', 'refused']);
    }
  });
});

describe('WORKDIR at start', () => {
  it('is made inside the rootfs when a symlink on its way points at a host path', async () => {
    const hostDir = `/berth-workdir-${tag}`;
    await mkdir(hostDir); // there on the host, so a mkdir -p through the link would succeed there
    try {
      const create = await engine.docker(['create', '--name', 'wdlink', '-w', '/evil/sub', 'busybox', 'true']);
      expect(create.code, create.stderr).toBe(0);
      const link = await tarOf([{ name: 'evil', type: 'symlink', linkname: hostDir }]);
      expect((await engine.http('PUT', '/containers/wdlink/archive?path=/', link, { 'content-type': 'application/x-tar' })).status).toBe(200);
      const start = await engine.docker(['start', '-a', 'wdlink']);
      expect(existsSync(`${hostDir}/sub`), 'WORKDIR made on the host').toBe(false);
      expect(start.code, start.stderr).toBe(0);
      // Made where the container sees it.
      expect((await engine.http('HEAD', `/containers/wdlink/archive?path=${hostDir}/sub`)).status).toBe(200);
    } finally {
      await engine.docker(['rm', '-f', 'wdlink']);
      await rm(hostDir, { recursive: true, force: true });
    }
  });
});

describe('User at start', () => {
  it("is looked up in the container's /etc/passwd, never a host file a symlink names", async () => {
    const hostPasswd = `/berth-passwd-${tag}`;
    await writeFile(hostPasswd, 'hostonly:x:4242:4242::/:/bin/sh\n');
    try {
      const create = await engine.docker(['create', '--name', 'userlink', '-u', 'hostonly', 'busybox', 'id', '-u']);
      expect(create.code, create.stderr).toBe(0);
      const link = await tarOf([{ name: 'passwd', type: 'symlink', linkname: hostPasswd }]);
      expect((await engine.http('PUT', '/containers/userlink/archive?path=/etc', link, { 'content-type': 'application/x-tar' })).status).toBe(200);
      const start = await engine.docker(['start', '-a', 'userlink']);
      expect(start.stdout).not.toContain('4242');
      expect(start.code).not.toBe(0);
      expect(start.stderr).toContain('hostonly');
    } finally {
      await engine.docker(['rm', '-f', 'userlink']);
      await rm(hostPasswd, { force: true });
    }
  });
});
