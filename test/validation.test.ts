// What dockerd refuses at create, update, stop and tag is refused here too, with its status and words,
// before anything is made; repeated query parameters take their first value as dockerd reads them.
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createConnection } from 'node:net';
import { availableParallelism } from 'node:os';
import { suiteEngine } from './helpers/suite.js';
import { tarOf } from './helpers/archive.js';

const images = inject('images');
const engine = suiteEngine({ load: [images.busybox.archive] });

const create = (body: object, query = '') => engine.http('POST', `/containers/create${query}`, { Image: 'busybox', Cmd: ['true'], ...body });
const containerCount = async () => (await engine.http('GET', '/containers/json?all=1')).json().length;
const cpus = availableParallelism();

describe('create', () => {
  const refused: [string, object, string][] = [
    [
      'an unknown restart policy',
      { HostConfig: { RestartPolicy: { Name: 'sometimes' } } },
      "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'",
    ],
    [
      'a negative retry count',
      { HostConfig: { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: -1 } } },
      'invalid restart policy: maximum retry count cannot be negative',
    ],
    [
      'a retry count with always',
      { HostConfig: { RestartPolicy: { Name: 'always', MaximumRetryCount: 2 } } },
      "invalid restart policy: maximum retry count can only be used with 'on-failure'",
    ],
    [
      'AutoRemove with a restart policy',
      { HostConfig: { AutoRemove: true, RestartPolicy: { Name: 'always' } } },
      "can't create 'AutoRemove' container with restart policy",
    ],
    ['an unknown stop signal', { StopSignal: 'SIGBOGUS' }, 'Invalid signal: SIGBOGUS'],
    ['negative NanoCpus', { HostConfig: { NanoCpus: -1 } }, `Range of CPUs is from 0.01 to ${cpus}.00, as there are only ${cpus} CPUs available`],
    ['NanoCpus beyond the host', { HostConfig: { NanoCpus: 1e15 } }, `Range of CPUs is from 0.01 to ${cpus}.00, as there are only ${cpus} CPUs available`],
    ['OomScoreAdj out of range', { HostConfig: { OomScoreAdj: 5000 } }, 'Invalid value 5000, range for oom score adj is [-1000, 1000]'],
    ['MemorySwappiness out of range', { HostConfig: { MemorySwappiness: 500 } }, 'Invalid value: 500, valid memory swappiness range is 0-100'],
    ['memory below 6 MB', { HostConfig: { Memory: 1000 } }, 'Minimum memory limit allowed is 6MB'],
    ['negative CpuShares', { HostConfig: { CpuShares: -1 } }, 'invalid CPU shares (-1): value must be a positive integer'],
    ['negative ShmSize', { HostConfig: { ShmSize: -1 } }, 'SHM size can not be less than 0'],
    ['a CPU period of 1', { HostConfig: { CpuPeriod: 1 } }, 'CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)'],
    ['a relative working directory', { WorkingDir: 'rel/dir' }, "the working directory 'rel/dir' is invalid, it needs to be an absolute path"],
    ['a healthcheck interval under 1 ms', { Healthcheck: { Test: ['CMD', 'true'], Interval: 100 } }, 'Interval in Healthcheck cannot be less than 1ms'],
    ['negative healthcheck retries', { Healthcheck: { Test: ['CMD', 'true'], Retries: -1 } }, 'Retries in Healthcheck cannot be negative'],
    ['an unknown capability', { HostConfig: { CapAdd: ['BOGUS'] } }, 'invalid CapAdd: unknown capability: "CAP_BOGUS"'],
    ['an empty environment variable name', { Env: ['=x'] }, 'invalid environment variable: =x'],
  ];
  it.each(refused)("refuses %s with 400 and dockerd's message, making nothing", async (_what, body, message) => {
    const before = await containerCount();
    const res = await create(body);
    expect(res.json()).toEqual({ message });
    expect(res.status).toBe(400);
    expect(await containerCount()).toBe(before);
  });

  it('refuses a healthcheck of the wrong types', async () => {
    const before = await containerCount();
    for (const Healthcheck of [{ Test: 'bogus' }, { Test: ['CMD', 'true'], Interval: '5s' }, 'CMD true']) {
      const res = await create({ Healthcheck });
      expect(res.status, JSON.stringify(Healthcheck)).toBe(400);
      expect(res.json().message).toMatch(/^invalid parameter: body\/Healthcheck/);
    }
    expect(await containerCount()).toBe(before);
  });

  it('checks Healthcheck.StartInterval from API 1.44 on, and ignores it before, as dockerd does', async () => {
    const health = { Image: 'busybox', Cmd: ['true'], Healthcheck: { Test: ['CMD', 'true'], StartInterval: 100 } };
    const res = await engine.http('POST', '/v1.44/containers/create', health);
    expect(res.json()).toEqual({ message: 'StartInterval in Healthcheck cannot be less than 1ms' });
    expect(res.status).toBe(400);
    const old = await engine.http('POST', '/v1.43/containers/create?name=old-client', health);
    expect(old.status, old.body.toString()).toBe(201);
    await engine.http('DELETE', '/containers/old-client');
  });

  it('takes null where Go decodes it as zero (clients send it)', async () => {
    const res = await create(
      { Healthcheck: { Test: ['CMD', 'true'], Interval: null, Retries: null }, HostConfig: { OomScoreAdj: null, MemorySwappiness: null } },
      '?name=nulls',
    );
    expect(res.status, res.body.toString()).toBe(201);
    await engine.http('DELETE', '/containers/nulls');
  });

  it('keeps an absolute working directory cleaned, as dockerd does', async () => {
    const res = await create({ WorkingDir: '/a/../b/' }, '?name=wd');
    expect(res.status).toBe(201);
    expect((await engine.http('GET', '/containers/wd/json')).json().Config.WorkingDir).toBe('/b');
    await engine.http('DELETE', '/containers/wd');
  });

  it('refuses a name no request path could carry, and keeps the longest one addressable', async () => {
    const before = await containerCount();
    const tooLong = await create({}, `?name=${'n'.repeat(2049)}`);
    expect(tooLong.status).toBe(400);
    expect(tooLong.json().message).toBe('Invalid container name: longer than 2048 characters');
    expect(await containerCount()).toBe(before);
    const longest = 'm'.repeat(2048);
    expect((await create({}, `?name=${longest}`)).status).toBe(201);
    expect((await engine.http('GET', `/containers/${longest}/json`)).json().Name).toBe(`/${longest}`);
    expect((await engine.http('DELETE', `/containers/${longest}`)).status).toBe(204);
  });
});

describe('update', () => {
  it("refuses what create refuses, with dockerd's 400 rather than runc's error, and changes nothing", async () => {
    expect((await create({ Cmd: ['sleep', '1000'] }, '?name=upd')).status).toBe(201);
    expect((await engine.http('POST', '/containers/upd/start')).status).toBe(204);
    try {
      for (const [body, message] of [
        [{ Memory: 1 }, 'Minimum memory limit allowed is 6MB'],
        [
          { RestartPolicy: { Name: 'sometimes' } },
          "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'",
        ],
        [{ NanoCpus: -1 }, `Range of CPUs is from 0.01 to ${cpus}.00, as there are only ${cpus} CPUs available`],
        [{ CpuShares: -1 }, 'invalid CPU shares (-1): value must be a positive integer'],
      ] as const) {
        const res = await engine.http('POST', '/containers/upd/update', body);
        expect(res.json(), JSON.stringify(body)).toEqual({ message });
        expect(res.status).toBe(400);
      }
      const hc = (await engine.http('GET', '/containers/upd/json')).json().HostConfig;
      expect([hc.Memory, hc.NanoCpus, hc.CpuShares, hc.RestartPolicy.Name]).toEqual([0, 0, 0, 'no']);
      expect((await engine.http('POST', '/containers/upd/update', { Memory: 64 * 1024 * 1024 })).status).toBe(200);
    } finally {
      await engine.http('DELETE', '/containers/upd?force=1');
    }
  });
});

describe('stop', () => {
  it('answers a timeout Go cannot parse as dockerd does, at once, and leaves the container running', async () => {
    // sh as PID 1 ignores SIGTERM: a stop that sent it and waited "forever" would hang.
    expect((await create({ Cmd: ['sleep', '1000'] }, '?name=stubborn')).status).toBe(201);
    expect((await engine.http('POST', '/containers/stubborn/start')).status).toBe(204);
    try {
      for (const [t, reason] of [
        ['99999999999999999999', 'value out of range'],
        ['abc', 'invalid syntax'],
        ['1.5', 'invalid syntax'],
      ]) {
        const started = Date.now();
        const res = await engine.http('POST', `/containers/stubborn/stop?t=${t}`);
        expect(Date.now() - started).toBeLessThan(2000);
        expect(res.json()).toEqual({ message: `strconv.Atoi: parsing "${t}": ${reason}` });
        expect(res.status).toBe(500);
      }
      expect((await engine.http('GET', '/containers/stubborn/json')).json().State.Running).toBe(true);
    } finally {
      await engine.http('DELETE', '/containers/stubborn?force=1');
    }
  });
});

describe('repeated query parameters', () => {
  it("take the first value (Go's url.Values.Get) on create", async () => {
    const res = await create({}, '?name=first&name=second');
    expect(res.status).toBe(201);
    expect((await engine.http('GET', '/containers/first/json')).json().Id).toBe(res.json().Id);
    expect((await engine.http('GET', '/containers/second/json')).status).toBe(404);
    await engine.http('DELETE', '/containers/first');
  });

  it('take the first dockerfile= on /build (docker-py repeats it)', async () => {
    const context = await tarOf([
      { name: 'Dockerfile', content: 'FROM busybox\nLABEL which=first\n' },
      { name: 'Other', content: 'FROM busybox\nLABEL which=other\n' },
    ]);
    const res = await engine.http('POST', '/build?dockerfile=Dockerfile&dockerfile=Other&t=repeated:1', context, { 'content-type': 'application/x-tar' });
    expect(res.status, res.body.toString()).toBe(200);
    expect((await engine.http('GET', '/images/repeated:1/json')).json().Config.Labels).toEqual({ which: 'first' });
    await engine.http('DELETE', '/images/repeated:1');
  });

  it('take the first on the routes that validate by hand (tag)', async () => {
    expect((await engine.http('POST', '/images/busybox/tag?repo=first/x&repo=second/x')).status).toBe(201);
    expect((await engine.http('GET', '/images/first/x/json')).status).toBe(200);
    expect((await engine.http('GET', '/images/second/x/json')).status).toBe(404);
    await engine.http('DELETE', '/images/first/x');
  });

  it('keep every value where the API takes a list (t=)', async () => {
    const context = await tarOf([{ name: 'Dockerfile', content: 'FROM busybox\nLABEL x=y\n' }]);
    const res = await engine.http('POST', '/build?t=many:1&t=many:2', context, { 'content-type': 'application/x-tar' });
    expect(res.status, res.body.toString()).toBe(200);
    expect((await engine.http('GET', '/images/many:1/json')).json().RepoTags.sort()).toEqual(['many:1', 'many:2']);
    await engine.http('DELETE', '/images/many:1');
    await engine.http('DELETE', '/images/many:2');
  });
});

describe('the websocket attach', () => {
  it("answers a missing container with dockerd's 404 and message, upgraded or not", async () => {
    const plain = await engine.http('GET', '/containers/missing/attach/ws?stream=1&stdout=1');
    expect(plain.status).toBe(404);
    expect(plain.json()).toEqual({ message: 'No such container: missing' });
    const upgraded = await new Promise<string>((resolve, reject) => {
      const socket = createConnection(engine.socket);
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.write(
        'GET /containers/missing/attach/ws?stream=1&stdout=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
          'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      );
      setTimeout(() => socket.end(), 1000);
    });
    expect(upgraded).toMatch(/^HTTP\/1\.1 404 /);
    expect(upgraded).toContain('{"message":"No such container: missing"}');
  });
});

describe('tag', () => {
  it('refuses uppercase in a repository name whose first component is not a registry, as dockerd does', async () => {
    for (const [repo, name] of [
      ['UPPER/case', 'UPPER/case'],
      ['Upper', 'library/Upper'],
      ['localhost:5000/UP', 'UP'],
    ]) {
      const res = await engine.http('POST', `/images/busybox/tag?repo=${encodeURIComponent(repo)}`);
      expect(res.json(), repo).toEqual({ message: `invalid reference format: repository name (${name}) must be lowercase` });
      expect(res.status).toBe(400);
    }
    const tags = (await engine.http('GET', '/images/json')).json().flatMap((i: { RepoTags: string[] }) => i.RepoTags);
    expect(tags).toEqual(['busybox:latest']);
    // A first component with a dot is a registry, where uppercase is allowed.
    expect((await engine.http('POST', '/images/busybox/tag?repo=Reg.example/x')).status).toBe(201);
    await engine.http('DELETE', '/images/Reg.example/x');
  });
});
