// The classic builder (`docker build` without BuildKit), independent of the endpoint that calls it: a
// context and options in, Docker's build output (text on stdout/stderr, pull progress, each stage's
// image) through a callback, the image ID out. Every step runs as the classic builder runs it: RUN,
// WORKDIR and config-only steps in an intermediate container made through the container service (RUN's
// really runs, with the build's network and resources), COPY and ADD into an overlay of the parent
// image; each step is committed as an image whose parent is the last one, and probed in the cache
// first. Everything the build made besides images — containers, mounts, the context — is gone when it
// returns, whether it succeeded, failed or was cancelled.
import { chmod, mkdir, mkdtemp, readFile, rm, utimes } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { EngineError, invalid } from '../errors.js';
import type { ContainerService } from '../containers/service.js';
import type { ContainerSpec, ProcessSpec, ResourcesSpec } from '../containers/spec.js';
import type { ContainerConfig, ImageConfig } from '../images/config.js';
import type { ImageService } from '../images/service.js';
import { parseConfig, type ImageRecord } from '../images/store.js';
import { familiarString, parseReference, parseTaggedReference, referenceString } from '../images/reference.js';
import { pullImage, type Progress } from '../images/pull.js';
import type { Credentials } from '../registry/auth.js';
import type { RegistryOptions } from '../registry/endpoints.js';
import { parsePlatform, type Platform } from '../registry/manifest.js';
import { readLogBatches } from '../containers/logs.js';
import { isErrno, mkdirInRoot } from '../util/in-root.js';
import { parseSignal } from '../containers/signals.js';
import { resolveUser } from '../oci/user.js';
import { DEFAULT_PATH } from '../oci/defaults.js';
import { isMounted, mountOverlay, unmount } from '../storage/rootfs.js';
import { hex } from '../util/digest.js';
import { DockerfileError } from './dockerfile.js';
import { parsePlan, parseTrigger, type ArgInstruction, type BuildPlan, type Instruction, type Stage } from './instructions.js';
import { envMap, LexError, processWord, processWords } from './lexer.js';
import { receiveContext, download, type BuildContext } from './context.js';
import { copyInfos, performCopy, sourcesHash, type CopyInfo, type Identity, type SourceRoot } from './copy.js';
import { commitStep, copyConfig, pruneRuntimeFiles } from './image.js';
import { LocalCache, Prober, SourceCache } from './cache.js';
import { BuildArgs } from './buildargs.js';
import { BuildCacheStore } from './records.js';
import type { BuildCacheRecord } from '../system/df.js';
import type { DB } from '../state/db.js';
import { goDuration, goList, goQuote, goQuoteList, goQuoteRune } from './gofmt.js';
import { freeingSpace } from '../state/reserve.js';
import { isUp } from '../containers/state.js';
import { isShortName, pullCandidates } from '../registry/short-names.js';
import { lookupLocalIfAny } from '../images/short-names.js';
import { squashImage } from './squash.js';

/** What a build does with containers: a RUN step's intermediate container, from create to removal, and its rootfs. */
export type BuildContainers = Pick<
  ContainerService,
  'store' | 'paths' | 'events' | 'create' | 'start' | 'kill' | 'wait' | 'remove' | 'holdRootfs' | 'releaseRootfs' | 'lowerDirs'
>;

export interface BuildRequest {
  /** The context as a tar (plain, gzip, bzip2, xz, zstd); or `remote`. */
  body?: NodeJS.ReadableStream;
  /** A URL to a tarball (or a Dockerfile) to build from. */
  remote?: string;
  dockerfile?: string;
  tags?: string[];
  buildArgs?: Record<string, string | null>;
  labels?: Record<string, string>;
  target?: string;
  noCache?: boolean;
  pull?: boolean;
  /** Remove intermediate containers after a successful step (default true). */
  remove?: boolean;
  /** Remove them after a failed one too. berth does that anyway unless `remove` is false. */
  forceRemove?: boolean;
  networkMode?: string;
  platform?: string;
  cacheFrom?: string[];
  /** Resources, rlimits and extra /etc/hosts lines of RUN containers. */
  run?: { resources: ResourcesSpec; rlimits?: ProcessSpec['rlimits']; hosts?: string[] };
  /** Registry credentials by registry (`docker.io`, `localhost:5000`), for pulls of base images. */
  credentials?: (domain: string) => Credentials;
  squash?: boolean;
  signal?: AbortSignal;
  /** Plain HTTP and unverified TLS allowed for base images (podman's --tls-verify=false). */
  insecure?: boolean;
  /** How FROM finds its image: dockerd's way (docker.io), or podman's short names (runtime/registry/short-names.ts). */
  names?: 'docker' | 'podman';
}

/** What a build reports as it goes; each API words it (dockerd's `Step 1/3 : …`, podman's `STEP 1/3: …`). */
export type BuildEvent =
  | { kind: 'stdout' | 'stderr'; text: string }
  | { kind: 'progress'; progress: Progress }
  /** A stage's image (the last one is the build's). */
  | { kind: 'image'; id: string }
  /**
   * A step begins: `index` of `total` over the whole build (meta ARGs included, as dockerd counts), and
   * `stageIndex` of `stageTotal` in stage `stage` of `stages` (0 for a meta ARG), as podman counts.
   */
  | { kind: 'step'; text: string; index: number; total: number; stage: number; stages: number; stageIndex: number; stageTotal: number }
  /** A step is done: the image the build is at (after FROM, the base; '' for scratch). */
  | { kind: 'stepped'; id: string; from: boolean }
  /** The step's image came from the cache. */
  | { kind: 'cached'; id: string }
  /** A step's container (RUN), made, then removed. */
  | { kind: 'container'; id: string }
  | { kind: 'removed'; id: string }
  /** The build's image, and its layers' diff IDs (bottom first). */
  | { kind: 'built'; id: string; layers: string[] }
  /** A base image pulled: its reference before, its ID and layer digests (the registry's) after. */
  | { kind: 'pull'; reference: string }
  | { kind: 'pulled'; id: string; layers: string[] }
  /** A tag the image got: as stored (`docker.io/library/x:1`) and as Docker shows it (`x:1`). */
  | { kind: 'tagged'; reference: string; familiar: string };

/** A build failure: the message dockerd gives, and a RUN's exit code. */
export class BuildError extends EngineError {
  constructor(
    message: string,
    readonly code?: number,
  ) {
    super('internal', message);
  }
}

export interface BuilderOptions {
  registry: RegistryOptions;
  /** The host's platform, for pulls without one. */
  platform: Platform;
}

const DEFAULT_SHELL = ['/bin/sh', '-c'];
/** Marks a build's intermediate containers (not the images made of them): one a crash left is removed at the next start. */
export const INTERMEDIATE_LABEL = 'io.berth.build.intermediate';

export class Builder {
  private readonly records: BuildCacheStore;

  /**
   * Before the staging dir is emptied at start: a build cut off by a crash leaves its overlays (COPY
   * steps, --from images) mounted under it, and removing a mounted directory fails.
   */
  static async releaseMounts(staging: string): Promise<void> {
    const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((m): m is string => !!m && m.startsWith(staging + '/'));
    for (const m of mounts.sort((a, b) => b.length - a.length))
      await unmount(m.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  }

  constructor(
    private readonly images: ImageService,
    private readonly containers: BuildContainers,
    db: DB,
    private readonly options: BuilderOptions,
  ) {
    this.records = new BuildCacheStore(db);
  }

  /** At start: intermediate containers of builds that a crash of the engine cut off. */
  async removeLeftovers(): Promise<void> {
    for (const c of this.containers.store.all()) {
      if (INTERMEDIATE_LABEL in c.spec.labels) await this.containers.remove(c.id, true, true).catch(() => undefined);
    }
  }

  /**
   * docker builder prune: the images build steps made that nothing needs by name or runs on (untagged,
   * no container), older than `until` when given; their layers go when no image is left on them.
   */
  prune(o: { until?: number } = {}): Promise<{ deleted: string[]; reclaimed: number }> {
    return freeingSpace(() => this.pruneNow(o));
  }

  private pruneNow(o: { until?: number }): Promise<{ deleted: string[]; reclaimed: number }> {
    return this.images.lock.run(async () => {
      const deleted: string[] = [];
      for (const row of this.records.all()) {
        if (o.until !== undefined && row.created_at >= o.until) continue;
        if (this.images.store.tagsOf(row.image_id).length > 0 || this.images.store.containersUsing(row.image_id).length > 0) continue;
        this.images.store.remove(row.image_id);
        deleted.push(row.image_id);
      }
      const removed = await this.images.layers.gc();
      return { deleted, reclaimed: removed.reduce((n, l) => n + l.size, 0) };
    });
  }

  /** The build cache as `docker system df` shows it: one record per step image, its own layer's size. */
  async cacheRecords(): Promise<BuildCacheRecord[]> {
    const out: BuildCacheRecord[] = [];
    for (const row of this.records.all()) {
      const image = this.images.store.get(row.image_id);
      if (!image) continue;
      const config = parseConfig(image);
      const last = config.history?.at(-1);
      const top = image.top_layer ? this.images.layers.get(image.top_layer) : undefined;
      const parent = image.parent ? this.images.store.get(image.parent) : undefined;
      const own = last && !last.empty_layer && top && top.chain_id !== parent?.top_layer ? top.size : 0;
      out.push({
        ID: hex(image.id).slice(0, 25),
        Parents: image.parent ? [hex(image.parent).slice(0, 25)] : null,
        Type: 'regular',
        Description: last?.created_by ?? '',
        InUse: this.images.store.containersUsing(image.id).length > 0,
        Shared: this.images.store.tagsOf(image.id).length > 0,
        Size: own,
        CreatedAt: new Date(row.created_at).toISOString(),
        LastUsedAt: new Date(row.last_used).toISOString(),
        UsageCount: row.usage_count,
      });
    }
    return out;
  }

  /** Validates, receives the context, parses the Dockerfile (errors so far come before any output), builds, tags. */
  async build(req: BuildRequest, emit: (e: BuildEvent) => void): Promise<{ id: string; tags: string[] }> {
    const tags = (req.tags ?? []).map((t) => {
      const ref = parseTaggedReference(t);
      if (ref.digest) throw invalid(`refusing to create a tag with a digest reference`);
      return ref;
    });
    const platform = req.platform ? parsePlatform(req.platform) : undefined;
    if (platform && platform.os !== 'linux') throw invalid(`"${req.platform}": operating system is not supported`);
    const work = await mkdtemp(join(this.images.tmpDir, 'build-'));
    const run = new BuildRun(this.images, this.containers, this.records, this.options, req, work, emit, platform);
    try {
      const context = await receiveContext(
        { body: req.body as never, remote: req.remote, dockerfile: req.dockerfile, signal: req.signal, maxSize: this.images.layers.maxLayerSize },
        work,
      );
      let plan: BuildPlan;
      try {
        plan = parsePlan(context.dockerfile);
      } catch (err) {
        if (err instanceof DockerfileError) throw invalid(err.message);
        throw err;
      }
      if (req.target) {
        const index = plan.stages.findIndex((s) => s.name === req.target!.toLowerCase());
        if (index === -1) throw invalid(`failed to reach build target ${req.target} in Dockerfile`);
        plan.stages = plan.stages.slice(0, index + 1);
      }
      addLabels(plan, req.labels ?? {}, req.names);
      for (const w of plan.warnings) emit({ kind: 'stderr', text: `${w}\n` });
      let id = await run.execute(plan, context);
      if (req.squash) id = (await squashImage(this.images, this.images.store.get(id)!, run.lastBase, work)).id;
      emit({ kind: 'built', id, layers: parseConfig(this.images.store.get(id)!).rootfs?.diff_ids ?? [] });
      const shown: string[] = [];
      for (const ref of tags) {
        this.images.tag(id, `${ref.domain}/${ref.path}`, ref.tag);
        const name = familiarString(parseReference(referenceString(ref)));
        shown.push(name);
        emit({ kind: 'tagged', reference: referenceString(ref), familiar: name });
      }
      return { id, tags: shown };
    } finally {
      await run.cleanup();
      await rm(work, { recursive: true, force: true });
    }
  }
}

/**
 * `--label`s become LABEL instructions at the end of the last stage, one per label: sorted as dockerd
 * writes them (`LABEL a=1`), or in the order given as buildah does (`LABEL "a"="1"`).
 */
function addLabels(plan: BuildPlan, labels: Record<string, string>, names: BuildRequest['names']): void {
  const last = plan.stages[plan.stages.length - 1];
  if (!last) return;
  const keys = names === 'podman' ? Object.keys(labels) : Object.keys(labels).sort();
  for (const key of keys) {
    const text = names === 'podman' ? `LABEL ${JSON.stringify(key)}=${JSON.stringify(labels[key])}` : `LABEL ${key}=${labels[key]}`;
    last.commands.push({
      kind: 'label',
      pairs: [[key, labels[key]!]],
      noExpand: true,
      node: { cmd: 'label', original: text, flags: [], args: [], json: false, startLine: 0, endLine: 0 },
    });
  }
}

/** What a stage left: its image and config, for FROM <stage> and COPY --from. */
interface StageResult {
  name: string;
  imageId: string;
  config: ContainerConfig;
}

/** The state of the stage being built. */
interface State {
  imageId: string;
  image?: ImageRecord;
  imageConfig: ImageConfig;
  runConfig: ContainerConfig;
  maintainer: string;
  cmdSet: boolean;
  args: BuildArgs;
}

class BuildRun {
  private readonly args: BuildArgs;
  private readonly prober: Prober;
  private readonly stages: StageResult[] = [];
  /** Intermediate containers of the current step, removed after it. */
  private stepContainers: string[] = [];
  /** The base image of the last stage started (what --squash keeps below the squashed layer). */
  lastBase: ImageRecord | undefined;
  /** Every container the build made and has not removed yet. */
  private readonly liveContainers = new Set<string>();
  private readonly mounts: string[] = [];
  private readonly imageMounts = new Map<string, Promise<string>>();
  private escape = '\\';
  private context!: BuildContext;
  private contextSource!: SourceRoot;
  private state!: State;
  private mountCounter = 0;

  constructor(
    private readonly images: ImageService,
    private readonly containers: BuildContainers,
    private readonly records: BuildCacheStore,
    private readonly options: BuilderOptions,
    private readonly req: BuildRequest,
    private readonly work: string,
    private readonly emit: (e: BuildEvent) => void,
    private readonly platform: Platform | undefined,
  ) {
    this.args = new BuildArgs(new Map(Object.entries(req.buildArgs ?? {})));
    const sources = (req.cacheFrom ?? [])
      .map((ref) => {
        try {
          return images.store.resolve(ref);
        } catch {
          return undefined; // as dockerd: an image that is not here is skipped
        }
      })
      .filter((i): i is ImageRecord => !!i);
    this.prober = new Prober(req.noCache ? undefined : req.cacheFrom?.length ? new SourceCache(images, sources) : new LocalCache(images));
  }

  private out = (text: string) => this.emit({ kind: 'stdout', text });

  private checkCancelled(): void {
    if (this.req.signal?.aborted) throw new BuildError('Build cancelled');
  }

  async execute(plan: BuildPlan, context: BuildContext): Promise<string> {
    this.escape = plan.escape;
    this.context = context;
    this.contextSource = { root: context.root, sums: context.sums, cache: new Map() };
    const total = plan.metaArgs.length + plan.stages.reduce((n, s) => n + 1 + s.commands.length, 0);
    const stages = plan.stages.length;
    let index = 1;
    const step = (text: string, stage: number, stageIndex: number, stageTotal: number) =>
      this.emit({ kind: 'step', text, index: index++, total, stage, stages, stageIndex, stageTotal });
    for (const [i, meta] of plan.metaArgs.entries()) {
      step(meta.node.original, 0, i + 1, plan.metaArgs.length);
      this.processMetaArg(meta);
    }
    let last: State | undefined;
    for (const [n, stage] of plan.stages.entries()) {
      if (stage.name && this.stages.some((s) => s.name === stage.name)) throw invalid(`duplicate name ${stage.name}`);
      const stageTotal = 1 + stage.commands.length;
      step(stage.source, n + 1, 1, stageTotal);
      await this.initializeStage(stage);
      this.lastBase = this.state.image;
      this.emit({ kind: 'stepped', id: this.state.imageId, from: true });
      for (const [i, instruction] of stage.commands.entries()) {
        this.checkCancelled();
        step(instruction.node.original, n + 1, i + 2, stageTotal);
        await this.dispatch(instruction);
        this.emit({ kind: 'stepped', id: this.state.imageId, from: false });
      }
      if (this.state.imageId) this.emit({ kind: 'image', id: this.state.imageId });
      this.args.mergeReferenced(this.state.args);
      this.stages.push({ name: stage.name, imageId: this.state.imageId, config: this.state.runConfig });
      last = this.state;
    }
    const unused = this.args.unused();
    if (unused.length) this.out(`[Warning] One or more build-args ${goList(unused)} were not consumed\n`);
    if (!last?.imageId) throw new BuildError('No image was generated. Is your Dockerfile empty?');
    return last.imageId;
  }

  private processMetaArg(meta: ArgInstruction): void {
    const env = envMap([...this.args.allAllowed()].map(([k, v]) => `${k}=${v}`));
    for (const arg of meta.args) {
      const value = arg.value === undefined ? undefined : this.word(arg.value, env);
      this.args.add(arg.key, value);
      this.args.addMeta(arg.key, value);
    }
  }

  private word(text: string, env: Map<string, string>): string {
    try {
      return processWord(text, env, this.escape);
    } catch (err) {
      if (err instanceof LexError) throw invalid(err.message);
      throw err;
    }
  }

  /** The variables a step's words see: ENV, then the allowed build args ENV does not set. */
  private env(): Map<string, string> {
    const env = this.state.runConfig.Env ?? [];
    return envMap([...env, ...this.state.args.filterAllowed(env)]);
  }

  // ---- stages ------------------------------------------------------------------------------------

  private async initializeStage(stage: Stage): Promise<void> {
    this.prober.reset();
    const metaEnv = envMap([...this.args.allMeta()].map(([k, v]) => `${k}=${v}`));
    const base = this.word(stage.base, metaEnv);
    const platform = stage.platform ? parsePlatform(this.word(stage.platform, metaEnv)) : this.platform;
    const { image, config } = await this.baseImage(base, platform);
    const runConfig = copyConfig(config.config ?? {});
    if (!(runConfig.Env ?? []).some((e) => e.startsWith('PATH='))) runConfig.Env = [...(runConfig.Env ?? []), `PATH=${DEFAULT_PATH}`];
    runConfig.OpenStdin = false;
    runConfig.StdinOnce = false;
    this.state = { imageId: image?.id ?? '', image, imageConfig: config, runConfig, maintainer: '', cmdSet: false, args: this.args.forStage() };
    this.state.runConfig.Image = this.state.imageId;
    const triggers = runConfig.OnBuild ?? [];
    if (triggers.length > 0) {
      runConfig.OnBuild = null;
      this.out(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`);
      for (const trigger of triggers) {
        let instruction: Instruction;
        try {
          instruction = parseTrigger(trigger, this.escape);
        } catch (err) {
          throw invalid((err as Error).message);
        }
        await this.dispatch(instruction);
      }
    }
  }

  /** A FROM's image: a stage built before, scratch, a local image, or one pulled (always with --pull). */
  private async baseImage(name: string, platform: Platform | undefined): Promise<{ image?: ImageRecord; config: ImageConfig }> {
    const stage = this.stages.find((s) => s.name !== '' && s.name === name.toLowerCase());
    if (stage) {
      const image = stage.imageId ? this.images.store.get(stage.imageId) : undefined;
      return { image, config: image ? parseConfig(image) : scratchConfig(platform ?? this.options.platform) };
    }
    if (name === 'scratch') return { config: scratchConfig(platform ?? this.options.platform) };
    const image = await this.localOrPulled(name, platform, !!this.req.pull);
    return { image, config: parseConfig(image) };
  }

  private async localOrPulled(name: string, platform: Platform | undefined, forcePull: boolean): Promise<ImageRecord> {
    if (this.req.names === 'podman' && isShortName(name)) return this.podmanBase(name, platform, forcePull);
    if (!forcePull) {
      try {
        return this.images.store.resolve(name);
      } catch (err) {
        if (!(err instanceof EngineError) || err.kind !== 'not-found') throw err;
      }
    }
    let ref;
    try {
      ref = parseTaggedReference(name);
    } catch {
      throw invalid(`invalid reference format: ${name}`);
    }
    if (ref.digest === undefined && /^[a-f0-9]{64}$/.test(name)) return this.images.store.resolve(name);
    this.emit({ kind: 'pull', reference: referenceString(ref) });
    const { id, layers } = await pullImage(
      this.images,
      name,
      {
        platform: platform ?? this.options.platform,
        credentials: this.req.credentials?.(ref.domain) ?? {},
        registry: this.options.registry,
        insecure: this.req.insecure,
      },
      (progress) => this.emit({ kind: 'progress', progress }),
    );
    this.emit({ kind: 'pulled', id, layers });
    return this.images.store.get(id)!;
  }

  /** A short name as podman finds it: a local image by its rules, else pulled from its alias or search registries. */
  private async podmanBase(name: string, platform: Platform | undefined, forcePull: boolean): Promise<ImageRecord> {
    const conf = this.options.registry.conf;
    const local = lookupLocalIfAny(this.images.store, name, { searchRegistries: conf.unqualifiedSearchRegistries });
    if (local && !forcePull) return local.image;
    const names = local?.tag ? [local.tag] : pullCandidates(conf, name).names;
    let failure: unknown;
    for (const candidate of names) {
      try {
        return await this.localOrPulled(candidate, platform, true);
      } catch (err) {
        failure = err;
      }
    }
    throw failure;
  }

  // ---- steps -------------------------------------------------------------------------------------

  private async dispatch(instruction: Instruction): Promise<void> {
    let failed = true;
    try {
      await this.dispatchInstruction(instruction);
      failed = false;
    } finally {
      await this.removeStepContainers(failed);
    }
    this.state.runConfig.Image = this.state.imageId;
  }

  /**
   * After a step: its containers go ("Removing intermediate container") with --rm (the default) or
   * --force-rm. A failed step's container stays unless --force-rm, as dockerd leaves it (compose and users
   * look at it); a cancelled build's still goes (cleanup).
   */
  private async removeStepContainers(failed: boolean): Promise<void> {
    const remove = this.req.remove !== false;
    const ids = this.stepContainers;
    this.stepContainers = [];
    if (failed && !this.req.forceRemove && !this.req.signal?.aborted) {
      for (const id of ids) this.liveContainers.delete(id); // kept: cleanup must not take it either
      return;
    }
    if (!remove && !this.req.forceRemove) return;
    for (const id of ids) {
      await this.removeContainer(id);
      if (!failed || this.req.forceRemove) this.emit({ kind: 'removed', id });
    }
  }

  private async removeContainer(id: string): Promise<void> {
    await this.containers.remove(id, true, true).catch((err: Error) => {
      if (!(err instanceof EngineError && err.kind === 'not-found')) throw err;
    });
    this.liveContainers.delete(id);
  }

  private async dispatchInstruction(c: Instruction): Promise<void> {
    const s = this.state;
    const rc = s.runConfig;
    const env = () => this.env();
    switch (c.kind) {
      case 'env': {
        const e = env();
        let message = 'ENV';
        for (const [k, v] of c.pairs) {
          const name = this.word(k, e);
          const value = this.word(v, e);
          message += ` ${name}=${value}`;
          const list = rc.Env ?? [];
          const at = list.findIndex((x) => x.split('=')[0] === name);
          if (at >= 0) list[at] = `${name}=${value}`;
          else list.push(`${name}=${value}`);
          rc.Env = list;
        }
        return this.commitConfig(message);
      }
      case 'label': {
        const e = env();
        let message = 'LABEL';
        rc.Labels ??= {};
        for (const [k, v] of c.pairs) {
          const name = c.noExpand ? k : this.word(k, e);
          const value = c.noExpand ? v : this.word(v, e);
          rc.Labels[name] = value;
          message += ` ${name}=${value}`;
        }
        return this.commitConfig(message);
      }
      case 'maintainer':
        s.maintainer = c.value;
        return this.commitConfig(`MAINTAINER ${c.value}`);
      case 'arg': {
        const e = env();
        const parts: string[] = [];
        for (const arg of c.args) {
          const value = arg.value === undefined ? undefined : this.word(arg.value, e);
          s.args.add(arg.key, value);
          parts.push(value === undefined ? arg.key : `${arg.key}=${value}`);
        }
        return this.commitConfig(`ARG ${parts.join(' ')}`);
      }
      case 'expose': {
        const e = env();
        const ports = c.ports.flatMap((p) => {
          try {
            return processWords(p, e, this.escape);
          } catch (err) {
            throw invalid((err as Error).message);
          }
        });
        rc.ExposedPorts ??= {};
        for (const spec of ports) for (const port of parsePortSpec(spec)) rc.ExposedPorts[port] = {};
        return this.commitConfig(`EXPOSE ${[...ports].sort().join(' ')}`);
      }
      case 'user':
        rc.User = this.word(c.value, env());
        return this.commitConfig(`USER ${rc.User}`);
      case 'volume': {
        const e = env();
        const volumes = c.volumes.map((v) => this.word(v, e));
        rc.Volumes ??= {};
        for (const v of volumes) {
          if (v.trim() === '') throw invalid('VOLUME specified can not be an empty string');
          rc.Volumes[v] = {};
        }
        return this.commitConfig(`VOLUME ${goList(volumes)}`);
      }
      case 'stopsignal': {
        const signal = this.word(c.value, env());
        parseSignal(signal);
        rc.StopSignal = signal;
        return this.commitConfig(`STOPSIGNAL ${signal}`);
      }
      case 'healthcheck': {
        const old = rc.Healthcheck as { Test?: string[] } | undefined;
        if (old?.Test?.length && old.Test[0] !== 'NONE') this.out(`Note: overriding previous HEALTHCHECK: ${goList(old.Test)}\n`);
        const h = c.health;
        const json: Record<string, unknown> = { Test: h.Test };
        if (h.Interval) json.Interval = h.Interval;
        if (h.Timeout) json.Timeout = h.Timeout;
        if (h.StartPeriod) json.StartPeriod = h.StartPeriod;
        if (h.Retries) json.Retries = h.Retries;
        rc.Healthcheck = json;
        const text = `&{${goQuoteList(h.Test)} ${goQuote(goDuration(h.Interval ?? 0))} ${goQuote(goDuration(h.Timeout ?? 0))} ${goQuote(goDuration(h.StartPeriod ?? 0))} ${goQuoteRune(h.Retries ?? 0)}}`;
        return this.commitConfig(`HEALTHCHECK ${text}`);
      }
      case 'onbuild':
        rc.OnBuild = [...(rc.OnBuild ?? []), c.expression];
        return this.commitConfig(`ONBUILD ${c.expression}`);
      case 'shell':
        rc.Shell = c.shell;
        return this.commitConfig(`SHELL ${goList(c.shell)}`);
      case 'cmd': {
        const cmd = this.commandLine(c.cmd, c.prependShell);
        rc.Cmd = cmd;
        await this.commitConfig(`CMD ${goQuoteList(cmd)}`);
        if (c.cmd.length > 0) s.cmdSet = true;
        return;
      }
      case 'entrypoint': {
        rc.Entrypoint = this.commandLine(c.cmd, c.prependShell);
        if (!s.cmdSet) rc.Cmd = null;
        return this.commitConfig(`ENTRYPOINT ${goQuoteList(rc.Entrypoint)}`);
      }
      case 'workdir':
        return this.workdir(this.word(c.value, env()));
      case 'run':
        return this.runStep(c.cmd, c.prependShell);
      case 'copy':
      case 'add':
        return this.copyStep(c);
    }
  }

  private shell = () => (this.state.runConfig.Shell?.length ? this.state.runConfig.Shell : DEFAULT_SHELL);

  private commandLine(cmd: string[], prependShell: boolean): string[] {
    if (cmd.length === 0) return [];
    return prependShell ? [...this.shell(), ...cmd] : [...cmd];
  }

  /** A cache hit moves the build to that image (" ---> Using cache"). */
  private async probe(config: ContainerConfig): Promise<boolean> {
    const hit = await this.prober.probe(this.state.imageId, config);
    if (!hit) return false;
    this.emit({ kind: 'cached', id: hit });
    this.records.used(hit);
    await this.moveTo(hit);
    return true;
  }

  private async moveTo(id: string): Promise<void> {
    const image = this.images.store.get(id)!;
    this.state.imageId = id;
    this.state.image = image;
    this.state.imageConfig = parseConfig(image);
  }

  /** A config-only step: `#(nop) <comment>` in the cache key and history, an intermediate container, no layer. */
  private async commitConfig(comment: string): Promise<void> {
    const probe = copyConfig(this.state.runConfig);
    probe.Cmd = [...this.shell(), '#(nop) ', comment];
    if (await this.probe(probe)) return;
    // FROM scratch with nothing in it yet: no image to make a container of; the step is committed directly.
    const id = this.state.imageId ? await this.createContainer(probe) : undefined;
    if (id) probe.Hostname = id.slice(0, 12);
    await this.commit(probe, { container: id });
  }

  private async workdir(path: string): Promise<void> {
    const rc = this.state.runConfig;
    rc.WorkingDir = path.startsWith('/') ? path : posix.join('/', rc.WorkingDir ?? '', path);
    const probe = copyConfig(rc);
    probe.Cmd = [...this.shell(), `#(nop) WORKDIR ${rc.WorkingDir}`];
    if (await this.probe(probe)) return;
    if (!this.state.imageId) {
      // scratch: the directory in a layer of its own, made in an overlay as COPY does.
      return this.inOverlay(probe, async (rootfs) => makeDirs(rootfs, rc.WorkingDir!));
    }
    const id = await this.createContainer(probe);
    probe.Hostname = id.slice(0, 12);
    const c = this.containers.store.get(id)!;
    const wasMounted = await this.containers.holdRootfs(c);
    try {
      makeDirs(this.containers.paths.merged(id), rc.WorkingDir!);
    } finally {
      await this.containers.releaseRootfs(c, wasMounted);
    }
    await this.commit(probe, { container: id, upper: this.containers.paths.upper(id) });
  }

  private async runStep(args: string[], prependShell: boolean): Promise<void> {
    if (!this.state.imageId) throw new BuildError('Please provide a source image with `from` prior to run');
    const s = this.state;
    const cmd = this.commandLine(args, prependShell);
    const buildArgs = s.args.filterAllowed(s.runConfig.Env ?? []);
    let saveCmd = cmd;
    if (buildArgs.length > 0) {
      const keyed = buildArgs.filter((kv) => s.args.inCacheKey(kv.split('=')[0]!)).sort();
      saveCmd = [`|${keyed.length}`, ...keyed, ...cmd];
    }
    const probe = copyConfig(s.runConfig);
    probe.Cmd = saveCmd;
    if (saveCmd.length > 0) probe.Entrypoint = null;
    if (await this.probe(probe)) return;
    const runConfig = copyConfig(s.runConfig);
    runConfig.Cmd = cmd;
    runConfig.Env = [...(s.runConfig.Env ?? []), ...buildArgs];
    runConfig.Entrypoint = [''];
    runConfig.Healthcheck = { Test: ['NONE'] }; // as dockerd's withoutHealthcheck: not the image's, inherited at create
    const id = await this.createContainer(runConfig);
    const code = await this.runContainer(id);
    if (code !== 0) throw new BuildError(`The command '${cmd.join(' ')}' returned a non-zero code: ${code}`, code);
    const c = this.containers.store.get(id)!;
    await pruneRuntimeFiles(this.containers.paths.upper(id), await this.containers.lowerDirs(c));
    await this.commit(probe, { container: id, upper: this.containers.paths.upper(id) });
  }

  private async copyStep(c: Extract<Instruction, { kind: 'copy' | 'add' }>): Promise<void> {
    const e = this.env();
    const name = c.kind.toUpperCase();
    const sources = c.sources.map((x) => this.word(x, e));
    const dest = this.word(c.dest, e);
    const chown = c.chown === undefined ? undefined : this.word(c.chown, e);
    let source = this.contextSource;
    if (c.from !== undefined) source = await this.fromSource(this.word(c.from, e));
    const infos: CopyInfo[] = [];
    const downloads: { url: string; info: CopyInfo }[] = [];
    try {
      for (const src of sources) {
        if (c.kind === 'add' && /^https?:\/\//.test(src)) {
          const info = await this.downloadSource(src, dest);
          downloads.push({ url: src, info });
          infos.push(info);
          continue;
        }
        infos.push(...(await copyInfos(source, src, { wildcards: true, decompress: c.kind === 'add' })));
      }
    } catch (err) {
      throw prefixed(`${name} failed`, err);
    }
    if (infos.length > 1 && !dest.endsWith('/'))
      throw invalid(`When using ${name} with more than one source file, the destination must be a directory and end with a /`);
    const flags = `${chown !== undefined ? `--chown=${chown}` : ''}${c.chmod !== undefined ? `--chmod=${c.chmod}` : ''}`;
    const probe = copyConfig(this.state.runConfig);
    probe.Cmd = [...this.shell(), `#(nop) ${name} ${flags}${sourcesHash(infos)} in ${dest} `];
    if (await this.probe(probe)) return;
    const workingDir = this.state.runConfig.WorkingDir ?? '';
    const target = dest.startsWith('/') ? dest : posix.join('/', workingDir, dest) + (dest.endsWith('/') ? '/' : '');
    await this.inOverlay(probe, async (rootfs) => {
      let owner: Identity = { uid: 0, gid: 0 };
      if (chown !== undefined) owner = await chownIdentity(rootfs, chown);
      for (const info of infos) {
        try {
          await performCopy(rootfs, info, target, { owner, mode: c.chmod === undefined ? undefined : parseInt(c.chmod, 8) });
        } catch (err) {
          throw prefixed(`${name} failed`, err);
        }
      }
    });
  }

  /** ADD <url>: downloaded into the build's work dir (0600, the Last-Modified time), then copied like a file. */
  private async downloadSource(url: string, dest: string): Promise<CopyInfo> {
    let filename = posix.basename(new URL(url).pathname);
    if (filename === '' || filename === '/' || filename === '.') {
      if (dest.endsWith('/')) throw invalid(`cannot determine filename for source ${url}`);
      filename = '__unnamed__';
    }
    const dir = await mkdtemp(join(this.work, 'download-'));
    const file = join(dir, filename);
    this.emit({ kind: 'progress', progress: { status: 'Downloading', id: '' } });
    const headers = await download(url, file, this.images.layers.maxLayerSize, this.req.signal);
    await chmod(file, 0o600);
    const modified = Date.parse(String(headers['last-modified'] ?? ''));
    const time = Number.isFinite(modified) ? new Date(modified) : new Date(0);
    await utimes(file, time, time);
    this.out('\n');
    const infos = await copyInfos({ root: dir, cache: new Map() }, filename, { wildcards: false, decompress: false });
    // A remote file's checksum is its bare sum (dockerd's remote source has no `file:` prefix).
    return { ...infos[0]!, hash: infos[0]!.hash.replace(/^file:/, '') };
  }

  /** COPY --from: a stage (by name or index) or an image, mounted read-only for the copy. */
  private async fromSource(from: string): Promise<SourceRoot> {
    let imageId: string | undefined;
    const named = this.stages.find((s) => s.name !== '' && s.name === from.toLowerCase());
    if (named) imageId = named.imageId;
    else if (/^\d+$/.test(from)) {
      const index = Number(from);
      if (index >= this.stages.length) throw invalid(`invalid from flag value ${from}: invalid stage index ${index}`);
      imageId = this.stages[index]!.imageId;
    } else {
      imageId = (await this.localOrPulled(from, this.platform, false)).id;
    }
    const root = imageId ? await this.mountImage(imageId) : await this.emptyDir();
    return { root, cache: new Map() };
  }

  private async emptyDir(): Promise<string> {
    const dir = join(this.work, 'empty');
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /** An image's rootfs, mounted once per build (an overlay with a throwaway upper dir). */
  private mountImage(id: string): Promise<string> {
    let mounted = this.imageMounts.get(id);
    if (!mounted) {
      mounted = (async () => {
        const image = this.images.store.get(id)!;
        const lower = this.images.layers.diffDirs(image.top_layer);
        const dir = join(this.work, `image-${++this.mountCounter}`);
        const merged = join(dir, 'merged');
        this.mounts.push(merged);
        await mountOverlay(lower.length ? lower : [await this.emptyDir()], join(dir, 'upper'), join(dir, 'work'), merged);
        return merged;
      })();
      this.imageMounts.set(id, mounted);
    }
    return mounted;
  }

  /** Runs `change` in an overlay of the current image, then commits the overlay's upper dir as the step. */
  private async inOverlay(probe: ContainerConfig, change: (rootfs: string) => Promise<void>): Promise<void> {
    const image = this.state.image;
    const lower = image ? this.images.layers.diffDirs(image.top_layer) : [];
    const dir = join(this.work, `step-${++this.mountCounter}`);
    const merged = join(dir, 'merged');
    this.mounts.push(merged);
    await mountOverlay(lower.length ? lower : [await this.emptyDir()], join(dir, 'upper'), join(dir, 'work'), merged);
    try {
      await change(merged);
    } finally {
      await unmount(merged);
    }
    await this.commit(probe, { upper: join(dir, 'upper') });
    await rm(dir, { recursive: true, force: true });
  }

  private async commit(containerConfig: ContainerConfig, o: { container?: string; upper?: string }): Promise<void> {
    const s = this.state;
    const image = await commitStep(this.images, {
      parent: s.image,
      parentConfig: s.imageConfig,
      upper: o.upper,
      config: copyConfig(s.runConfig),
      containerConfig,
      container: o.container,
      author: s.maintainer,
    });
    this.records.made(image.id);
    await this.moveTo(image.id);
  }

  // ---- containers --------------------------------------------------------------------------------

  /** An intermediate container of the current step (" ---> Running in <id>"). */
  private async createContainer(config: ContainerConfig): Promise<string> {
    const { id, warnings } = await this.containers.create(this.runSpec(config), {});
    this.liveContainers.add(id);
    this.stepContainers.push(id);
    for (const w of warnings) this.out(` ---> [Warning] ${w}\n`);
    this.emit({ kind: 'container', id });
    return id;
  }

  /** A RUN container's spec: the step's config on the current image, with the build's resources. */
  private runSpec(config: ContainerConfig): ContainerSpec {
    const run = this.req.run;
    const health = config.Healthcheck;
    const process: ProcessSpec = { env: config.Env ?? [], tty: false, stdin: false, stdinOnce: false };
    if (config.Entrypoint) process.entrypoint = config.Entrypoint;
    if (config.Cmd) process.command = config.Cmd;
    if (config.WorkingDir) process.workdir = config.WorkingDir;
    if (config.User) process.user = config.User;
    if (config.Shell) process.shell = config.Shell;
    if (config.StopSignal) process.stopSignal = config.StopSignal;
    if (run?.rlimits) process.rlimits = run.rlimits;
    const spec: ContainerSpec = {
      image: this.state.imageId,
      process,
      namespaces: { pid: 'private', ipc: 'private', uts: 'private', network: networkNamespace(this.req.networkMode) },
      mounts: { anonymous: Object.keys(config.Volumes ?? {}) },
      ports: { expose: Object.keys(config.ExposedPorts ?? {}) },
      network: { mode: this.req.networkMode ?? '', hostname: '', domainname: '', ...(run?.hosts ? { hosts: run.hosts } : {}) },
      resources: run?.resources ?? {},
      security: { privileged: false, readonlyRootfs: false },
      restart: { policy: '', maxRetries: 0, autoRemove: false },
      labels: { ...(config.Labels ?? {}), [INTERMEDIATE_LABEL]: '' },
    };
    if (health) {
      spec.healthcheck = {
        test: health.Test ?? undefined,
        interval: health.Interval ?? undefined,
        timeout: health.Timeout ?? undefined,
        startPeriod: health.StartPeriod ?? undefined,
        retries: health.Retries ?? undefined,
      };
    }
    return spec;
  }

  /** Starts a RUN container, streams its output as it comes, and returns its exit code. A cancelled build kills it. */
  private async runContainer(id: string): Promise<number> {
    const signal = this.req.signal;
    const kill = () => void this.containers.kill(id, 'SIGKILL').catch(() => undefined);
    signal?.addEventListener('abort', kill);
    try {
      this.checkCancelled();
      const exited = this.containers.wait(id, 'next-exit'); // set up before the start: a fast exit is not missed
      await this.containers.start(id);
      const running = () => isUp({ state: this.containers.store.get(id)?.state ?? '' });
      const onStateChange = (wake: () => void) => {
        const listener = (changed: string) => changed === id && wake();
        this.containers.events.on('changed', listener);
        return () => void this.containers.events.off('changed', listener);
      };
      for await (const batch of readLogBatches(this.containers.paths.log(id), {
        stdout: true,
        stderr: true,
        follow: true,
        running,
        onStateChange,
        coalesce: true,
      })) {
        for (const entry of batch) this.emit({ kind: entry.stream, text: entry.data.toString('utf8') });
      }
      const { code } = await exited;
      this.checkCancelled();
      return code;
    } finally {
      signal?.removeEventListener('abort', kill);
    }
  }

  /** Whatever the build still holds: containers (a failed or cancelled step's), mounts. */
  async cleanup(): Promise<void> {
    for (const id of [...this.liveContainers]) {
      if (this.req.remove === false && !this.req.forceRemove) continue;
      await this.removeContainer(id).catch(() => undefined);
    }
    for (const m of this.mounts.reverse()) if (await isMounted(m)) await unmount(m);
  }
}

/** The config of an image that is not there: FROM scratch. */
function scratchConfig(platform: Platform): ImageConfig {
  return {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    rootfs: { type: 'layers', diff_ids: [] },
    history: [],
  };
}

/** mkdir -p inside a rootfs: new directories 0755, root's, made through pinned parents (util/in-root.ts). */
function makeDirs(rootfs: string, path: string): void {
  try {
    mkdirInRoot(rootfs, path).close();
  } catch (err) {
    if (isErrno(err, 'ENOTDIR', 'EEXIST')) throw invalid(`mkdir ${path}: not a directory`);
    throw err;
  }
}

/** --chown=user[:group]: names from the image's /etc/passwd and /etc/group, numbers as they are. */
async function chownIdentity(rootfs: string, spec: string): Promise<Identity> {
  const parts = spec.split(':');
  if (parts.length > 2) throw invalid(`invalid chown string format: ${spec}`);
  const [user, group = user] = parts as [string, string?];
  try {
    const resolved = await resolveUser(rootfs, `${user}:${group}`);
    return { uid: resolved.uid, gid: resolved.gid };
  } catch (err) {
    throw invalid(`unable to convert uid/gid chown string to host mapping: ${(err as Error).message}`);
  }
}

/** nat.ParsePortSpecs for EXPOSE: `80`, `80/udp`, `8000-8010/tcp`. */
function parsePortSpec(spec: string): string[] {
  const [range = '', proto = 'tcp'] = spec.split('/');
  const m = /^(\d+)(?:-(\d+))?$/.exec(range);
  if (!m || !/^(tcp|udp|sctp)$/i.test(proto)) throw invalid(`Invalid containerPort: ${spec}`);
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start > 65535 || end > 65535 || end < start) throw invalid(`Invalid containerPort: ${spec}`);
  const out: string[] = [];
  for (let p = start; p <= end; p++) out.push(`${p}/${proto.toLowerCase()}`);
  return out;
}

function prefixed(prefix: string, err: unknown): Error {
  if (err instanceof EngineError) return new EngineError(err.kind, `${prefix}: ${err.message}`);
  return new EngineError('internal', `${prefix}: ${(err as Error).message}`);
}

/** The build's network mode (`--network`) as a namespace: host, none, or a private one on the named network. */
function networkNamespace(mode: string | undefined): ContainerSpec['namespaces']['network'] {
  if (mode === 'host' || mode === 'none') return mode;
  return mode?.startsWith('container:') ? `container:${mode.slice('container:'.length)}` : 'private';
}
