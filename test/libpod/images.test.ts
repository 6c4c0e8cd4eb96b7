// podman --remote's local image commands against berth, beside Podman's own service with the same
// archives loaded: images, inspect, exists, history, tree, tag, untag, rmi, prune, load, save, import.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TEST_BASE, TestEngine, httpOn, run } from '../helpers/engine.js';
import { GOLDEN } from '../helpers/golden.js';
import { PodmanService, podmanClient, type PodmanClient } from '../helpers/podman.js';

const images = inject('images');
const shortId = images.busybox.id.slice('sha256:'.length, 'sha256:'.length + 12);
const LAYERED = join(GOLDEN, 'dockerd-layered.tar');
const PODMAN_OCI = join(GOLDEN, 'podman-layered.oci-archive.tar');

let engine: TestEngine;
let berth: PodmanClient;
let oracle: PodmanService;
let dir: string;

/** The same podman command against both: berth's result, expected to equal the oracle's. */
async function both(args: string[]) {
  const [ours, theirs] = await Promise.all([berth.podman(args), oracle.podman(args)]);
  return { ours, theirs };
}

async function same(args: string[], mask = (s: string) => s) {
  const { ours, theirs } = await both(args);
  expect({ code: ours.code, stdout: mask(ours.stdout), stderr: mask(ours.stderr) }, `podman ${args.join(' ')}`).toEqual({
    code: theirs.code,
    stdout: mask(theirs.stdout),
    stderr: mask(theirs.stderr),
  });
  return ours;
}

beforeAll(async () => {
  [engine, oracle] = await Promise.all([TestEngine.start(), PodmanService.start({ subnet: '10.231.4.0/24' })]);
  berth = await podmanClient(engine.socket, engine.dir);
  dir = await mkdtemp(join(TEST_BASE, 'berth-libpod-images-'));
}, 60_000);
afterAll(async () => {
  await Promise.all([engine?.destroy(), oracle?.stop(), dir && rm(dir, { recursive: true, force: true })]);
});

describe('podman --remote load, images, inspect', () => {
  it('loads an archive tagged busybox:latest as localhost/busybox:latest', async () => {
    await same(['load', '-i', images.busybox.archive]);
    const ours = await same(['load', '-i', LAYERED]);
    expect(ours.stdout).toBe('Loaded image: localhost/golden/layered:1.0\n');
  });

  it('lists images as podman: table, digests, IDs, --format, JSON fields', async () => {
    await same(['images']);
    await same(['images', '-a']);
    await same(['images', '--digests']);
    await same(['images', '-q']);
    await same(['images', '--format', '{{.ID}} {{.Repository}} {{.Tag}} {{.Size}} {{.CreatedAt}} {{.Digest}}']);
    await same(['images', '--filter', 'reference=busybox']);
    await same(['images', '--filter', 'label=org.example.role=golden', '--format', '{{.Repository}}']);
    await same(['images', '--filter', 'before=golden/layered:1.0']);
    await same(['images', '--filter', 'since=busybox', '--format', '{{.ID}}']);
    await same(['images', '--filter', 'dangling=true']);
    const { ours, theirs } = await both(['images', '--format', 'json']);
    const pick = (out: string) =>
      (JSON.parse(out) as Record<string, unknown>[]).map(({ Id, RepoTags, Created, Size, Names, Digest, Containers, Labels }) => ({
        Id,
        RepoTags,
        Created,
        Size,
        Names,
        Digest,
        Containers,
        Labels,
      }));
    expect(pick(ours.stdout)).toEqual(pick(theirs.stdout));
  });

  it('inspects an image (libpod ImageData), by short name, ID prefix and full name', async () => {
    const format = ['--format', '{{.Id}} {{.Digest}} {{.RepoTags}} {{.RepoDigests}} {{.Size}} {{.Config.Cmd}} {{.RootFS.Layers}} {{.ManifestType}} {{.User}}'];
    await same(['image', 'inspect', ...format, 'busybox', shortId.slice(0, 6), 'localhost/golden/layered:1.0']);
    await same(['image', 'inspect', 'nosuch']);
  });

  it('finds an image by the digest images --digests shows', async () => {
    const digest = (await oracle.podman(['image', 'inspect', '--format', '{{.Digest}}', 'golden/layered:1.0'])).stdout.trim();
    await same(['image', 'inspect', '--format', '{{.Id}} {{.Digest}}', `localhost/golden/layered@${digest}`, `golden/layered@${digest}`]);
    await same(['image', 'inspect', '--format', '{{.Id}}', `localhost/busybox@${digest}`]); // podman 4.3 ignores the repository
    await same(['image', 'exists', `localhost/golden/layered@sha256:${'0'.repeat(64)}`]);
  });

  it('answers image exists with 0 or 1', async () => {
    await same(['image', 'exists', 'busybox']);
    const missing = await same(['image', 'exists', 'nosuch']);
    expect(missing.code).toBe(1);
  });

  it('shows history and the server-rendered tree as podman', async () => {
    await same(['history', 'golden/layered:1.0']);
    await same(['history', '--no-trunc', '--format', '{{.ID}} {{.Size}} {{.CreatedBy}}', 'busybox']);
    await same(['image', 'tree', 'golden/layered:1.0']);
    await same(['image', 'tree', 'busybox']);
    await same(['history', 'nosuch']);
  });

  it("lists what an image's top layer changes (GET /images/{name}/changes), as podman", async () => {
    for (const name of ['golden%2Flayered:1.0', 'busybox']) {
      const path = `/v4.3.1/libpod/images/${name}/changes`;
      const [ours, theirs] = await Promise.all([engine.http('GET', path), httpOn(oracle.socket, 'GET', path)]);
      expect(theirs.status).toBe(200);
      expect({ status: ours.status, body: ours.json() }).toEqual({ status: 200, body: theirs.json() });
    }
  });

  it('inspects an image with inspect --type image', async () => {
    await same(['inspect', '--type', 'image', '--format', '{{.Id}} {{.RepoTags}}', 'busybox']);
  });
});

describe('podman --remote tag, untag, rmi, prune', () => {
  const names = ['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'];

  it('tags with localhost/ for names without a registry and untags one or all names', async () => {
    await same(['tag', 'busybox', 'docker.io/library/busybox:1', 'x/y:2', 'quay.io/a/b']);
    await same(names);
    await same(['image', 'exists', 'busybox:1']); // a short name finds docker.io/library/busybox:1
    await same(['image', 'inspect', '--format', '{{.Id}}', 'y:2', 'b']);
    // RepoTags in the order given, the names history newest first.
    await same(['image', 'inspect', '--format', '{{.RepoTags}} {{.NamesHistory}} {{.RepoDigests}}', 'busybox']);
    await same(['images', '--format', '{{.History}}']);
    await same(['untag', 'busybox', 'x/y:2']);
    await same(['untag', 'busybox', 'nosuch:1']);
    await same(names);
    await same(['untag', 'quay.io/a/b']); // the image alone: all its names go
    await same(names);
    await same(['tag', shortId, 'busybox']);
    await same(['tag', 'nosuch', 'x']);
    await same(names);
  });

  it('records tag and untag events as the Docker API records them', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    await berth.ok(['tag', 'busybox', 'docker.io/library/evt:1']);
    await berth.ok(['untag', 'busybox', 'docker.io/library/evt:1']);
    const until = String(Math.floor(Date.now() / 1000) + 1);
    const events = await engine.docker([
      'events',
      '--since',
      String(since),
      '--until',
      until,
      '--filter',
      'type=image',
      '--format',
      '{{.Action}} {{.Actor.Attributes.name}}',
    ]);
    expect(events.stdout.split('\n').filter(Boolean).slice(-2)).toEqual(['tag evt:1', `untag ${images.busybox.id}`]); // after the events of earlier tests in the same second
  });

  it('removes images as podman rmi: names, IDs, unknown images, images in use, -f, -a', async () => {
    await same(['tag', 'busybox', 'b2', 'b3']);
    await same(['rmi', 'b2']);
    // By ID with more than one name: podman refuses without -f (exit 125).
    const byId = await same(['rmi', shortId]);
    expect(byId.code).toBe(125);
    await same(['rmi', 'nosuch']);
    await same(['rmi', '-i', 'nosuch']);
    await same(['rmi', 'nosuch', 'b3']);
    // In use: exit 2 (podman creates the container on its own service; berth's through the Docker API).
    const [created, theirs] = await Promise.all([
      engine.docker(['create', 'localhost/busybox:latest', 'true']),
      oracle.podman(['create', 'localhost/busybox:latest', 'true']),
    ]);
    expect([created.code, theirs.code]).toEqual([0, 0]);
    const ids = /[0-9a-f]{64}/g;
    const inUse = await same(['rmi', 'busybox'], (s) => s.replace(ids, '<id>'));
    expect(inUse.code).toBe(2);
    const all = await same(['rmi', '-a'], (s) => s.replace(ids, '<id>'));
    expect(all.code).toBe(2);
    // -f takes the container with the image.
    await same(['rmi', '-f', 'busybox']);
    expect((await engine.docker(['ps', '-aq'])).stdout).toBe('');
    await same(names);
    await same(['load', '-i', images.busybox.archive]);
    await same(['rmi', '-a']);
    await same(['images', '-a']);
  });

  it('prunes unused images with -a', async () => {
    await same(['load', '-i', images.busybox.archive]);
    await same(['load', '-i', LAYERED]);
    await same(['image', 'prune', '-f']);
    await same(['image', 'prune', '-a', '-f', '--filter', 'label=org.example.role=golden']);
    await same(['images', '-a']);
    await same(['image', 'prune', '-a', '-f']);
    await same(['images', '-a']);
  });
});

describe('podman --remote save and import', () => {
  beforeAll(async () => {
    for (const archive of [images.busybox.archive, LAYERED]) await same(['load', '-i', archive]);
  });

  it('saves a docker-archive with full names that podman and skopeo load with the same IDs', async () => {
    const file = join(dir, 'busybox.tar');
    await berth.ok(['save', '-o', file, 'busybox']);
    const manifest = JSON.parse((await run('tar', ['xOf', file, 'manifest.json'])).stdout) as { RepoTags: string[] }[];
    expect(manifest.map((m) => m.RepoTags)).toEqual([['localhost/busybox:latest']]);
    await same(['save', '-o', join(dir, 'none.tar'), 'nosuch']);
    const skopeo = await run('skopeo', ['inspect', `docker-archive:${file}`]);
    expect(skopeo.code, skopeo.stderr).toBe(0);
    // The oracle loads what berth saved and sees the image berth has.
    await oracle.podman(['rmi', '-a']);
    expect((await oracle.podman(['load', '-i', file])).stdout).toBe('Loaded image: localhost/busybox:latest\n');
    await same(['image', 'inspect', '--format', '{{.Id}} {{.RootFS.Layers}}', 'busybox']);
  });

  it('saves several images with -m, and the OCI formats (archive and directory)', async () => {
    const multi = join(dir, 'multi.tar');
    await berth.ok(['tag', 'busybox', 'docker.io/library/busybox:1']);
    await berth.ok(['save', '-m', '-o', multi, 'busybox', 'docker.io/library/busybox:1', 'golden/layered:1.0']);
    const manifest = JSON.parse((await run('tar', ['xOf', multi, 'manifest.json'])).stdout) as { RepoTags: string[] }[];
    expect(manifest.map((m) => m.RepoTags)).toEqual([['localhost/busybox:latest', 'docker.io/library/busybox:1'], ['localhost/golden/layered:1.0']]);
    const oci = join(dir, 'busybox.oci.tar');
    await berth.ok(['save', '--format', 'oci-archive', '-o', oci, 'busybox']);
    const index = JSON.parse((await run('tar', ['xOf', oci, 'index.json'])).stdout) as { manifests: { annotations: Record<string, string> }[] };
    expect(index.manifests.map((m) => m.annotations['org.opencontainers.image.ref.name'])).toEqual(['localhost/busybox:latest']);
    const ociDir = join(dir, 'busybox-oci');
    await berth.ok(['save', '--format', 'oci-dir', '-o', ociDir, 'busybox']);
    expect(JSON.parse(await readFile(join(ociDir, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    for (const ref of [`oci-archive:${oci}`, `oci:${ociDir}`]) {
      const res = await run('skopeo', ['inspect', '--config', ref]);
      expect(res.code, `${ref}: ${res.stderr}`).toBe(0);
      expect(JSON.parse(res.stdout).rootfs.diff_ids).toHaveLength(2);
    }
    // Back in: an OCI archive podman wrote, and the one berth wrote, load under their full names; the
    // archive's manifest is the image's (its digest, type and size, as podman's service shows them).
    await same(['load', '-i', PODMAN_OCI]);
    await same(['image', 'inspect', '--format', '{{.Id}} {{.Digest}} {{.ManifestType}} {{.Size}}', 'b8efb374c09b']);
    await berth.ok(['rmi', '-f', 'busybox']);
    expect(await berth.ok(['load', '-i', oci])).toBe('Loaded image: localhost/busybox:latest\n');
  });

  it('loads an archive without names as podman: the ID is what it prints', async () => {
    const untagged = join(dir, 'untagged.tar');
    await berth.ok(['save', '-o', untagged, shortId]);
    const manifest = JSON.parse((await run('tar', ['xOf', untagged, 'manifest.json'])).stdout) as { RepoTags: string[] | null }[];
    expect(manifest[0]!.RepoTags).toBeNull();
    await Promise.all([berth.ok(['rmi', '-a', '-f']), oracle.podman(['rmi', '-a', '-f'])]);
    await same(['load', '-i', untagged]);
    await same(['images', '-a']);
  });

  it('imports a tarball under localhost/ and prints its ID', async () => {
    const tarball = join(dir, 'rootfs.tar');
    await run('tar', ['cf', tarball, '-C', GOLDEN, 'layered.Dockerfile']);
    const out = await berth.ok(['import', '--message', 'from a test', '-c', 'CMD ["/x"]', tarball, 'imported:1']);
    expect(out).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    expect(await berth.ok(['image', 'inspect', '--format', '{{.Id}} {{.Comment}} {{.Config.Cmd}}', 'localhost/imported:1'])).toBe(
      `${out.slice(7, -1)} from a test [/x]\n`,
    );
  });
});

describe('podman --remote short names of local images', () => {
  it('finds localhost/<name> first, then the name in any registry', async () => {
    await Promise.all([berth.podman(['rmi', '-af']), oracle.podman(['rmi', '-af'])]);
    for (const archive of [images.busybox.archive, LAYERED]) await same(['load', '-i', archive]);
    await same(['tag', 'golden/layered:1.0', 'quay.io/x/busybox:latest']);
    await same(['tag', 'busybox', 'docker.io/library/busybox:latest']);
    const id = ['image', 'inspect', '--format', '{{.Id}}'];
    await same([...id, 'busybox']); // localhost/busybox
    await same(['untag', 'busybox', 'localhost/busybox:latest']);
    await same([...id, 'busybox']); // docker.io/library/busybox
    await same(['untag', 'busybox', 'docker.io/library/busybox:latest']);
    await same([...id, 'busybox']); // quay.io/x/busybox
    await same([...id, 'x/busybox']);
    await same([...id, 'library/busybox']);
  });

  it("renders image tree --whatrequires: the image's top layer and the layers built on it", async () => {
    await same(['load', '-i', join(GOLDEN, 'dockerd-busybox.tar')]); // golden/layered's base
    await same(['image', 'tree', '--whatrequires', 'busybox']);
    await same(['image', 'tree', '--whatrequires', 'golden/layered:1.0']);
    await same(['image', 'tree', 'busybox']);
  });
});
