// The classic builder's layer cache: a step is the image whose parent is the current image and whose
// container_config matches the step's (the command — `#(nop) COPY file:<sum> in /dst`, `|1 A=b
// /bin/sh -c ...` — env, labels, ports, entrypoint, volumes, user), the newest one if several. With
// --cache-from, only the chains of the given images count, and images pulled without their parents
// are matched by their history (the intermediate images are then made from it).
import type { ContainerConfig, HistoryEntry, ImageConfig } from '../images/config.js';
import type { ImageService } from '../images/service.js';
import { parseConfig, type ImageRecord } from '../images/store.js';
import { goConfig } from './image.js';
import { sha256 } from '../util/digest.js';

const len = (v: unknown[] | Record<string, unknown> | null | undefined) => (v ? (Array.isArray(v) ? v.length : Object.keys(v).length) : 0);
const sameList = (a: string[] | null | undefined, b: string[] | null | undefined) => len(a) === len(b) && (a ?? []).every((x, i) => x === b![i]);

/** moby's image/cache compare: what makes a cached step the same step (not Hostname, WorkingDir, Healthcheck...). */
export function sameConfig(a: ContainerConfig | undefined, b: ContainerConfig | undefined): boolean {
  if (!a || !b || a.OpenStdin || b.OpenStdin) return false;
  if (!!a.AttachStdout !== !!b.AttachStdout || !!a.AttachStderr !== !!b.AttachStderr || (a.User ?? '') !== (b.User ?? '') || !!a.Tty !== !!b.Tty) return false;
  if (len(a.Labels) !== len(b.Labels) || len(a.ExposedPorts) !== len(b.ExposedPorts) || len(a.Volumes) !== len(b.Volumes)) return false;
  if (!sameList(a.Cmd, b.Cmd) || !sameList(a.Env, b.Env) || !sameList(a.Entrypoint, b.Entrypoint)) return false;
  for (const [k, v] of Object.entries(a.Labels ?? {})) if (b.Labels?.[k] !== v) return false;
  for (const k of Object.keys(a.ExposedPorts ?? {})) if (!(k in (b.ExposedPorts ?? {}))) return false;
  for (const k of Object.keys(a.Volumes ?? {})) if (!(k in (b.Volumes ?? {}))) return false;
  return true;
}

export interface ImageCache {
  /** The cached image for a step on `parentId` ('' for scratch), if any. */
  get(parentId: string, config: ContainerConfig): Promise<string | undefined>;
}

/** The local cache: the children of the parent image. */
export class LocalCache implements ImageCache {
  constructor(private readonly images: ImageService) {}

  async get(parentId: string, config: ContainerConfig): Promise<string | undefined> {
    const store = this.images.store;
    const siblings = parentId ? store.children(parentId).map((id) => store.get(id)!) : store.all().filter((i) => !i.parent);
    let match: ImageRecord | undefined;
    for (const image of siblings) {
      if (!image) continue;
      if (!sameConfig(parseConfig(image).container_config, config)) continue;
      if (!match || match.created < image.created) match = image;
    }
    return match?.id;
  }
}

/** --cache-from: the given images (and their parents), or their history when they came without parents. */
export class SourceCache implements ImageCache {
  private readonly local: LocalCache;

  constructor(
    private readonly images: ImageService,
    private sources: ImageRecord[],
  ) {
    this.local = new LocalCache(images);
  }

  private isAncestor(ancestor: string, of: string): boolean {
    for (let id: string | null | undefined = of; id; id = this.images.store.get(id)?.parent) if (id === ancestor) return true;
    return false;
  }

  async get(parentId: string, config: ContainerConfig): Promise<string | undefined> {
    const hit = await this.local.get(parentId, config);
    if (hit && this.sources.some((s) => this.isAncestor(hit, s.id))) return hit;
    const parent = parentId ? this.images.store.get(parentId) : undefined;
    const parentConfig = parent ? parseConfig(parent) : undefined;
    const depth = parentConfig?.history?.length ?? 0;
    for (const target of this.sources) {
      const tc = parseConfig(target);
      const history = tc.history ?? [];
      if (!validParent(tc, parentConfig) || history.length <= depth) continue;
      if ((config.Cmd ?? []).join(' ') !== (history[depth]!.created_by ?? '')) continue;
      if (history.length - 1 === depth) return target.id;
      const id = await this.restore(parent, parentConfig, target, tc, depth, config);
      this.sources = [target];
      return id;
    }
    return undefined;
  }

  /** The intermediate image a history entry of `target` stands for, made over `parent`. */
  private async restore(
    parent: ImageRecord | undefined,
    pc: ImageConfig | undefined,
    target: ImageRecord,
    tc: ImageConfig,
    depth: number,
    config: ContainerConfig,
  ): Promise<string> {
    const entry = tc.history![depth]!;
    const diffIds = [...(pc?.rootfs?.diff_ids ?? [])];
    const layerIndex = (tc.history ?? []).slice(0, depth).filter((h) => !h.empty_layer).length;
    if (!entry.empty_layer) diffIds.push(tc.rootfs!.diff_ids[layerIndex]!);
    const bytes = Buffer.from(
      JSON.stringify({
        architecture: tc.architecture,
        ...(tc.author ? { author: tc.author } : {}),
        config: goConfig(config),
        created: entry.created,
        history: [...(pc?.history ?? []), entry],
        os: tc.os,
        rootfs: { type: 'layers', diff_ids: diffIds },
      }),
    );
    const id = sha256(bytes);
    const stack = this.images.layers.stack(target.top_layer);
    const top = diffIds.length > 0 ? stack[diffIds.length - 1]!.chain_id : null;
    await this.images.lock.run(() => {
      const size = this.images.layers.stack(top).reduce((n, l) => n + l.size, 0);
      this.images.store.commit({ id, config: bytes, topLayer: top, parent: parent?.id ?? null, size }, []);
    });
    return id;
  }
}

function validParent(image: ImageConfig, parent: ImageConfig | undefined): boolean {
  const history = image.history ?? [];
  if (history.length === 0) return false;
  const ph = parent?.history ?? [];
  const pd = parent?.rootfs?.diff_ids ?? [];
  if (!parent || (ph.length === 0 && pd.length === 0)) return true;
  const ids = image.rootfs?.diff_ids ?? [];
  if (ph.length >= history.length || pd.length > ids.length) return false;
  return ph.every((h, i) => sameHistory(h, history[i]!)) && pd.every((d, i) => d === ids[i]);
}

const sameHistory = (a: HistoryEntry, b: HistoryEntry) =>
  a.created === b.created &&
  (a.created_by ?? '') === (b.created_by ?? '') &&
  (a.author ?? '') === (b.author ?? '') &&
  (a.comment ?? '') === (b.comment ?? '') &&
  !!a.empty_layer === !!b.empty_layer;

/** Once a step misses, every later step of the stage is built (the classic builder's cacheBusted). */
export class Prober {
  private busted = false;

  constructor(private readonly cache: ImageCache | undefined) {}

  reset(): void {
    this.busted = false;
  }

  async probe(parentId: string, config: ContainerConfig): Promise<string | undefined> {
    if (!this.cache || this.busted) return undefined;
    const hit = await this.cache.get(parentId, config);
    if (!hit) this.busted = true;
    return hit;
  }
}
