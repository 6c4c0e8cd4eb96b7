// A build step's image: the step's changes (a container's or a copy's upper dir) as a layer — or no
// layer, `empty_layer` in the history, when nothing changed — over the parent, with the config and
// container_config the classic builder writes (Go's field order, sorted map keys) and its history line.
import { lstat, readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerConfig, ImageConfig } from '../images/config.js';
import type { ImageService } from '../images/service.js';
import type { ImageRecord } from '../images/store.js';
import { isOpaque, MOUNT_POINTS, writeUpperAsLayer } from '../containers/commit.js';
import { chainIds, sha256 } from '../util/digest.js';

/** The digest of an empty tar (1024 zero bytes): a step that changed nothing. */
export const EMPTY_TAR = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

const sortKeys = <T>(map: Record<string, T>) => Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** A container config as Go's encoding/json writes container.Config: its field order, omitempty fields only when set. */
export function goConfig(c: ContainerConfig): ContainerConfig {
  const out: Record<string, unknown> = {
    Hostname: c.Hostname ?? '', Domainname: c.Domainname ?? '', User: c.User ?? '',
    AttachStdin: !!c.AttachStdin, AttachStdout: !!c.AttachStdout, AttachStderr: !!c.AttachStderr,
  };
  if (c.ExposedPorts && Object.keys(c.ExposedPorts).length > 0) out.ExposedPorts = sortKeys(c.ExposedPorts);
  Object.assign(out, { Tty: !!c.Tty, OpenStdin: !!c.OpenStdin, StdinOnce: !!c.StdinOnce, Env: c.Env ?? null, Cmd: c.Cmd ?? null });
  if (c.Healthcheck) out.Healthcheck = c.Healthcheck;
  if (c.ArgsEscaped) out.ArgsEscaped = true;
  Object.assign(out, { Image: c.Image ?? '', Volumes: c.Volumes ? sortKeys(c.Volumes) : null, WorkingDir: c.WorkingDir ?? '', Entrypoint: c.Entrypoint ?? null });
  if (c.NetworkDisabled) out.NetworkDisabled = true;
  if (c.MacAddress) out.MacAddress = c.MacAddress;
  Object.assign(out, { OnBuild: c.OnBuild ?? null, Labels: c.Labels ? sortKeys(c.Labels) : null });
  if (c.StopSignal) out.StopSignal = c.StopSignal;
  if (c.StopTimeout !== undefined && c.StopTimeout !== null) out.StopTimeout = c.StopTimeout;
  if (c.Shell && c.Shell.length > 0) out.Shell = c.Shell;
  return out as ContainerConfig;
}

/** A deep copy of a config (the builder changes its run config step by step). */
export const copyConfig = (c: ContainerConfig): ContainerConfig => structuredClone(c);

export interface StepCommit {
  /** The image the step ran on (undefined: FROM scratch). */
  parent?: ImageRecord;
  parentConfig: ImageConfig;
  /** The step's changes, an overlay upper dir (none: the step only changed the config). */
  upper?: string;
  /** The image's config: the build's run config after the step. */
  config: ContainerConfig;
  /** What the cache compares: the step's command (`#(nop) ...` for config-only steps). */
  containerConfig: ContainerConfig;
  /** The intermediate container of the step, if it had one. */
  container?: string;
  author: string;
  /** Staging for the layer tar. */
  tmpDir: string;
}

/** Records a step's image; returns it (an identical config is the same image). */
export async function commitStep(images: ImageService, s: StepCommit): Promise<ImageRecord> {
  let diffId = EMPTY_TAR;
  const layerFile = join(s.tmpDir, `layer-${Date.now()}-${Math.random().toString(36).slice(2)}.tar`);
  try {
    if (s.upper && (await lstat(s.upper).catch(() => undefined))) ({ diffId } = await writeUpperAsLayer(s.upper, layerFile));
    const empty = diffId === EMPTY_TAR;
    const created = new Date().toISOString();
    const parentIds = s.parentConfig.rootfs?.diff_ids ?? [];
    const diffIds = empty ? parentIds : [...parentIds, diffId];
    const history = [
      ...(s.parentConfig.history ?? []),
      { created, ...(s.author ? { author: s.author } : {}), created_by: (s.containerConfig.Cmd ?? []).join(' '), ...(empty ? { empty_layer: true } : {}) },
    ];
    const p = s.parentConfig;
    // image.Image marshals through a map: its top-level keys come out sorted.
    const document: Record<string, unknown> = {
      architecture: p.architecture ?? 'amd64',
      ...(s.author ? { author: s.author } : {}),
      config: goConfig(s.config),
      ...(s.container ? { container: s.container } : {}),
      container_config: goConfig(s.containerConfig),
      created,
      history,
      os: p.os ?? 'linux',
      ...(p['os.version'] ? { 'os.version': p['os.version'] } : {}),
      rootfs: { type: 'layers', diff_ids: diffIds },
      ...(p.variant ? { variant: p.variant } : {}),
    };
    const bytes = Buffer.from(JSON.stringify(sortKeys(document)));
    const id = sha256(bytes);
    const chains = chainIds(diffIds);
    return await images.lock.run(async () => {
      const top = empty ? (s.parent?.top_layer ?? null) : (await images.layers.import(layerFile, diffId, chains.at(-1)!, chains.at(-2) ?? null)).chain_id;
      const size = images.layers.stack(top).reduce((n, l) => n + l.size, 0);
      images.store.commit({ id, config: bytes, topLayer: top, parent: s.parent?.id ?? null, size }, []);
      return images.store.get(id)!;
    });
  } finally {
    await rm(layerFile, { force: true });
  }
}

/**
 * Removes from a RUN container's upper dir what the runtime made there, not the command: the empty
 * files /etc/hosts, /etc/hostname and /etc/resolv.conf are bound over, and directories copied up only
 * for them (empty, not opaque, the same mode and owner as below).
 */
export async function pruneRuntimeFiles(upper: string, lowerDirs: string[]): Promise<void> {
  for (const path of MOUNT_POINTS) {
    const st = await lstat(join(upper, path)).catch(() => undefined);
    if (st?.isFile() && st.size === 0) await rm(join(upper, path), { force: true });
  }
  const prune = async (rel: string): Promise<boolean> => {
    const names = await readdir(join(upper, rel)).catch(() => undefined);
    if (!names) return false;
    let empty = true;
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(upper, path));
      if (!(st.isDirectory() && (await prune(path)))) empty = false;
    }
    if (!empty || rel === '' || (await isOpaque(join(upper, rel)))) return false;
    const mine = await lstat(join(upper, rel));
    for (const lower of lowerDirs) {
      const below = await lstat(join(lower, rel)).catch(() => undefined);
      if (!below) continue;
      if (!below.isDirectory() || below.mode !== mine.mode || below.uid !== mine.uid || below.gid !== mine.gid) return false;
      await rmdir(join(upper, rel));
      return true;
    }
    return false;
  };
  await prune('');
}
