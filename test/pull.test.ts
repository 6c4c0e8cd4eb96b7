// docker pull against a real registry (Debian's docker-registry on 127.0.0.1), the images put there by
// skopeo: manifests, verified blobs, layers shared with what is there, platforms, errors as dockerd's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, connect, type Server } from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import { inject } from 'vitest';
import { TestEngine } from './helpers/engine.js';
import { cliOf } from './helpers/cli.js';
import { TestRegistry } from './helpers/registry.js';
import { onTerminal } from './helpers/terminal.js';
import { resolverAddress } from './helpers/network.js';
import { ReferenceDockerd, haveDockerd } from './helpers/dockerd.js';

const images = inject('images');
let engine: TestEngine;
let registry: TestRegistry;

beforeAll(async () => {
  registry = await TestRegistry.start();
  await registry.pushArchive(images.busybox.archive, 'busybox:latest');
  await registry.pushArchive(images.layered.archive, 'team/layered:1.0');
  engine = await TestEngine.start();
}, 60_000);
afterAll(async () => {
  await engine?.destroy();
  await registry?.stop();
});

const { docker, ok, env: cliEnv } = cliOf(() => engine);

/** The registry's manifest digest for a tag. */
async function manifestDigest(name: string, tag: string): Promise<string> {
  const res = await fetch(`http://${registry.host}/v2/${name}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
  });
  return res.headers.get('docker-content-digest')!;
}

describe('docker pull', () => {
  it('pulls by tag: the same image ID as the archive, its RepoDigest, and it runs', async () => {
    const out = await ok(['pull', `${registry.host}/busybox:latest`]);
    const digest = await manifestDigest('busybox', 'latest');
    expect(out).toContain('latest: Pulling from busybox');
    expect(out).toContain(`Digest: ${digest}`);
    expect(out).toContain(`Status: Downloaded newer image for ${registry.host}/busybox:latest`);
    expect(out.trim().split('\n').at(-1)).toBe(`${registry.host}/busybox:latest`);
    expect((await ok(['image', 'inspect', '-f', '{{.Id}} {{json .RepoDigests}}', `${registry.host}/busybox`])).trim()).toBe(
      `${images.busybox.id} ["${registry.host}/busybox@${digest}"]`,
    );
    expect(await ok(['run', '--rm', `${registry.host}/busybox`, 'echo', 'pulled'])).toBe('pulled\n');
    const again = await ok(['pull', `${registry.host}/busybox:latest`]);
    expect(again).toContain(`Status: Image is up to date for ${registry.host}/busybox:latest`);
    // Pulled layers are stored as downloaded (gzip); docker save still writes the plain tars.
    const archive = join(engine.dir, 'pulled.tar');
    await ok(['save', '-o', archive, `${registry.host}/busybox:latest`]);
    // Its last tag gone, the repository's digest goes too, and the image with it (as dockerd).
    expect(await ok(['rmi', `${registry.host}/busybox:latest`])).toContain(`Deleted: ${images.busybox.id}`);
    expect(await ok(['load', '-i', archive])).toContain(`Loaded image: ${registry.host}/busybox:latest`);
    expect((await ok(['image', 'inspect', '-f', '{{.Id}}', `${registry.host}/busybox`])).trim()).toBe(images.busybox.id);
  });

  it('does not fetch layers it has ("Already exists") and pulls by digest', async () => {
    const out = await ok(['pull', `${registry.host}/team/layered:1.0`]);
    expect(out).toMatch(/: Already exists\n/); // the busybox layer below
    expect(out).toMatch(/: Pull complete\n/);
    expect((await ok(['image', 'inspect', '-f', '{{.Id}}', `${registry.host}/team/layered:1.0`])).trim()).toBe(images.layered.id);
    expect(await ok(['run', '--rm', `${registry.host}/team/layered:1.0`])).toBe('three\n');
    const digest = await manifestDigest('team/layered', '1.0');
    await ok(['rmi', `${registry.host}/team/layered:1.0`]);
    const byDigest = await ok(['pull', `${registry.host}/team/layered@${digest}`]);
    expect(byDigest).toContain(`Digest: ${digest}`);
    expect((await ok(['image', 'inspect', '-f', '{{.Id}}', `${registry.host}/team/layered@${digest}`])).trim()).toBe(images.layered.id);
  });

  it('answers unknown repositories and tags as dockerd, with nothing stored', async () => {
    const before = await ok(['images', '-q', '-a']);
    const tag = await docker(['pull', `${registry.host}/busybox:nosuchtag`]);
    expect(tag.code).toBe(1);
    expect(tag.stderr).toContain(`manifest for ${registry.host}/busybox:nosuchtag not found: manifest unknown: manifest unknown`);
    const repo = await docker(['pull', `${registry.host}/nosuch/repo`]);
    expect(repo.code).toBe(1);
    expect(repo.stderr).toMatch(/pull access denied for .*nosuch\/repo|not found/);
    const closed = await docker(['pull', '127.0.0.1:1/busybox']);
    expect(closed.code).toBe(1);
    expect(closed.stderr).toContain('dial tcp 127.0.0.1:1: connect: connection refused');
    // An unknown host: Go's resolver wording (dockerd's), not Node's `getaddrinfo ENOTFOUND`.
    const lookup = `dial tcp: lookup nosuchhost.invalid on ${resolverAddress()}: no such host`;
    const unknown = await docker(['pull', 'nosuchhost.invalid/x']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(`Error response from daemon: Get "https://nosuchhost.invalid/v2/": ${lookup}\n`);
    const raw = await engine.http('POST', '/images/create?fromImage=nosuchhost.invalid:5000/x&tag=1');
    expect(raw.status).toBe(500);
    expect(raw.json()).toEqual({ message: `Get "https://nosuchhost.invalid:5000/v2/": ${lookup}` });
    expect(await ok(['images', '-q', '-a'])).toBe(before);
  });

  it('refuses a blob whose bytes do not match its digest, and keeps nothing of it', async () => {
    // A proxy in front of the registry flips one byte in every blob body it relays.
    const proxy = await corruptingProxy(registry.port);
    try {
      const name = `127.0.0.1:${proxy.port}/team/layered:1.0`;
      await ok(['rmi', '-f', images.layered.id]).catch(() => undefined);
      const res = await docker(['pull', name]);
      expect(res.code).toBe(1);
      expect(res.stdout + res.stderr).toMatch(/verification failed|digest mismatch|invalid layer/);
      expect((await docker(['image', 'inspect', name])).code).toBe(1);
    } finally {
      proxy.server.close();
    }
  });

  it.skipIf(!haveDockerd())(
    'draws the progress the docker CLI draws with dockerd',
    async () => {
      /** The last state the CLI drew for each layer, and the closing lines, from a pull on a real terminal. */
      const screen = async (env: NodeJS.ProcessEnv) => {
        const res = await onTerminal([40, 120], [], ['docker', 'pull', `${registry.host}/team/layered:1.0`], env);
        expect(res.code, res.stdout).toBe(0);
        const text = res.stdout.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '\n');
        const layers = new Map<string, string>();
        for (const m of text.matchAll(/([0-9a-f]{12}): ([A-Za-z ]+?) *(?=\[|\r|\n|$)/g)) layers.set(m[1]!, m[2]!);
        return {
          layers: Object.fromEntries([...layers].sort()),
          tail: text
            .split(/\r?\n/)
            .map((l) => l.trim())
            .filter((l) => /^(Digest|Status):/.test(l)),
        };
      };
      await ok(['rmi', '-f', images.layered.id]).catch(() => undefined);
      await ok(['rmi', '-f', images.busybox.id]).catch(() => undefined);
      const dockerd = await ReferenceDockerd.start();
      try {
        const ours = await screen(cliEnv());
        const theirs = await screen({ ...process.env, DOCKER_HOST: `unix://${dockerd.socket}`, DOCKER_CONFIG: join(dockerd.dir, 'docker-config') });
        expect(Object.values(ours.layers).every((s) => s === 'Pull complete')).toBe(true);
        expect(ours).toEqual(theirs);
      } finally {
        await dockerd.stop();
      }
    },
    60_000,
  );
});

describe('multi-platform images', () => {
  it('picks the host platform from an index, another with --platform, and says when none matches', async () => {
    await registry.pushArchive(images.busybox.archive, 'multi:amd64');
    await registry.pushArchive(images.layered.archive, 'multi:arm64');
    const manifestOf = async (tag: string) => {
      const res = await fetch(`http://${registry.host}/v2/multi/manifests/${tag}`, {
        headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
      });
      const body = Buffer.from(await res.arrayBuffer());
      return { mediaType: res.headers.get('content-type')!, digest: res.headers.get('docker-content-digest')!, size: body.length };
    };
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { ...(await manifestOf('amd64')), platform: { os: 'linux', architecture: 'amd64' } },
        { ...(await manifestOf('arm64')), platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      ],
    };
    const put = await fetch(`http://${registry.host}/v2/multi/manifests/latest`, {
      method: 'PUT',
      headers: { 'content-type': index.mediaType },
      body: JSON.stringify(index),
    });
    expect(put.status).toBe(201);
    const name = `${registry.host}/multi:latest`;
    const out = await ok(['pull', name]);
    expect(out).toContain(`Digest: ${put.headers.get('docker-content-digest')}`);
    expect((await ok(['image', 'inspect', '-f', '{{.Id}}', name])).trim()).toBe(images.busybox.id);
    await ok(['pull', '--platform', 'linux/arm64', name]);
    expect((await ok(['image', 'inspect', '-f', '{{.Id}}', name])).trim()).toBe(images.layered.id);
    const none = await docker(['pull', '--platform', 'linux/s390x', name]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no matching manifest for linux/s390x in the manifest list entries');
    // GET /distribution/{name}/json: what buildx asks before a build
    const dist = await engine.http('GET', `/distribution/${name}/json`);
    expect(dist.status).toBe(200);
    expect(dist.json()).toEqual({
      Descriptor: { mediaType: index.mediaType, digest: put.headers.get('docker-content-digest'), size: JSON.stringify(index).length },
      Platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
      ],
    });
    expect((await engine.http('GET', `/distribution/${registry.host}/nosuch:1/json`)).status).toBe(404);
  });
});

describe('an interrupted pull', () => {
  it('survives a kill -9 of the engine mid-download: no image, and the next pull resumes the blob', async () => {
    await ok(['rmi', '-f', images.busybox.id]).catch(() => undefined);
    await ok(['rmi', '-f', images.layered.id]).catch(() => undefined);
    const proxy = await cuttingProxy(registry.port, 700_000, true);
    try {
      const name = `127.0.0.1:${proxy.port}/busybox:latest`;
      const pulling = docker(['pull', name]);
      for (let i = 0; i < 100 && !proxy.stalled; i++) await new Promise((r) => setTimeout(r, 50));
      expect(proxy.stalled).toBe(true);
      await new Promise((r) => setTimeout(r, 300)); // let the engine write what it got
      await engine.stop('SIGKILL');
      expect((await pulling).code).not.toBe(0);
      for (const s of proxy.sockets) s.destroy();
      await engine.start();
      expect((await docker(['image', 'inspect', name])).code).toBe(1);
      proxy.cutting = false;
      expect(await ok(['pull', name])).toContain(`Downloaded newer image for ${name}`);
      expect(proxy.ranges.some((r) => /^bytes=\d+-$/.test(r) && Number(r.slice(6, -1)) >= 256 * 1024)).toBe(true);
      expect((await ok(['image', 'inspect', '-f', '{{.Id}}', name])).trim()).toBe(images.busybox.id);
    } finally {
      for (const s of proxy.sockets) s.destroy();
      proxy.server.close();
    }
  }, 60_000);

  it('leaves no image, keeps the partial blob, and resumes it with Range on the next pull', async () => {
    await ok(['rmi', '-f', images.busybox.id]).catch(() => undefined);
    await ok(['rmi', '-f', images.layered.id]).catch(() => undefined);
    const proxy = await cuttingProxy(registry.port, 300_000);
    try {
      const name = `127.0.0.1:${proxy.port}/busybox:latest`;
      const cut = await docker(['pull', name]);
      expect(cut.code).toBe(1);
      expect((await docker(['image', 'inspect', name])).code).toBe(1);
      const { readdir } = await import('node:fs/promises');
      expect((await readdir(join(engine.root, 'partial'))).length).toBeGreaterThanOrEqual(1);
      proxy.cutting = false;
      expect(await ok(['pull', name])).toContain(`Downloaded newer image for ${name}`);
      expect(proxy.ranges.some((r) => /^bytes=\d+-$/.test(r) && Number(r.slice(6, -1)) > 0)).toBe(true);
      expect((await ok(['image', 'inspect', '-f', '{{.Id}}', name])).trim()).toBe(images.busybox.id);
      expect(await readdir(join(engine.root, 'partial'))).toEqual([]);
    } finally {
      proxy.server.close();
    }
  });
});

/**
 * A proxy that cuts the connection after `cutAfter` bytes of a big response body (while `cutting`) —
 * or, with `stall`, stops relaying there and holds the connection open — and notes Range headers.
 */
async function cuttingProxy(target: number, cutAfter: number, stall = false) {
  const state = {
    server: undefined as unknown as Server,
    port: 0,
    cutting: true,
    ranges: [] as string[],
    stalled: false,
    sockets: new Set<import('node:net').Socket>(),
  };
  state.server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    state.sockets.add(client).add(upstream);
    client.on('data', (chunk: Buffer) => {
      for (const m of chunk.toString('latin1').matchAll(/^range: (.*)\r$/gim)) state.ranges.push(m[1]!);
      upstream.write(chunk);
    });
    let body = -1;
    upstream.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      const length = /content-length: (\d+)/i.exec(text);
      if (/^HTTP\/1\.1 20[06]/.test(text) && length && Number(length[1]) > cutAfter) body = chunk.length - text.indexOf('\r\n\r\n') - 4;
      else if (body >= 0) body += chunk.length;
      if (state.cutting && body >= cutAfter) {
        if (state.stalled) return;
        client.write(chunk.subarray(0, chunk.length - (body - cutAfter)));
        if (stall) {
          state.stalled = true;
          upstream.pause();
          return;
        }
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    upstream.on('end', () => client.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  state.server.listen(0, '127.0.0.1');
  await once(state.server, 'listening');
  state.port = (state.server.address() as { port: number }).port;
  return state;
}

/** A TCP proxy to the registry that corrupts blob bodies (responses with an octet-stream type). */
async function corruptingProxy(target: number): Promise<{ server: Server; port: number }> {
  const server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    client.pipe(upstream);
    let inBlob = false;
    upstream.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      if (/^HTTP\/1\.1 200/.test(text)) inBlob = /content-type: application\/octet-stream/i.test(text);
      if (inBlob) {
        const bodyAt = text.indexOf('\r\n\r\n');
        const at = bodyAt >= 0 ? bodyAt + 4 : 0;
        if (at < chunk.length) chunk[at] = chunk[at]! ^ 0xff;
        inBlob = false; // one flipped byte per response is enough
      }
      client.write(chunk);
    });
    upstream.on('end', () => client.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}
