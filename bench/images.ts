// berth vs dockerd: the same docker CLI image workload against both engines, on this machine, in one
// run. Prints each step's median time on each engine and the ratio berth/dockerd (lower is better).
// Needs root, the docker CLI and Debian's docker.io (a private dockerd + containerd is started).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import { join } from 'node:path';
import tar from 'tar-stream';
import { buildSizedArchive } from '../test/images/build.js';
import { docker, engineRss, printHeader, printTable, runBench, startBerth, startDockerd, step, time, type Row } from './harness.js';

const BIG = { tag: 'bench/big:latest', layers: 5, bytesPerLayer: 20 * 1024 * 1024 };
const SMALL_COUNT = 200;

// ---- images --------------------------------------------------------------------------------------

/**
 * Merges docker-archives into one whose manifest.json lists every image, so one `docker load` brings
 * in all of them. docker save names files by content (config digest, layer chain ID), so a name seen
 * twice (the shared busybox base) is the same file and is written once.
 */
async function mergeArchives(parts: string[], out: string) {
  const pack = tar.pack();
  const written = finished(pack.pipe(createWriteStream(out)));
  const add = (header: Partial<tar.Header> & { name: string }, data: Buffer) =>
    new Promise<void>((resolve, reject) => pack.entry(header, data, (err) => (err ? reject(err) : resolve())));
  const manifest: object[] = [];
  const seen = new Map<string, string>(); // name → content digest
  for (const part of parts) {
    const extract = tar.extract();
    createReadStream(part).pipe(extract);
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      const data = Buffer.concat(chunks);
      const { name } = entry.header;
      if (name === 'manifest.json') {
        manifest.push(...JSON.parse(data.toString()));
      } else if (name !== 'repositories') {
        const digest = createHash('sha256').update(data).digest('hex');
        if (!seen.has(name)) await add(entry.header, data);
        else if (seen.get(name) !== digest) throw new Error(`${part}: ${name} differs from an earlier archive's`);
        seen.set(name, digest);
      }
    }
  }
  if (manifest.length !== parts.length) throw new Error(`merged ${manifest.length} manifests from ${parts.length} archives`);
  await add({ name: 'manifest.json' }, Buffer.from(JSON.stringify(manifest)));
  pack.finalize();
  await written;
}

// ---- the benchmark -------------------------------------------------------------------------------

await runBench(async ({ dir, engines }) => {
  // Images: one ~100 MB multi-layer image, and 200 tiny distinct images merged into one archive.
  process.stderr.write('bench: building test images\n');
  const big = await buildSizedArchive(join(dir, 'big.tar'), { ...BIG, seed: 1 });
  const bigLabel = `${Math.round(statSync(big.archive).size / 1e6)} MB, ${big.diffIds.length} layers`;
  await mkdir(join(dir, 'small'));
  const parts: string[] = [];
  for (let i = 0; i < SMALL_COUNT; i++) {
    const out = join(dir, 'small', `${i}.tar`);
    parts.push((await buildSizedArchive(out, { tag: `bench/small-${i}:latest`, layers: 1, bytesPerLayer: 1024, seed: 1000 + i })).archive);
  }
  const smallArchive = join(dir, 'small.tar');
  await mergeArchives(parts, smallArchive);
  await rm(join(dir, 'small'), { recursive: true });

  engines.push(await startBerth(dir), await startDockerd(dir));
  const names = engines.map((e) => e.name);
  await sleep(2000);
  const atStart = new Map(engines.map((e) => [e, engineRss(e)]));
  const loadAvg = os.loadavg()[0].toFixed(2); // other work on the machine skews the times
  const rows: Row[] = [];

  // 1. load the big image: 3 cold loads, the image removed before each.
  await step(rows, engines, `docker load -i (${bigLabel}), median of 3`, 'ms', async (e) => {
    const ms: number[] = [];
    for (let i = 0; i < 3; i++) {
      await docker(e, ['rmi', '-f', BIG.tag]).catch(() => {}); // absent on the first run
      spawnSync('sync'); // don't bill this load for the previous one's writeback
      ms.push(await time(e, ['load', '-i', big.archive]));
    }
    const id = (await docker(e, ['image', 'inspect', '--format', '{{.Id}}', BIG.tag])).stdout.trim();
    if (id !== big.id) throw new Error(`loaded ID ${id}, expected ${big.id}`);
    return ms;
  });

  // 2. list with 200 (+1) images: one load of the merged archive (timed once, for information).
  await step(rows, engines, `docker load -i (${SMALL_COUNT} tiny images, one archive), once`, 'ms', (e) => time(e, ['load', '-i', smallArchive]));
  await step(rows, engines, `docker images (${SMALL_COUNT + 1} images), median of 10`, 'ms', async (e) => {
    const listed = (await docker(e, ['images', '-q'])).stdout.trim().split('\n').filter(Boolean).length;
    if (listed < SMALL_COUNT + 1) throw new Error(`lists ${listed} images, expected ${SMALL_COUNT + 1}`);
    const ms: number[] = [];
    for (let i = 0; i < 10; i++) ms.push(await time(e, ['images']));
    return ms;
  });

  // 3. save the big image.
  await step(rows, engines, `docker save -o (${bigLabel}), median of 3`, 'ms', async (e) => {
    const out = join(dir, `saved-${e.name}.tar`);
    const ms: number[] = [];
    for (let i = 0; i < 3; i++) {
      await rm(out, { force: true });
      spawnSync('sync');
      ms.push(await time(e, ['save', '-o', out, BIG.tag]));
    }
    await rm(out, { force: true });
    return ms;
  });

  // 4. idle memory (dockerd's includes its containerd), after the workload and, for reference, at start.
  await sleep(2000);
  await step(rows, engines, 'idle RSS after the workload', 'MiB', async (e) => engineRss(e));
  await step(rows, engines, 'idle RSS at start (for reference)', 'MiB', async (e) => atStart.get(e)!);

  await printHeader(engines, dir, loadAvg);
  printTable(rows, names);
});
