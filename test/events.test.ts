// GET /events: what happened, in dockerd's JSON, from the DB (so across restarts, and including exits
// handled while the API server was down), with since/until and filters; compared with a real dockerd.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { inject } from 'vitest';
import { TestEngine, type Result } from './helpers/engine.js';
import { ReferenceDockerd, haveDockerd } from './helpers/dockerd.js';

const images = inject('images');
let engine: TestEngine;
let dockerd: ReferenceDockerd | undefined;

beforeAll(async () => {
  engine = await TestEngine.start();
  expect((await engine.docker(['load', '-i', images.busybox.archive])).code).toBe(0);
  if (haveDockerd()) {
    dockerd = await ReferenceDockerd.start();
    expect((await dockerd.docker(['load', '-i', images.busybox.archive])).code).toBe(0);
  }
}, 120_000);
afterAll(async () => {
  await rm(CP_FILE, { force: true });
  await engine?.destroy();
  await dockerd?.stop();
});

type Docker = (args: string[]) => Promise<Result>;
const docker: Docker = (args) => engine.docker(args);
const ok = async (args: string[], on: Docker = docker) => {
  const res = await on(args);
  expect(res.code, `docker ${args.join(' ')}: ${res.stderr}`).toBe(0);
  return res.stdout;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowSeconds = () => Math.floor(Date.now() / 1000);

interface Event {
  status?: string;
  id?: string;
  from?: string;
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: string;
  time: number;
  timeNano: number;
}

/** `docker events` from `since` until now, parsed. */
async function eventsSince(on: Docker, since: number, ...filters: string[]): Promise<Event[]> {
  const out = await ok(
    ['events', '--since', String(since), '--until', String(nowSeconds() + 1), '--format', '{{json .}}', ...filters.flatMap((f) => ['--filter', f])],
    on,
  );
  return out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Event);
}

/** The same actions on either engine. */
/** A host file for docker cp both ways. */
const CP_FILE = `/var/tmp/berth-events-cp-${process.pid}`;

async function scenario(on: Docker) {
  await ok(['run', '--rm', '--name', 'evt', '--network', 'none', '--label', 'app=demo', 'busybox', 'true'], on);
  await ok(['run', '-d', '--name', 'evlong', '--network', 'none', 'busybox', 'sleep', '1000'], on);
  await ok(['exec', 'evlong', 'sh', '-c', 'exit 2'], on).catch(() => undefined);
  await ok(['pause', 'evlong'], on);
  await ok(['unpause', 'evlong'], on);
  await ok(['cp', 'evlong:/etc/hostname', CP_FILE], on); // archive-path
  await ok(['cp', CP_FILE, 'evlong:/tmp/'], on); // extract-to-dir
  await ok(['rename', 'evlong', 'evrenamed'], on);
  await ok(['kill', '-s', 'USR1', 'evrenamed'], on);
  await ok(['rm', '-f', 'evrenamed'], on);
  await ok(['tag', 'busybox', 'evtag:1'], on);
  await ok(['rmi', 'evtag:1'], on);
}

/** An event with what differs between engines and runs (IDs, times) replaced by stable tokens. */
function normalize(events: Event[]) {
  const ids = new Map<string, string>();
  const token = (id: string) => {
    if (!ids.has(id)) ids.set(id, `<id${ids.size}>`);
    return ids.get(id)!;
  };
  const scrub = (v: string) => v.replace(/(sha256:)?[0-9a-f]{64}/g, (m) => token(m.replace('sha256:', '')));
  return events
    .filter((e) => e.Type !== 'network') // the networks issue brings these
    .filter((e) => e.Action !== 'load') // the setup's loads may or may not fall in the window
    .map((e) => {
      const { time, timeNano, ...rest } = e;
      expect(typeof time).toBe('number');
      expect(Math.floor(timeNano / 1e9)).toBe(time);
      const { execDuration: _d, ...attributes } = e.Actor.Attributes; // newer dockerd adds this to die; 20.10 does not
      return JSON.parse(scrub(JSON.stringify({ ...rest, Actor: { ...e.Actor, Attributes: attributes } })));
    });
}

describe('docker events', () => {
  it.skipIf(!haveDockerd())('records what dockerd records, field for field', async () => {
    const since = nowSeconds() - 1;
    await scenario(docker);
    await scenario((args) => dockerd!.docker(args));
    await sleep(300);
    const ours = normalize(await eventsSince(docker, since));
    const theirs = normalize(await eventsSince((args) => dockerd!.docker(args), since));
    expect(ours).toEqual(theirs);
    expect(ours.map((e: Event) => e.Action)).toContain('exec_die');
  });

  it('streams live events with filters, and ends at --until', async () => {
    const child = spawn(
      'docker',
      [
        'events',
        '--format',
        '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}',
        '--filter',
        'type=container',
        '--filter',
        'container=live',
        '--filter',
        'event=start',
        '--filter',
        'event=die',
      ],
      {
        env: { ...process.env, DOCKER_HOST: `unix://${engine.socket}`, DOCKER_CONFIG: join(engine.dir, 'docker-config') },
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await sleep(500);
    await ok(['run', '--rm', '--name', 'other', 'busybox', 'true']);
    await ok(['run', '--rm', '--name', 'live', 'busybox', 'true']);
    for (let i = 0; i < 50 && !out.includes('die'); i++) await sleep(100);
    child.kill();
    expect(out).toBe('container start live\ncontainer die live\n');
    // until in the past: the history, then the end of the stream
    const t0 = Date.now();
    const res = await engine.http(
      'GET',
      `/events?since=${nowSeconds() - 60}&until=${nowSeconds()}&filters=${encodeURIComponent('{"type":["image"],"event":{"tag":true}}')}`,
    );
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect((await engine.http('GET', '/events?since=abc')).status).toBe(400);
    expect((await engine.http('GET', '/events?filters=%7B%22nosuch%22%3A%5B%22x%22%5D%7D')).status).toBe(400);
  });

  it('keeps events across a restart, including exits while the API server was down', async () => {
    const since = nowSeconds() - 1;
    await ok(['run', '-d', '--name', 'outlive', '--label', 'keep=yes', 'busybox', 'sh', '-c', 'sleep 1; exit 4']);
    await engine.stop('SIGKILL');
    await sleep(2500); // the container exits now, and conmon's exit command records it
    await engine.start();
    const events = await eventsSince(docker, since, 'label=keep=yes');
    expect(events.map((e) => `${e.Action} ${e.Actor.Attributes.name}`)).toEqual(['create outlive', 'start outlive', 'die outlive']);
    expect(events.at(-1)!.Actor.Attributes).toMatchObject({ exitCode: '4', keep: 'yes', image: 'busybox' });
    await ok(['rm', 'outlive']);
  }, 30_000);
});

describe('streaming requests on a kept-alive connection', () => {
  // Each events, logs and wait request used to add a 'close' listener to the connection's socket
  // (holding the request's watch or abort controller) that stayed until the client hung up: a client
  // that keeps its connection (an SDK, compose) piled them up, and Node warned past ten.
  it('leave no listener behind on the connection', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const reused: boolean[] = [];
    const get = (method: string, path: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest({ socketPath: engine.socket, method, path, agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
        reused.push(req.reusedSocket);
      });
    try {
      const id = (await ok(['create', '--network', 'none', 'busybox', 'true'])).trim();
      await ok(['start', id]);
      expect((await ok(['wait', id])).trim()).toBe('0');
      for (let i = 0; i < 12; i++) {
        expect(await get('GET', `/events?since=${nowSeconds() - 5}&until=${nowSeconds()}`)).toBe(200);
        expect(await get('GET', `/v4.3.1/libpod/events?stream=false&since=${nowSeconds() - 5}`)).toBe(200);
        expect(await get('GET', `/containers/${id}/logs?stdout=1&stderr=1`)).toBe(200);
        expect(await get('POST', `/containers/${id}/wait`)).toBe(200);
        expect(await get('POST', `/v4.3.1/libpod/containers/${id}/wait`)).toBe(200);
      }
      expect(reused.slice(1).every(Boolean)).toBe(true); // all on one connection
      expect(engine.stderr).not.toContain('MaxListenersExceededWarning');
      await ok(['rm', id]);
    } finally {
      agent.destroy();
    }
  });
});
