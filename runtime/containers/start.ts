// docker start: one run of a container. Network prepared, rootfs mounted, /etc files written, volumes
// activated, the OCI spec built, conmon started (netavark beside it), the row recorded, `runtime start`.
// A failure undoes what was done; a container that cannot start with --rm is removed.
import { containerCgroup } from '../oci/cgroups.js';
import { allowedLimits, rootlessCgroupPath, rootlessCgroups } from '../rootless/cgroups.js';
import { rootless } from '../rootless/mode.js';
import { prepareOverlays } from './overlays.js';
import { lchown, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StartChanges } from './spec.js';
import { conflict, EngineError, notFound } from '../errors.js';
import { networkMode } from '../network/attachments.js';
import { wantedPorts } from '../network/ports.js';
import { DEFAULT_SHM_SIZE } from '../oci/defaults.js';
import { namespacesOf, type Namespaces } from '../oci/namespaces.js';
import { buildSpec, securityOf } from '../oci/spec.js';
import { resolveUser } from '../oci/user.js';
import { addKeepIdUser, makeTraversable, userNamespaceOf } from '../rootless/userns-modes.js';
import { mountTmpfs } from '../storage/rootfs.js';
import { crashPoint } from '../util/crash.js';
import { copyUp as copyVolumeUp } from '../volumes/copy-up.js';
import { giveFirstOwner } from '../volumes/first-owner.js';
import { awaitConmonGone, startConmon } from './conmon.js';
import { now, type ContainerContext } from './context.js';
import { etcFilesIn, writeEtcFiles } from './etc-files.js';
import { addPodmanUser } from './podman-user.js';
import { startingHealth } from './health-state.js';
import { bridgeIp, defaultBridgeGateway, linkEnv, linkHostsLine, liveLinks } from './links.js';
import { logLimitsOf } from './log-driver.js';
import type { Container } from './store.js';
import { validateStart } from './validate.js';
import { makeWorkingDir } from './workdir.js';
import { planMounts } from './mount-plan.js';
import { givenMounts, mergeMountPoints, networkModeChanged, withStartChanges } from './start-changes.js';
import { materializeSecrets } from '../secrets/container.js';

/**
 * Starts a created or exited container; false when it was running already (Docker's 304).
 * `changes`: what a Docker client before API 1.24 gives start (its host config), applied as dockerd
 * 20.10 applies it (start-changes.ts), checked as create checks it.
 */
export async function start(ctx: ContainerContext, nameOrId: string, changes?: StartChanges): Promise<boolean> {
  let c = ctx.store.resolve(nameOrId);
  if (c.state === 'running' || c.state === 'paused') return false;
  if (c.state === 'initialized') {
    await release(ctx, c);
    return true;
  }
  if (c.state === 'removing') throw conflict(`container is marked for removal and cannot be started`);
  // podman's --requires: the containers it depends on run first.
  for (const dependency of c.spec.dependencies ?? []) if (ctx.store.get(dependency)) await start(ctx, dependency);
  if (changes) {
    const next = withStartChanges(c.spec, changes);
    validateStart(next);
    securityOf(next.security);
    wantedPorts(next.ports); // malformed port specs are the request's fault (400), as at create
    const plan = changes.network && networkModeChanged(c.spec, changes.network.mode) ? ctx.network.plan(next) : undefined;
    const mounts = changes.mounts
      ? mergeMountPoints(c.mounts, await planMounts(ctx, { ...next, mounts: givenMounts(changes.mounts) }), next.mounts.tmpfs)
      : c.mounts;
    const id = c.id;
    ctx.store.transaction(() => {
      ctx.store.setSpec(id, next);
      ctx.store.update(id, { mounts: JSON.stringify(mounts) });
      if (plan) ctx.network.replacePlanned(id, plan);
    });
    ctx.changed(c.id);
    c = ctx.store.get(c.id)!;
  }
  await ctx.run(c);
  return true;
}

/**
 * libpod's init: the run prepared up to the runtime's container, its process waiting for `start`
 * (state `initialized`). False when it is not in the created or exited state (nothing to do).
 */
export async function init(ctx: ContainerContext, nameOrId: string): Promise<boolean> {
  const c = ctx.store.resolve(nameOrId);
  if (c.state === 'removing') throw conflict(`container is marked for removal and cannot be started`);
  if (c.state !== 'created' && c.state !== 'exited') return false;
  await run(ctx, c, { initOnly: true });
  return true;
}

/** The start of an initialized container: its waiting process released. */
async function release(ctx: ContainerContext, c: Container): Promise<void> {
  const health = startingHealth(c.spec, c.health);
  ctx.store.update(c.id, { state: 'running', started_at: now(), health: health && JSON.stringify(health) });
  ctx.changed(c.id);
  try {
    await ctx.runtimeOf(c).start(c.id);
  } catch (err) {
    await ctx.deleteRuntimeContainer(c);
    await Promise.all([ctx.rootfs.unmount(c.id), ctx.network.release(c)]);
    await ctx.volumes.release(c).catch(() => undefined);
    ctx.store.update(c.id, { state: 'exited', pid: 0, error: (err as Error).message, exit_code: 128, finished_at: now() });
    ctx.changed(c.id);
    throw err instanceof EngineError ? err : new EngineError('internal', (err as Error).message);
  }
  ctx.record(c, 'start');
}

/** One run of a container: rootfs, spec, conmon, runtime start (with `initOnly`, all but the start). */
export async function run(ctx: ContainerContext, c: Container, o: { initOnly?: boolean } = {}): Promise<void> {
  const runtime = ctx.runtimeOf(c);
  const id = c.id;
  const bundle = ctx.paths.bundle(id);
  await ctx.exiting.get(id);
  // What another process (`berth cleanup`) or a crash left of the last run's network.
  if (c.run_id > 0 && ctx.network.holdsResources(c)) await ctx.network.release(c);
  if (c.run_id > 0) await ctx.deleteRuntimeContainer(c); // a leftover of a previous run
  await rm(ctx.paths.exitFile(id), { force: true });
  try {
    const namespaces = namespacesOfRun(ctx, c);
    const mode = networkMode(c.spec.network.mode).kind;
    const links =
      mode === 'bridge'
        ? liveLinks(
            c,
            (ref) => ctx.store.byName(ref),
            (t) => bridgeIp(ctx.network.store, t),
          )
        : [];
    // On a user network links resolve by DNS (network/attachments.ts), as dockerd's: no /etc/hosts lines to go stale.
    const linkLines = mode === 'user' ? [] : links.map(linkHostsLine);
    // --userns keep-id/nomap/auto, container:<id>, a pod's (rootless): the container's user namespace,
    // which its network namespace is made in (rootless/netns-owner.ts) so that runc can join both.
    const userns = userNamespaceOf(c.spec);
    const owner = userns && (namespaces.userPath ? { join: namespaces.userPath } : { mappings: userns });
    // Addresses, ports and the namespace first (recorded), so a failure below knows what to undo.
    const net = await ctx.network.prepare(c, owner);
    if (net.userns) namespaces.userPath = net.userns;
    crashPoint('start:prepared');
    // Independent steps at once: each is a process or a few syscalls, and `docker run` waits on them.
    const [, etcFiles] = await Promise.all([
      ctx.rootfs.mount(c),
      // container:<id> shares that container's /etc files, as its network.
      'joined' in net && net.joined
        ? etcFilesIn(ctx.paths.bundle(net.joined.id))
        : writeEtcFiles(bundle, c.spec, { ...net, links: linkLines, hostGateway: defaultBridgeGateway(ctx.network.store) }, { bareHostname: !!c.echo.libpod }),
      // The log exists before the container does, so attached clients hold it open from the first byte.
      writeFile(ctx.paths.log(id), '', { flag: 'a' }),
    ]);
    const merged = ctx.paths.merged(id);
    if (c.spec.namespaces.ipc === 'shareable') {
      await mountTmpfs(ctx.paths.shm(id), `nosuid,nodev,noexec,mode=1777,size=${c.spec.resources.shmSize || DEFAULT_SHM_SIZE}`);
      namespaces.shm = { bind: ctx.paths.shm(id) };
    }
    // Option volumes mounted, bind sources made, container-controlled sources pinned (staged).
    const staged = await ctx.volumes.activate(c);
    crashPoint('start:staged');
    await copyUp(ctx, c);
    const p = c.spec.process;
    // --userns keep-id/nomap/auto (rootless): the rootfs is owned as that namespace sees it by its mapped
    // layer (rootfs.ts), which holds keep-id's passwd entry too; a container from before mapped layers
    // (chowned in place) may lack it.
    if (userns) {
      await addKeepIdUser(merged, c.spec);
      await makeTraversable(userns, [
        merged,
        bundle,
        ...c.mounts.map((m) => (m.type === 'volume' && m.name ? ctx.volumes.mountpoint(m.name) : (m.source ?? '/'))),
      ]);
      namespaces.user = userns;
    }
    const user = await resolveUser(merged, p.user ?? '', p.groups ?? [], { primaryGroup: c.echo.libpod ? 'non-root' : 'always' });
    // After the lookup, as podman's: the lines it adds name the user but add it to no group.
    if (c.echo.libpod) {
      await addPodmanUser(merged, p.user, p.workdir);
      for (const m of c.mounts) {
        if (m.type !== 'volume' || !m.name || !ctx.volumes.claimChown(m.name)) continue;
        await giveFirstOwner({ rootfs: merged, destination: m.destination, mountpoint: ctx.volumes.mountpoint(m.name), user, userns });
      }
    }
    for (const destination of c.spec.mounts.chownToUser ?? []) {
      const m = c.mounts.find((point) => point.destination === destination);
      const source = m?.type === 'volume' ? ctx.volumes.mountpoint(m.name!) : m?.source;
      if (source) await chownTree(source, user.uid, user.gid);
    }
    // Links' variables first; the container's own replace them (moby's ReplaceOrAppendEnvValues).
    const own = new Set(p.env.map((e) => e.split('=')[0]));
    const env = [...links.flatMap((l) => linkEnv(c.name, l)).filter((e) => !own.has(e.split('=')[0])), ...p.env];
    if (c.spec.network.mode !== 'host' && !env.some((e) => e.startsWith('HOSTNAME='))) env.push(`HOSTNAME=${c.spec.network.hostname}`);
    if (p.tty && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm');
    if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home || '/'}`);
    // Secrets as variables replace the container's own of those names (secrets/container.ts).
    const secrets = await containerSecrets(ctx, c);
    const fromSecrets = new Set(secrets.env.map((e) => e.split('=')[0]));
    if (p.workdir) makeWorkingDir(merged, p.workdir);
    const spec = buildSpec({
      id,
      spec: c.spec,
      env: [...env.filter((e) => !fromSecrets.has(e.split('=')[0])), ...secrets.env],
      rootfs: merged,
      user,
      etcFiles,
      initBinary: ctx.options.initBinary,
      nofileLimit: ctx.options.nofileLimit,
      // Rootless: the delegated cgroup's, or none (rootless/cgroups.ts); limits it cannot hold left out.
      cgroupsPath: rootless() ? await rootlessCgroupPath(id) : `/${containerCgroup(id, c.spec.cgroupParent)}`,
      resources: rootless() ? allowedLimits(c.spec.resources, await rootlessCgroups()).resources : undefined,
      volumePath: ctx.volumes.mountpoint,
      staged,
      mounts: c.mounts,
      extraMounts: [...secrets.mounts, ...(await prepareOverlays(bundle, c.spec.overlays))],
      network: { host: net.hostNetwork, netns: 'netns' in net ? net.netns : undefined },
      namespaces,
    });
    await writeFile(`${bundle}/config.json`, JSON.stringify(spec));
    const limits = logLimitsOf(c.spec.log);
    // One file: conmon bounds it. Several: the engine rotates (log-rotation.ts).
    const logSizeMax = limits.maxFile <= 1 ? limits.maxSize : undefined;
    // netavark's setup runs beside conmon's `runc create`: the process waits for `runc start`.
    const networkSetup = ctx.network.setup(c);
    const conmon = startConmon({
      id,
      uuid: id.slice(0, 12),
      persistDir: bundle,
      name: c.name,
      bundle,
      runtimePath: runtime.path,
      runtimeRoot: runtime.stateRoot,
      exitDir: ctx.paths.exitDir(),
      logPath: ctx.paths.log(id),
      logSizeMax,
      socketDir: ctx.paths.socketDir(),
      conmonPidFile: ctx.paths.conmonPid(id),
      stdin: p.stdin,
      leaveStdinOpen: p.stdin && !p.stdinOnce,
      tty: p.tty,
      exitCommand: [...ctx.options.exitCommand, id],
    });
    const [pid] = await allOrFirstError([conmon, networkSetup]);
    await ctx.volumes.unstage(id); // runc has mounted them in the container's namespace
    ctx.record(c, 'init'); // libpod's: the container exists in the runtime, its process not yet released (hidden from Docker)
    crashPoint('start:created');
    // Each run's health starts over (the probe log stays), as dockerd's; the monitor (health.ts) follows.
    const health = o.initOnly ? c.health : startingHealth(c.spec, c.health);
    ctx.store.update(id, {
      state: o.initOnly ? 'initialized' : 'running',
      pid,
      started_at: o.initOnly ? c.started_at : now(),
      error: '',
      exit_code: 0,
      stopped_by_user: 0,
      run_id: c.run_id + 1,
      oom_killed: 0,
      health: health && JSON.stringify(health),
    });
    ctx.changed(id);
    crashPoint('start:recorded');
    if (o.initOnly) return; // its `init` is recorded above, once
    await runtime.start(id);
    ctx.record(c, 'start');
  } catch (err) {
    const message = (err as Error).message;
    await ctx.deleteRuntimeContainer(c);
    await Promise.all([ctx.rootfs.unmount(id), ctx.network.release(c)]);
    await ctx.volumes.release(c).catch(() => undefined);
    const exitCode = /no such file or directory|not found/i.test(message) ? 127 : /permission denied/i.test(message) ? 126 : 128;
    ctx.store.update(id, {
      state: c.run_id > 0 ? 'exited' : 'created',
      pid: 0,
      error: message,
      exit_code: exitCode,
      finished_at: c.run_id > 0 ? now() : null,
      health: c.health && JSON.stringify(c.health), // a run that never started has no health of its own
    });
    ctx.changed(id);
    // A container that cannot start has ended: --rm removes it (the CLI waits for condition=removed).
    if (c.spec.restart.autoRemove) await ctx.removeFiles(ctx.store.get(id)!).catch(() => undefined);
    throw err instanceof EngineError ? err : new EngineError('internal', message);
  }
}

/** `:U`: the tree under a mount's source owned by the container's user (links themselves, not their targets). */
async function chownTree(path: string, uid: number, gid: number): Promise<void> {
  await lchown(path, uid, gid);
  const entries = await readdir(path, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const child = join(path, e.name);
    if (e.isDirectory()) await chownTree(child, uid, gid);
    else await lchown(child, uid, gid);
  }
}

/** Deletes the runtime's container and waits for its conmon, which must not report into the next run. */
export async function deleteRuntimeContainer(ctx: ContainerContext, c: Container): Promise<void> {
  await ctx.runtimeOf(c).delete(c.id);
  await awaitConmonGone(c.id, ctx.paths.conmonPid(c.id));
}

/** The PID/IPC/UTS (and user) namespaces a run joins: those of the containers its modes name, running. */
function namespacesOfRun(ctx: ContainerContext, c: Container): Namespaces {
  return namespacesOf(
    c.spec.namespaces,
    (id) => {
      const d = ctx.store.get(id);
      if (!d) throw notFound(`No such container: ${id}`);
      return { id: d.id, pid: d.pid, running: d.state === 'running' || d.state === 'paused', ipcMode: d.spec.namespaces.ipc, shm: ctx.paths.shm(d.id) };
    },
    c.id,
  );
}

/**
 * A volume still empty when first mounted over a directory of the image gets that directory's
 * content (owners, modes and all), as dockerd does — unless the mount said nocopy.
 */
async function copyUp(ctx: ContainerContext, c: Container): Promise<void> {
  for (const m of c.mounts) {
    if (m.type !== 'volume' || m.noCopy || !m.name) continue;
    // Both sides are containers' (another one may share the volume): copied by descriptors (copy-up.ts).
    await copyVolumeUp(ctx.paths.merged(c.id), m.destination, ctx.volumes.mountpoint(m.name));
  }
}

/** A container's secrets as files to bind and variables (secrets/container.ts). */
async function containerSecrets(ctx: ContainerContext, c: Container) {
  const wanted = c.spec.secrets ?? [];
  if (wanted.length && !ctx.options.secrets) throw new EngineError('internal', 'secrets are not available');
  return ctx.options.secrets ? materializeSecrets(ctx.options.secrets, ctx.paths.bundle(c.id), wanted) : { env: [], mounts: [] };
}

/** Awaits every promise; rejects with the first failure only after all have settled (nothing left running). */
async function allOrFirstError<A, B>(promises: [Promise<A>, Promise<B> | undefined]): Promise<[A, B | undefined]> {
  const [a, b] = await Promise.allSettled(promises);
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') throw b.reason;
  return [a.value, b.value];
}
