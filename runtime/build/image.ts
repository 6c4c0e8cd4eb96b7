// A build step's image: the step's changes (a container's or a copy's upper dir) as a layer — or no
// layer, `empty_layer` in the history, when nothing changed — over the parent, with the config and
// container_config the classic builder writes (Go's field order, sorted map keys) and its history line.
import { lstat, readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerConfig, ImageConfig } from '../images/config.js';
import type { ImageService } from '../images/service.js';
import type { ImageRecord } from '../images/store.js';
import { commitImage } from '../images/commit.js';
import { isOpaque, MOUNT_POINTS } from '../storage/upper-layer.js';

const sortKeys = <T>(map: Record<string, T>) => Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** A container config as Go's encoding/json writes container.Config: its field order, omitempty fields only when set. */
export function goConfig(c: ContainerConfig): ContainerConfig {
  const out: Record<string, unknown> = {
    Hostname: c.Hostname ?? '',
    Domainname: c.Domainname ?? '',
    User: c.User ?? '',
    AttachStdin: !!c.AttachStdin,
    AttachStdout: !!c.AttachStdout,
    AttachStderr: !!c.AttachStderr,
  };
  if (c.ExposedPorts && Object.keys(c.ExposedPorts).length > 0) out.ExposedPorts = sortKeys(c.ExposedPorts);
  Object.assign(out, { Tty: !!c.Tty, OpenStdin: !!c.OpenStdin, StdinOnce: !!c.StdinOnce, Env: c.Env ?? null, Cmd: c.Cmd ?? null });
  if (c.Healthcheck) out.Healthcheck = c.Healthcheck;
  if (c.ArgsEscaped) out.ArgsEscaped = true;
  Object.assign(out, {
    Image: c.Image ?? '',
    Volumes: c.Volumes ? sortKeys(c.Volumes) : null,
    WorkingDir: c.WorkingDir ?? '',
    Entrypoint: c.Entrypoint ?? null,
  });
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
}

/** Records a step's image (images/commit.ts); returns it (an identical config is the same image). */
export function commitStep(images: Pick<ImageService, 'store' | 'layers' | 'lock' | 'tmpDir'>, s: StepCommit): Promise<ImageRecord> {
  const p = s.parentConfig;
  return commitImage(images, {
    parent: s.parent,
    parentDiffIds: p.rootfs?.diff_ids ?? [],
    upper: s.upper,
    emptyLayer: 'skip',
    document: ({ diffIds, empty }) => {
      const created = new Date().toISOString();
      const history = [
        ...(p.history ?? []),
        { created, ...(s.author ? { author: s.author } : {}), created_by: (s.containerConfig.Cmd ?? []).join(' '), ...(empty ? { empty_layer: true } : {}) },
      ];
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
      return Buffer.from(JSON.stringify(sortKeys(document)));
    },
  });
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
