// berth vs dockerd: `docker push` and `docker pull` of a ~300 MB, 8-layer image against a local
// registry (Debian's docker-registry on 127.0.0.1, plain HTTP), the docker CLI against both engines, on
// this machine, in one run. Prints each step's mean time on each engine and the ratio berth/dockerd
// (lower is better). Needs root, the docker CLI, Debian's docker.io, docker-registry and skopeo.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildSizedArchive } from '../test/images/build.js';
import { REGISTRY_BINARY, TestRegistry } from '../test/helpers/registry.js';
import {
  docker,
  exec,
  mean,
  printHeader,
  printTable,
  processesMentioning,
  runBench,
  startBerth,
  startDockerd,
  step,
  time,
  type Bench,
  type Engine,
  type Row,
} from './harness.js';

// busybox is 2 layers (the binary, then its links and /etc): 6 more of 50 MB make 8 layers, ~300 MB.
const IMAGE = { tag: 'bench/big:1', layers: 6, bytesPerLayer: 50_000_000, seed: 300 };
const LAYERS = 8;
const RUNS = 3;
const PULL_REPO = 'bench/pull';

const SCHEMA2 = 'application/vnd.docker.distribution.manifest.v2+json';

interface Manifest {
  config: { digest: string; size: number };
  layers: { digest: string; size: number }[];
}

/** Checks what a push left in the registry: the manifest (8 layers, the image's config) and every blob. */
async function checkPushed(reg: TestRegistry, repo: string, tag: string, imageId: string): Promise<number> {
  const res = await fetch(`http://${reg.host}/v2/${repo}/manifests/${tag}`, { headers: { accept: SCHEMA2 } });
  if (res.status !== 200) throw new Error(`${reg.host}/${repo}:${tag}: manifest answers ${res.status}`);
  const m = (await res.json()) as Manifest;
  if (m.config.digest !== imageId) throw new Error(`pushed config ${m.config.digest}, expected ${imageId}`);
  if (m.layers.length !== LAYERS) throw new Error(`pushed ${m.layers.length} layers, expected ${LAYERS}`);
  for (const b of [m.config, ...m.layers]) {
    const head = await fetch(`http://${reg.host}/v2/${repo}/blobs/${b.digest}`, { method: 'HEAD' });
    if (head.status !== 200) throw new Error(`blob ${b.digest} answers ${head.status} after the push`);
  }
  return m.layers.reduce((sum, l) => sum + l.size, 0);
}

/** The image IDs the engine lists (`docker images -a`, untagged and intermediate ones included). */
async function imageIds(e: Engine): Promise<string[]> {
  return (await docker(e, ['images', '-a', '-q', '--no-trunc'])).stdout.trim().split('\n').filter(Boolean);
}

await runBench(async (bench: Bench) => {
  const { dir, engines } = bench;

  // Registries live in their own /var/tmp/berth-registry-* directories (TestRegistry's), not under dir:
  // each is stopped (and its storage removed) as soon as its run is over, and whatever is still up at
  // the end — also after an error or a signal — before the engines stop. Their processes are tracked
  // too, as a last resort for the harness's cleanup.
  const live = new Set<TestRegistry>();
  const startRegistry = async () => {
    const reg = await TestRegistry.start();
    live.add(reg);
    for (const p of processesMentioning(reg.dir)) bench.track(p.pid);
    return reg;
  };
  const stopRegistry = async (reg: TestRegistry) => {
    live.delete(reg);
    await reg.stop();
    if (existsSync(reg.dir)) process.stderr.write(`bench: ${reg.dir} could not be removed\n`);
  };
  bench.beforeStop(async () => {
    for (const reg of [...live]) await stopRegistry(reg);
  });

  process.stderr.write('bench: building the image\n');
  const image = await buildSizedArchive(join(dir, 'big.tar'), IMAGE);
  if (image.diffIds.length !== LAYERS) throw new Error(`built ${image.diffIds.length} layers, expected ${LAYERS}`);
  const label = `${Math.round(statSync(image.archive).size / 1e6)} MB, ${image.diffIds.length} layers`;

  engines.push(await startBerth(dir), await startDockerd(dir));
  const names = engines.map((e) => e.name);
  for (const e of engines) {
    await docker(e, ['load', '-i', image.archive]);
    const id = (await docker(e, ['image', 'inspect', '--format', '{{.Id}}', IMAGE.tag])).stdout.trim();
    if (id !== image.id) throw new Error(`${e.name} loaded ${IMAGE.tag} as ${id}, expected ${image.id}`);
  }
  await sleep(2000);
  const loadAvg = os.loadavg()[0].toFixed(2); // other work on the machine skews the times
  const rows: Row[] = [];
  const secs = (ms: number[]) => ms.map((x) => (x / 1000).toFixed(1) + ' s').join(', ');

  // 1. push: every run to a fresh registry (empty storage), so every layer is really uploaded — no
  //    "Layer already exists", no cross-repository mount. Each engine to its own repository name.
  await step(rows, engines, `docker push (${label}), fresh registry, mean of ${RUNS}`, 'ms', async (e) => {
    const ms: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const reg = await startRegistry();
      try {
        const ref = `${reg.host}/bench/${e.name}:${i + 1}`;
        await docker(e, ['tag', IMAGE.tag, ref]);
        spawnSync('sync'); // don't bill this push for earlier writeback
        const run = await docker(e, ['push', ref]);
        if (/already exists|Mounted from/i.test(run.stdout)) throw new Error(`push ${i + 1} did not upload every layer:\n${run.stdout}`);
        const bytes = await checkPushed(reg, `bench/${e.name}`, String(i + 1), image.id);
        process.stderr.write(`bench: push ${i + 1} on ${e.name}: ${(run.ms / 1000).toFixed(1)} s, ${(bytes / 1e6).toFixed(0)} MB of layers in the registry\n`);
        ms.push(run.ms);
        await docker(e, ['rmi', ref]); // the tag only: the image stays (IMAGE.tag)
      } finally {
        await stopRegistry(reg);
      }
    }
    process.stderr.write(`bench: docker push on ${e.name}: ${secs(ms)}\n`);
    return mean(ms);
  });

  // 2. pull: the image is put in one registry once, with skopeo (an independent client); before each
  //    pull the engine has no trace of it (removed by ID, every tag, its layers with it).
  const reg = await startRegistry();
  process.stderr.write(`bench: skopeo copy of the image to ${reg.host}/${PULL_REPO}:1\n`);
  await reg.pushArchive(image.archive, `${PULL_REPO}:1`);
  const pullRef = `${reg.host}/${PULL_REPO}:1`;
  await checkPushed(reg, PULL_REPO, '1', image.id);
  const pulled = new Map<Engine, string>();
  await step(rows, engines, `docker pull (${label}), mean of ${RUNS}`, 'ms', async (e) => {
    const ms: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      if ((await imageIds(e)).includes(image.id)) await docker(e, ['rmi', '-f', image.id]);
      const left = await imageIds(e);
      if (left.includes(image.id)) throw new Error(`docker images -a still lists ${image.id} after rmi -f`);
      spawnSync('sync'); // the removal's writeback is not the pull's
      const run = await docker(e, ['pull', pullRef]);
      if (/already exists/i.test(run.stdout)) throw new Error(`pull ${i + 1} found layers already there:\n${run.stdout}`);
      ms.push(run.ms);
    }
    process.stderr.write(`bench: docker pull on ${e.name}: ${secs(ms)}\n`);
    pulled.set(e, (await docker(e, ['image', 'inspect', '--format', '{{.Id}}', pullRef])).stdout.trim());
    return mean(ms);
  });

  const registryVersion = (await exec(REGISTRY_BINARY, ['--version']).catch(() => ({ stdout: '?' }))).stdout.trim();
  await printHeader(engines, dir, loadAvg);
  printTable(rows, names);
  console.log(`\nregistry: ${registryVersion}, on 127.0.0.1 (plain HTTP), storage on /var/tmp; times are means, in ms`);

  // Both engines must end with the same image, the one the archive holds (its config byte for byte).
  const ids = engines.map((e) => `${e.name}: ${pulled.get(e) ?? 'nothing pulled'}`).join(', ');
  if (engines.some((e) => pulled.get(e) !== pulled.get(engines[0])) || !pulled.get(engines[0])) {
    throw new Error(`the engines pulled different images (${ids})`);
  }
  console.log(
    `pulled image ID on both engines: ${pulled.get(engines[0])}${pulled.get(engines[0]) === image.id ? ' (the loaded one)' : ` — not the loaded ${image.id}`}`,
  );
});
