// At engine start: the records brought in line with what runs. Containers that ended while no berth
// process was there to see it are handled now; directories without a record (a crash mid-create) go.
import { existsSync } from 'node:fs';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RUNNING, type ContainerContext } from './context.js';

export async function reconcile(ctx: ContainerContext): Promise<void> {
  // Directories without a row: a create or a removal that a crash cut short.
  const known = new Set(ctx.store.all().map((c) => c.id));
  for (const id of await readdir(ctx.paths.containersDir()).catch(() => [] as string[])) {
    if (known.has(id)) continue;
    process.stderr.write(`berth: removing container directory ${ctx.paths.dir(id)}: the state DB has no record of it\n`);
    for (const runtime of ctx.options.runtimes.values()) await runtime.delete(id);
    await ctx.rootfs.unmount(id);
    await rm(ctx.paths.dir(id), { recursive: true, force: true });
  }
  // Attach socket links whose container is gone.
  for (const name of await readdir(ctx.paths.socketDir()).catch(() => [] as string[])) {
    const link = join(ctx.paths.socketDir(), name);
    if (!existsSync(link)) await rm(link, { force: true });
  }
  for (const c of ctx.store.all()) {
    if (c.state === 'removing') {
      await ctx.removeFiles(c);
      continue;
    }
    if (!RUNNING.has(c.state)) {
      // A start or an exit cut short: a created runtime container (and its conmon), the rootfs mount,
      // addresses, ports or a namespace may be left.
      if (ctx.runtimeOf(c).knows(c.id)) await ctx.deleteRuntimeContainer(c);
      await ctx.rootfs.unmount(c.id);
      if (ctx.network.holdsResources(c)) await ctx.network.release(c);
      // An initialized container's runtime half is gone with the engine: it is created again.
      if (c.state === 'initialized') ctx.store.update(c.id, { state: 'created', pid: 0 });
      continue;
    }
    const state = await ctx.runtimeOf(c).state(c.id);
    if (state?.status === 'paused' && c.state !== 'paused') {
      // Frozen, but nobody paused it (the DB would say so): a commit or a pause cut short by a crash.
      process.stderr.write(`berth: container ${c.id} was left frozen (paused by a commit or pause cut short): resuming it\n`);
      await ctx
        .runtimeOf(c)
        .resume(c.id)
        .catch((err: Error) => process.stderr.write(`berth: resuming ${c.id}: ${err.message}\n`));
      continue;
    }
    if (state?.status === 'running' && c.state === 'paused') {
      ctx.store.update(c.id, { state: 'running' }); // an unpause cut short between the runtime and the record
      continue;
    }
    if (state?.status === 'created') {
      // Recorded as started, but the engine died before `runc start`: it never ran; it ended.
      await ctx.deleteRuntimeContainer(c);
      await writeFile(ctx.paths.exitFile(c.id), '255').catch(() => undefined);
    } else if (state && state.status !== 'stopped') continue;
    if (c.state === 'restarting') ctx.store.update(c.id, { state: 'running' });
    if (!existsSync(ctx.paths.exitFile(c.id))) {
      // The runtime lost it (run root reset, host reboot): it ended without an exit code.
      await writeFile(ctx.paths.exitFile(c.id), '255').catch(() => undefined);
    }
    await ctx.handleExit(c.id);
  }
}
