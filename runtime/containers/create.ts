// docker create: validated as dockerd validates, the image's config merged in, mounts and networks
// planned (volumes made), files first and the row last.
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import type { ContainerCreateBody, HostConfig } from '../../openapi/containers.js';
import { conflict, EngineError, invalid } from '../errors.js';
import { parseConfig } from '../images/store.js';
import { networkMode } from '../network/attachments.js';
import { joinedRef } from '../oci/namespaces.js';
import { securityOf } from '../oci/spec.js';
import { asList } from '../util/list.js';
import { planMounts as planMountPoints, type MountPoint } from '../volumes/mounts.js';
import { mergeConfig } from './config.js';
import { now, type ContainerContext } from './context.js';
import { writeEtcPlaceholder } from './etc-files.js';
import { linksOf } from './links.js';
import { logLimitsOf, validateLogDriver } from './log-driver.js';
import { generateName, validateName } from './names.js';
import type { Container } from './store.js';
import { validateCreate } from './validate.js';

export async function create(ctx: ContainerContext, body: ContainerCreateBody, name?: string): Promise<{ id: string; warnings: string[] }> {
  const { HostConfig: hostConfig, NetworkingConfig: networking, ...request } = body;
  const hc: HostConfig = { ...hostConfig };
  if (!request.Image) throw invalid('config cannot be empty in order to create a container');
  // What dockerd refuses before it looks at the image; security options as start would apply them.
  const workingDir = validateCreate(request, hc);
  securityOf(hc);
  validateLogDriver(hc);
  if (hc.Isolation && hc.Isolation !== 'default') throw new EngineError('internal', `Invalid isolation: "${hc.Isolation}" - linux only supports 'default'`);
  recordReferences(ctx, hc);
  const image = ctx.images.store.resolve(request.Image);
  const runtime = hc.Runtime || ctx.options.defaultRuntime;
  if (!ctx.options.runtimes.has(runtime)) throw invalid(`unknown or invalid runtime name: ${runtime}`);
  const id = randomBytes(32).toString('hex');
  const finalName = name ? validateName(name) : generateName((n) => !!ctx.store.byName(n));
  const holder = ctx.store.byName(finalName);
  if (holder) {
    throw conflict(`Conflict. The container name "/${finalName}" is already in use by container "${holder.id}". You have to remove (or rename) that container to be able to reuse that name.`);
  }
  const config = mergeConfig({ ...request, WorkingDir: workingDir }, parseConfig(image), id);
  // API ≥ 1.44 clients (docker CLI 28) give the MAC address per network: the primary one's is the container's.
  config.MacAddress ||= primaryEndpoint(hc, networking)?.MacAddress || undefined;
  logLimitsOf(hc); // refuse bad --log-opt values now, not at start
  if ((!config.Entrypoint || config.Entrypoint.length === 0) && (!config.Cmd || config.Cmd.length === 0)) {
    throw invalid('no command specified');
  }
  const imageName = request.Image;
  const endpoints = ctx.network.plan(hc, networking, config.ExposedPorts);
  const mounts = await planMounts(ctx, hc, Object.keys(config.Volumes ?? {}));
  // Files first, the row last: a crash in between leaves a directory that reconcile() removes.
  // One level at a time: a recursive mkdir on a full disk reports ENOENT, not ENOSPC.
  await mkdir(ctx.paths.containersDir(), { recursive: true });
  await mkdir(ctx.paths.dir(id));
  await mkdir(ctx.paths.bundle(id));
  await writeEtcPlaceholder(ctx.paths.bundle(id));
  try {
    // The row and its networks together: a container is never half on its networks.
    ctx.store.transaction(() => {
      ctx.store.insert({
        id, name: finalName, image_id: image.id, image_name: imageName, top_layer: image.top_layer, config, hostConfig: hc,
        created: now(), state: 'created', pid: 0, exit_code: 0, error: '', oom_killed: 0, started_at: null, finished_at: null,
        restart_count: 0, stopped_by_user: 0, run_id: 0, mounts, ports: [], health: null,
      });
      ctx.network.addPlanned(id, endpoints);
    });
  } catch (err) {
    await rm(ctx.paths.dir(id), { recursive: true, force: true });
    if (String(err).includes('UNIQUE constraint failed: containers.name')) {
      throw conflict(`Conflict. The container name "/${finalName}" is already in use. You have to remove (or rename) that container to be able to reuse that name.`);
    }
    throw err;
  }
  ctx.changed(id);
  const created = ctx.store.get(id)!;
  ctx.record(created, 'create');
  // Mounted ahead: `docker run` starts it right after, and the mount is a process spawn it need not wait on then.
  void ctx.rootfs.mount(created).catch(() => undefined);
  return { id, warnings: [] };
}

/**
 * What a create names of other containers, recorded as dockerd echoes it: container:<id> modes, and
 * legacy links by the linked container's own name (renames follow). A missing one is the request's fault (400).
 */
function recordReferences(ctx: ContainerContext, hc: HostConfig): void {
  for (const key of ['IpcMode', 'PidMode'] as const) {
    const ref = joinedRef(hc[key]);
    if (ref !== undefined) hc[key] = `container:${resolveReferenced(ctx, ref).id}`;
  }
  // Legacy links (not on user-defined networks, where dockerd makes them aliases): by the name it has.
  const linkMode = networkMode(hc).kind;
  if (hc.Links?.length && (linkMode === 'host' || linkMode === 'container')) {
    throw invalid(`conflicting options: ${linkMode === 'host' ? 'host type networking' : 'container type network'} can't be used with links. This would result in undefined behavior`);
  }
  if (hc.Links?.length && linkMode !== 'user') {
    hc.Links = linksOf(hc).map(({ target, alias }) => {
      try {
        return `${ctx.store.resolve(target).name}:${alias}`;
      } catch (err) {
        throw err instanceof EngineError && err.kind === 'not-found' ? invalid(`could not get container for ${target}: ${err.message}`) : err;
      }
    });
  }
}

/** A container another one's create names (VolumesFrom, container:<id> modes): dockerd answers 400 when missing. */
function resolveReferenced(ctx: ContainerContext, ref: string): Container {
  try {
    return ctx.store.resolve(ref);
  } catch (err) {
    throw err instanceof EngineError && err.kind === 'not-found' ? invalid(err.message) : err;
  }
}

/**
 * The mount points of a new container (volumes/mounts.ts), with its volumes made: named ones that do
 * not exist yet, and a generated name for each anonymous one, as dockerd does at create (with
 * HostConfig.VolumeDriver as their driver).
 */
async function planMounts(ctx: ContainerContext, hc: HostConfig, imageVolumes: string[]): Promise<MountPoint[]> {
  const from = asList(hc.VolumesFrom).map((spec) => {
    const [ref = '', mode = 'rw'] = spec.split(':');
    return { mounts: resolveReferenced(ctx, ref).mounts, mode };
  });
  const mounts = planMountPoints(hc, imageVolumes, from);
  for (const m of mounts) {
    if (m.type !== 'volume') continue;
    if (m.anonymous) m.name = randomBytes(32).toString('hex');
    // --volume-driver: the driver of the volumes this create makes (a plugin berth has not, unless local).
    if (hc.VolumeDriver && !m.create?.driver && !ctx.volumes.find(m.name!)) m.create = { ...m.create, driver: hc.VolumeDriver };
    await ctx.volumes.forMount(m);
  }
  return mounts;
}

/** The create request's settings for the network of its NetworkMode (the CLI may name it `default`). */
function primaryEndpoint(hc: HostConfig, networking: ContainerCreateBody['NetworkingConfig']) {
  const endpoints = networking?.EndpointsConfig ?? {};
  const mode = networkMode(hc);
  return endpoints[mode.name] ?? endpoints[hc.NetworkMode ?? ''] ?? (mode.kind === 'bridge' ? endpoints.default : undefined);
}
