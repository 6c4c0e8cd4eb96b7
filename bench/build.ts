// berth vs dockerd: `docker build` with the classic builder (DOCKER_BUILDKIT=0, as the CLI without
// buildx builds) of the same 10-step Dockerfile against both engines, on this machine, in one run: a
// build without the cache, the cached rebuild of the unchanged context, and a rebuild after one copied
// file changed. RUN steps run with --network none on both engines: networking is not compared.
// Needs root, the docker CLI and Debian's docker.io (a private dockerd + containerd is started).
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { docker, printHeader, printTable, runBench, startWithBusybox, step, type Engine, type Row } from './harness.js';

const IMAGE = 'busybox:latest';
const COLD_RUNS = 3;
const CACHED_RUNS = 5;
const CHANGED_RUNS = 3;
const DOCKERFILE = [
  'FROM busybox',
  'ENV APP=/app',
  'WORKDIR /app',
  'COPY src/ ./src/',
  'RUN find src -type f | wc -l > count',
  'ARG VERSION=1',
  'RUN echo "$VERSION" > version && cat count',
  'COPY config.txt /etc/app.conf',
  'LABEL org.example.bench=build',
  'CMD ["cat", "/app/version"]',
].join('\n');

/** The CLI's classic builder, whatever the environment says. */
const classic = (e: Engine): Engine => ({ ...e, env: { ...e.env, DOCKER_BUILDKIT: '0' } });

/** One `docker build`; returns its time and how many steps it took from the cache. */
async function build(e: Engine, context: string, args: string[] = []): Promise<{ ms: number; cached: number }> {
  const res = await docker(classic(e), ['build', '--network', 'none', '-t', 'bench-build', ...args, context]);
  return { ms: res.ms, cached: res.stdout.split('\n').filter((l) => l === ' ---> Using cache').length };
}

await runBench(async (bench) => {
  const { dir, engines } = bench;
  bench.beforeStop(async () => {
    for (const e of engines) {
      const left = (await docker(e, ['ps', '-aq']).catch(() => ({ stdout: '' }))).stdout.trim().split('\n').filter(Boolean);
      if (left.length) {
        process.stderr.write(`bench: ${e.name} has ${left.length} container(s) after the builds\n`);
        await docker(e, ['rm', '-f', ...left]).catch(() => undefined);
      }
    }
  });
  await startWithBusybox(dir, engines, IMAGE);
  // Per engine its own context (the changed-file step edits it).
  const contexts = new Map<Engine, string>();
  for (const e of engines) {
    const context = join(dir, `context-${e.name}`);
    await mkdir(join(context, 'src', 'lib'), { recursive: true });
    for (let i = 0; i < 20; i++) await writeFile(join(context, 'src', i % 2 ? 'lib' : '', `file${i}.txt`), `content ${i}\n`.repeat(50));
    await writeFile(join(context, 'config.txt'), 'config 0\n');
    await writeFile(join(context, 'Dockerfile'), DOCKERFILE + '\n');
    contexts.set(e, context);
  }
  const loadAvg = os.loadavg()[0].toFixed(2);
  const rows: Row[] = [];

  await step(rows, engines, `docker build, 10 steps, --no-cache, median of ${COLD_RUNS}`, 'ms', async (e) => {
    const ms: number[] = [];
    for (let i = 0; i < COLD_RUNS; i++) {
      const r = await build(e, contexts.get(e)!, ['--no-cache']);
      if (r.cached !== 0) throw new Error(`--no-cache build used the cache for ${r.cached} steps`);
      ms.push(r.ms);
    }
    return ms;
  });

  await step(rows, engines, `cached rebuild of the unchanged context, median of ${CACHED_RUNS}`, 'ms', async (e) => {
    const ms: number[] = [];
    for (let i = 0; i < CACHED_RUNS; i++) {
      const r = await build(e, contexts.get(e)!);
      if (r.cached !== 9) throw new Error(`the rebuild took ${r.cached} of 9 steps from the cache`);
      ms.push(r.ms);
    }
    return ms;
  });

  await step(rows, engines, `rebuild after changing the file of step 8, median of ${CHANGED_RUNS}`, 'ms', async (e) => {
    const ms: number[] = [];
    for (let i = 0; i < CHANGED_RUNS; i++) {
      await writeFile(join(contexts.get(e)!, 'config.txt'), `config ${i + 1}\n`);
      const r = await build(e, contexts.get(e)!);
      if (r.cached !== 6) throw new Error(`the rebuild took ${r.cached} of 6 unchanged steps from the cache`);
      ms.push(r.ms);
    }
    return ms;
  });

  await printHeader(engines, dir, loadAvg);
  printTable(
    rows,
    engines.map((e) => e.name),
  );
});
