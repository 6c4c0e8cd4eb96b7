// docker commit: the container's upper dir as a new layer over its image (images/commit.ts), with the
// container's config (and `--change` instructions) as the new image's config.
import { mkdir } from 'node:fs/promises';
import { invalid } from '../errors.js';
import { applyChanges } from '../images/changes.js';
import { commitImage } from '../images/commit.js';
import { parseTaggedReference, referenceString } from '../images/reference.js';
import type { ContainerConfig, ImageConfig } from '../images/config.js';
import { parseConfig } from '../images/store.js';
import { commandOf } from './config.js';
import type { OciRuntime } from '../oci/runtime.js';
import { now, type ContainerContext } from './context.js';
import { withoutCgroups } from '../rootless/cgroups.js';
import { ownersAsSeen } from '../rootless/mapped-layer.js';

export interface CommitOptions {
  repo?: string;
  tag?: string;
  author?: string;
  comment?: string;
  changes: string[];
  /** Freeze a running container while its changes are read (the default of docker commit). */
  pause: boolean;
  /** The container's config in the image config's shape, as the API shows it: the new image's, changes applied. */
  config: ContainerConfig;
  /**
   * The image config's format: Docker's (the default: with `container` and `container_config`), or
   * OCI's (podman commit's default), which has neither and only the config fields the OCI spec defines.
   */
  format?: 'docker' | 'oci';
}

/** The fields of an OCI image config's `config` (image-spec config.md). */
const OCI_CONFIG_FIELDS = ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal', 'ArgsEscaped'];

/** The base image's config without the fields only Docker's format has. */
function ociFields({ container: _container, container_config: _containerConfig, docker_version: _dockerVersion, ...rest }: ImageConfig): ImageConfig {
  return rest;
}

/** Returns the new image's ID. */
export async function commit(ctx: ContainerContext, nameOrId: string, o: CommitOptions): Promise<string> {
  const c = ctx.store.resolve(nameOrId);
  // A container in a user namespace of its own: its changes recorded with the owners it sees.
  const owners = await ownersAsSeen(c.spec, ctx.paths.legacyMapped(c.id), 'commit');
  const image = ctx.images.store.get(c.image_id);
  if (!image) throw invalid(`the image of container ${c.id} was removed: cannot commit`);
  const base = parseConfig(image);
  const { Image: _image, ...config } = applyChanges({ ...o.config, Hostname: '', Domainname: '' }, o.changes);
  const tags = o.repo ? [referenceString(parseTaggedReference(o.tag ? `${o.repo}:${o.tag}` : o.repo))] : [];
  const runtime = ctx.runtimeOf(c);
  const upper = ctx.paths.upper(c.id);
  await mkdir(upper, { recursive: true }); // a container never started has no upper dir yet
  const committed = await commitImage(ctx.images, {
    parent: image,
    parentDiffIds: base.rootfs?.diff_ids ?? [],
    upper,
    owners,
    emptyLayer: 'keep',
    tags,
    // Without a cgroup there is no freezer: committed running, as podman commits on cgroup v1 rootless.
    freeze: o.pause && c.state === 'running' && !withoutCgroups() ? () => freezeForCommit(runtime, c.id) : undefined,
    document: ({ diffIds }) => {
      const created = now();
      return Buffer.from(
        JSON.stringify({
          ...(o.format === 'oci' ? ociFields(base) : base),
          created,
          author: o.author ?? '',
          comment: o.comment ?? '',
          ...(o.format === 'oci'
            ? { config: Object.fromEntries(Object.entries(config).filter(([k]) => OCI_CONFIG_FIELDS.includes(k))) }
            : { container: c.id, config, container_config: config }),
          rootfs: { type: 'layers', diff_ids: diffIds },
          history: [
            ...(base.history ?? []),
            { created, author: o.author || undefined, comment: o.comment || undefined, created_by: commandOf(c.spec).join(' ') },
          ],
        }),
      );
    },
  });
  ctx.record(c, 'commit', { comment: o.comment ?? '', imageID: committed.id, imageRef: tags[0] ?? '' });
  return committed.id;
}

/**
 * Freezes a running container for commit; returns the thaw. A process that ended meanwhile (the DB still
 * said running: `docker start` then an at-once commit, as docker-py's suite does) is committed as stopped,
 * as dockerd does, instead of failing on runc's "container not running".
 */
async function freezeForCommit(runtime: OciRuntime, id: string): Promise<(() => Promise<unknown>) | undefined> {
  try {
    await runtime.pause(id);
    return () => runtime.resume(id);
  } catch (err) {
    const state = await runtime.state(id);
    if (!state || state.status === 'stopped') return undefined;
    throw err;
  }
}
