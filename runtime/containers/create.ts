// create: a ContainerSpec validated as dockerd validates, the image's config merged in, mounts and networks
// planned (volumes made), files first and the row last.
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { conflict, EngineError, invalid } from '../errors.js';
import { parseConfig } from '../images/store.js';
import { networkMode } from '../network/attachments.js';
import { joinedRef } from '../oci/namespaces.js';
import { securityOf } from '../oci/spec.js';
import { commandOf, completeSpec } from './config.js';
import { now, type ContainerContext } from './context.js';
import { writeEtcPlaceholder } from './etc-files.js';
import { linksOf } from './links.js';
import { logLimitsOf, validateLogDriver } from './log-driver.js';
import { planMounts, resolveReferenced } from './mount-plan.js';
import { generateName, validateName } from './names.js';
import type { ContainerSpec } from './spec.js';
import type { ClientEcho, Container } from './store.js';
import { claimUserRange, completeUserns } from '../rootless/userns-modes.js';
import { validateCreate } from './validate.js';
import { rootlessCreateLimits } from '../rootless/cgroups.js';
import { rootless } from '../rootless/mode.js';
import { hostControllers, limitSupport, supportedLimits } from '../oci/controllers.js';

/**
 * `request`: the spec as the API made it, completed here with the image's defaults; `echo`: the
 * creating API's own fields, stored for its views.
 */
export async function create(
  ctx: ContainerContext,
  request: ContainerSpec,
  echo: ClientEcho,
  name?: string,
  o: { singleCharName?: boolean } = {},
): Promise<{ id: string; warnings: string[] }> {
  if (!request.image) throw invalid('config cannot be empty in order to create a container');
  // What dockerd refuses before it looks at the image; security options as start would apply them.
  const workdir = validateCreate(request);
  // Limits the host's cgroups cannot hold are dropped with a warning. Rootless: libpod's answer warns, the
  // compat API's does not (podman's); rootful: dockerd's warnings (oci/controllers.ts).
  const limits = rootless() ? await rootlessCreateLimits(request.resources) : supportedLimits(request.resources, limitSupport(await hostControllers()));
  request = { ...request, resources: limits.resources };
  const warnings = echo.libpod || !rootless() ? limits.warnings : [];
  securityOf(request.security);
  validateLogDriver(request.log);
  completeUserns(request, (ref) => ctx.store.resolve(ref));
  const references = recordReferences(ctx, request);
  const image = ctx.images.store.resolve(request.image);
  const runtime = request.runtime || ctx.options.defaultRuntime;
  if (!ctx.options.runtimes.has(runtime)) throw invalid(`unknown or invalid runtime name: ${runtime}`);
  const id = randomBytes(32).toString('hex');
  // A generated name is held from here to the insert: concurrent creates (200 clients at once) drew the
  // same name between the check and the insert, and the second failed with a name conflict it never asked for.
  const generating = creating.get(ctx) ?? new Set<string>();
  creating.set(ctx, generating);
  const finalName = name ? validateName(name, { single: o.singleCharName }) : generateName((n) => generating.has(n) || ctx.store.idOfName(n) !== undefined);
  if (!name) generating.add(finalName);
  try {
    return { ...(await createNamed(ctx, request, echo, finalName, workdir, references, image, runtime, id)), warnings };
  } finally {
    if (!name) generating.delete(finalName);
  }
}

/** Generated names of the creates under way, per container service. */
const creating = new WeakMap<ContainerContext, Set<string>>();

async function createNamed(
  ctx: ContainerContext,
  request: ContainerSpec,
  echo: ClientEcho,
  finalName: string,
  workdir: ReturnType<typeof validateCreate>,
  references: Pick<ContainerSpec, 'namespaces' | 'network'>,
  image: ReturnType<ContainerContext['images']['store']['resolve']>,
  runtime: string,
  id: string,
): Promise<{ id: string; warnings: string[] }> {
  const holder = ctx.store.idOfName(finalName);
  if (holder) {
    throw conflict(
      `Conflict. The container name "/${finalName}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`,
    );
  }
  // API ≥ 1.44 clients (docker CLI 28) give the MAC address per network: the primary one's is the container's.
  const spec = completeSpec({ ...request, ...references }, parseConfig(image), id, { workdir, mac: primaryEndpoint(request)?.mac });
  logLimitsOf(spec.log); // refuse bad --log-opt values now, not at start
  if (commandOf(spec).length === 0) throw invalid('no command specified');
  const imageName = request.image;
  const endpoints = ctx.network.plan(spec);
  const mounts = await planMounts(ctx, spec);
  // Files first, the row last: a crash in between leaves a directory that reconcile() removes.
  // One level at a time: a recursive mkdir on a full disk reports ENOENT, not ENOSPC.
  await mkdir(ctx.paths.containersDir(), { recursive: true });
  await mkdir(ctx.paths.dir(id));
  await mkdir(ctx.paths.bundle(id));
  await writeEtcPlaceholder(ctx.paths.bundle(id));
  const created: Container = {
    id,
    name: finalName,
    image_id: image.id,
    image_name: imageName,
    top_layer: image.top_layer,
    spec,
    echo,
    created: now(),
    state: 'created',
    pid: 0,
    exit_code: 0,
    error: '',
    oom_killed: 0,
    started_at: null,
    finished_at: null,
    restart_count: 0,
    stopped_by_user: 0,
    run_id: 0,
    mounts,
    ports: [],
    health: null,
  };
  try {
    // The row and its networks together: a container is never half on its networks.
    ctx.store.transaction(() => {
      claimUserRange(spec, () => ctx.store.all().map((c) => c.spec));
      ctx.store.insert(created);
      ctx.network.addPlanned(id, endpoints);
    });
  } catch (err) {
    await rm(ctx.paths.dir(id), { recursive: true, force: true });
    if (String(err).includes('UNIQUE constraint failed: containers.name')) {
      throw conflict(
        `Conflict. The container name "/${finalName}" is already in use. You have to remove (or rename) that container to be able to reuse that name.`,
      );
    }
    throw err;
  }
  ctx.changed(id);
  ctx.record(created, 'create');
  // Mounted ahead: `docker run` starts it right after, and the mount is a process spawn it need not wait on then.
  void ctx.rootfs.mount(created).catch(() => undefined);
  return { id, warnings: [] };
}

/**
 * What a create names of other containers, recorded as dockerd echoes it: container:<id> modes, and
 * legacy links by the linked container's own name (renames follow). A missing one is the request's fault (400).
 */
function recordReferences(ctx: ContainerContext, spec: ContainerSpec): Pick<ContainerSpec, 'namespaces' | 'network'> {
  const namespaces = { ...spec.namespaces };
  for (const key of ['ipc', 'pid', 'uts'] as const) {
    const ref = joinedRef(namespaces[key]);
    if (ref !== undefined) namespaces[key] = `container:${resolveReferenced(ctx, ref).id}`;
  }
  const network = { ...spec.network };
  // Legacy links (not on user-defined networks, where dockerd makes them aliases): by the name it has.
  const linkMode = networkMode(spec.network.mode).kind;
  if (network.links?.length && (linkMode === 'host' || linkMode === 'container')) {
    throw invalid(
      `conflicting options: ${linkMode === 'host' ? 'host type networking' : 'container type network'} can't be used with links. This would result in undefined behavior`,
    );
  }
  if (network.links?.length && linkMode !== 'user') {
    network.links = linksOf(spec).map(({ target, alias }) => {
      try {
        return `${ctx.store.resolve(target).name}:${alias}`;
      } catch (err) {
        throw err instanceof EngineError && err.kind === 'not-found' ? invalid(`could not get container for ${target}: ${err.message}`) : err;
      }
    });
  }
  return { namespaces, network };
}

/** The create request's settings for the network of its mode (the CLI may name it `default`). */
function primaryEndpoint(spec: ContainerSpec) {
  const endpoints = spec.network.endpoints ?? {};
  const mode = networkMode(spec.network.mode);
  return endpoints[mode.name] ?? endpoints[spec.network.mode] ?? (mode.kind === 'bridge' ? endpoints.default : undefined);
}
