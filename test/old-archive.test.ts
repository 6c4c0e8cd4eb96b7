// docker load of an archive as `docker save` wrote them before Docker 1.10: a `repositories` file and
// per v1 image `<id>/json` (with `parent`), `<id>/layer.tar` and `<id>/VERSION`, no manifest.json.
// Built here by hand; the IDs are those dockerd 20.10 gives the same archive.
import { describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tarOf, type Entry } from './helpers/archive.js';
import { suiteEngine } from './helpers/suite.js';

const engine = suiteEngine();

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);
const v1: Record<string, object> = {
  [A]: {
    id: A,
    created: '2015-11-20T18:55:13.123456700Z',
    container: 'd'.repeat(64),
    container_config: { Hostname: 'x', Cmd: ['/bin/sh', '-c', '#(nop) ADD file:abc in /'] },
    docker_version: '1.9.1',
    author: 'berth <t@example.com>',
    config: { Hostname: 'x', Env: ['PATH=/bin'], Cmd: null },
    architecture: 'amd64',
    os: 'linux',
    Size: 12,
  },
  [B]: {
    id: B,
    parent: A,
    created: '2015-11-20T18:55:14Z',
    container_config: { Cmd: ['/bin/sh', '-c', 'echo hi > /hello && true'] },
    docker_version: '1.9.1',
    config: { Env: ['PATH=/bin'], Cmd: null },
    architecture: 'amd64',
    os: 'linux',
    Size: 3,
  },
  [C]: {
    id: C,
    parent: B,
    created: '2015-11-20T18:55:15.5Z',
    container_config: { Cmd: ['/bin/sh', '-c', '#(nop) CMD ["sh"]'] },
    docker_version: '1.9.1',
    comment: 'old',
    config: { Env: ['PATH=/bin'], Cmd: ['sh'] },
    architecture: 'amd64',
    os: 'linux',
    Size: 0,
  },
};

async function legacyArchive(): Promise<Buffer> {
  const layers: Record<string, Buffer> = {
    [A]: await tarOf([
      { name: 'bin', type: 'directory' },
      { name: 'base.txt', content: 'base\n' },
    ]),
    [B]: await tarOf([{ name: 'hello', content: 'hi\n' }]),
    [C]: await tarOf([]),
  };
  const entries: Entry[] = [];
  for (const id of [A, B, C]) {
    entries.push(
      { name: id, type: 'directory' },
      { name: `${id}/VERSION`, content: '1.0' },
      { name: `${id}/json`, content: JSON.stringify(v1[id]) },
      { name: `${id}/layer.tar`, content: layers[id] },
    );
  }
  entries.push({ name: 'repositories', content: JSON.stringify({ 'old/v1img': { latest: C, base: A } }) });
  return tarOf(entries);
}

// What dockerd 20.10 reports for this archive.
const IDS = {
  base: 'sha256:b4b7957bee4e5929571a615eb9550ed641052cb0bcf46689a6917b71dc220c59',
  middle: 'sha256:1a3d37c70d66b94382d858fb3f466d53ffe61b127b9db90dd93dac1ee0ad7477',
  latest: 'sha256:c00fdd56ce8a758231d43c07a003b17e628a97923588c9b29621336fbe3a27a1',
};

const ok = async (args: string[], input?: Buffer) => {
  const res = await engine.docker(args, { input });
  expect(res.stderr, `docker ${args.join(' ')}`).toBe('');
  expect(res.code, `docker ${args.join(' ')}`).toBe(0);
  return res.stdout;
};

describe('pre-1.10 docker save archives', () => {
  it('load with the image IDs, parents and history dockerd gives them', async () => {
    const file = join(engine.dir, 'legacy.tar');
    await writeFile(file, await legacyArchive());
    // dockerd 20.10 announces nothing for these.
    expect(await ok(['load', '-q', '-i', file])).toBe('');
    const listed = await ok(['images', '-a', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
    expect(listed.split('\n').filter(Boolean).sort()).toEqual([`<none>:<none> ${IDS.middle}`, `old/v1img:base ${IDS.base}`, `old/v1img:latest ${IDS.latest}`]);
    expect(
      await ok(['image', 'inspect', '--format', '{{.Parent}} {{.Comment}} {{.DockerVersion}} {{json .Config.Cmd}} {{len .RootFS.Layers}}', 'old/v1img']),
    ).toBe(`${IDS.middle} old 1.9.1 ["sh"] 3\n`);
    const history = await ok(['history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Size}}|{{.Comment}}', 'old/v1img']);
    expect(history.split('\n').filter(Boolean)).toEqual([
      `${IDS.latest}|/bin/sh -c #(nop) CMD ["sh"]|0B|old`,
      `${IDS.middle}|/bin/sh -c echo hi > /hello && true|3B|`,
      `${IDS.base}|/bin/sh -c #(nop) ADD file:abc in /|5B|`,
    ]);
  });

  it('gives containers the layers in order', async () => {
    const id = (await ok(['create', 'old/v1img'])).trim();
    try {
      const out = join(engine.dir, 'out');
      await ok(['cp', `${id}:/hello`, out]);
      expect(await readFile(out, 'utf8')).toBe('hi\n');
      await ok(['cp', `${id}:/base.txt`, out]);
      expect(await readFile(out, 'utf8')).toBe('base\n');
    } finally {
      await engine.docker(['rm', id]);
    }
  });

  it('refuses a v1 archive whose image names a missing parent', async () => {
    const entries: Entry[] = [
      { name: `${B}/json`, content: JSON.stringify(v1[B]) },
      { name: `${B}/layer.tar`, content: await tarOf([]) },
      { name: 'repositories', content: JSON.stringify({ broken: { latest: B } }) },
    ];
    const res = await engine.docker(['load'], { input: await tarOf(entries) });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`${A}/json`);
    expect(await ok(['images', '-q', 'broken'])).toBe('');
  });
});
