#!/usr/bin/env node
// `berth serve`: start the engine on a Unix socket (or the one systemd passes) and serve the API.
import { parseArgs } from 'node:util';
import { readRegistriesConf } from '../runtime/registry/config.js';
import { writeFile, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Socket } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Engine } from '../runtime/engine.js';
import { buildApp } from './app.js';
import { activationFd, listen, notifyReady, prepareSocketPath, secureSocket, watchIdle } from './listen.js';
import { BERTH_VERSION } from './versioning.js';
import { parseByteSize } from '../runtime/storage/streams.js';
import { quadletCommand } from '../runtime/systemd/quadlet-command.js';
import { collectWhenIdle } from '../runtime/util/idle-gc.js';
import type * as ConsoleModule from './console/server.js';
import { launcherCommand } from '../runtime/rootless/launch.js';
import { rootless } from '../runtime/rootless/mode.js';

const USAGE = `Usage: berth serve [--socket PATH] [--root DIR] [--run-root DIR] [--runtime runc|crun] [--idle-exit SECONDS]
                   [--max-layer-size SIZE] [--insecure-registry HOST]... [--certs-dir DIR]
                   [--registries-conf FILE] [--console [HOST:]PORT] [--log] [--accept-empty-db]
       berth quadlet [--dry-run] [-o DIR] [SOURCE...]   (Quadlet files → systemd units; --help)
       berth unshare [--root DIR] [--run-root DIR] [--] [COMMAND...]   (rootless: run COMMAND as uid 0 of
                   the engine's user namespace, e.g. to chown files into the container's ids)

  --socket     API socket (env BERTH_SOCKET, default /run/berth/berth.sock;
               rootless: $XDG_RUNTIME_DIR/berth/berth.sock)
  --root       persistent state (env BERTH_ROOT, default /var/lib/berth; rootless: ~/.local/share/berth)
  --run-root   runtime state (env BERTH_RUN_ROOT, default /run/berth; rootless: $XDG_RUNTIME_DIR/berth)
  --runtime    default OCI runtime (env BERTH_RUNTIME, default runc)
  --idle-exit  exit after this many seconds without a connection (for socket activation)
  --max-layer-size  the most a layer, an import or a build context may expand to, e.g. 512MiB
               (env BERTH_MAX_LAYER_SIZE, default 64GiB)
  --insecure-registry  a registry host[:port] reached over plain HTTP or unverified TLS;
               repeatable
  --certs-dir  TLS material per registry, <dir>/<host:port>/{ca.crt,client.cert,client.key}
               (env BERTH_CERTS_DIR, default /etc/docker/certs.d; rootless: ~/.config/docker/certs.d
               where it exists)
  --registries-conf  containers-registries.conf v2: mirrors, insecure and blocked registries
               (env BERTH_REGISTRIES_CONF, default /etc/containers/registries.conf; rootless:
               ~/.config/containers/registries.conf where it exists)
  --console    serve the web console on HOST:PORT (env BERTH_CONSOLE; off by default; HOST defaults
               to 127.0.0.1, port 0 takes a free one). Its token is written to <run-root>/console-token
               and the URL with it printed once on stderr
  --log        log requests to stderr
  --accept-empty-db  start even though the state DB is missing or empty over a root that holds layers or
               containers, which are then discarded (env BERTH_ACCEPT_EMPTY_DB=1; refused without it)
`;

const SHUTDOWN_GRACE_MS = 10_000;

async function serve(argv: string[]): Promise<void> {
  // A promise nobody awaited must not take the API down (containers would run on, unmanaged): log it.
  process.on('unhandledRejection', (err) => process.stderr.write(`berth: unhandled rejection: ${(err as Error)?.stack ?? String(err)}\n`));
  const { values } = parseArgs({
    args: argv,
    options: {
      socket: { type: 'string', default: process.env.BERTH_SOCKET || '/run/berth/berth.sock' },
      root: { type: 'string', default: process.env.BERTH_ROOT || '/var/lib/berth' },
      'run-root': { type: 'string', default: process.env.BERTH_RUN_ROOT || '/run/berth' },
      runtime: { type: 'string', default: process.env.BERTH_RUNTIME || 'runc' },
      'idle-exit': { type: 'string' },
      log: { type: 'boolean', default: false },
      'accept-empty-db': { type: 'boolean', default: process.env.BERTH_ACCEPT_EMPTY_DB === '1' },
      // Registries: Docker's daemon flag, its certs.d, and Podman's registries.conf.
      'insecure-registry': { type: 'string', multiple: true, default: [] },
      'certs-dir': { type: 'string', default: process.env.BERTH_CERTS_DIR || '/etc/docker/certs.d' },
      'registries-conf': { type: 'string', default: process.env.BERTH_REGISTRIES_CONF || '/etc/containers/registries.conf' },
      'max-layer-size': { type: 'string', default: process.env.BERTH_MAX_LAYER_SIZE || '64GiB' },
      console: { type: 'string', default: process.env.BERTH_CONSOLE || undefined },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const maxLayerSize = parseByteSize(values['max-layer-size']);
  // The console's code is loaded only when asked for: without the flag it costs the engine nothing.
  const consoleModule = values.console === undefined ? undefined : loadConsole();
  const consoleAddress = values.console === undefined ? undefined : consoleModule?.parseConsoleAddress(values.console);
  const fd = activationFd();
  // Refuse a live socket before touching the state: a second engine must not disturb the first.
  if (fd === undefined) await prepareSocketPath(values.socket);
  const engine = await Engine.open({
    root: values.root,
    runRoot: values['run-root'],
    defaultRuntime: values.runtime,
    exitCommand: cleanupCommand(values.root, values['run-root']),
    acceptEmptyDb: values['accept-empty-db'],
    registry: { insecure: values['insecure-registry'], certsDir: values['certs-dir'], conf: await readRegistriesConf(values['registries-conf']) },
    maxLayerSize,
  });
  const app = await buildApp(engine, { logger: values.log });
  await app.ready();
  if (fd !== undefined) {
    await listen(app.server, { fd });
  } else {
    // The socket is born 0660 (no moment where others could connect); then its group is set.
    const umask = process.umask(0o117);
    try {
      await listen(app.server, { path: values.socket });
    } finally {
      process.umask(umask);
    }
    await secureSocket(values.socket, { ownerOnly: rootless() });
  }
  // Every connection, until it closes: shutdown ends the ones left after its grace.
  const sockets = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // After the API listens: the console's requests go to it.
  let consoleServer: ConsoleModule.ConsoleServer | undefined;
  if (consoleModule && consoleAddress) {
    consoleServer = await consoleModule.startConsole({
      address: consoleAddress,
      runRoot: values['run-root'],
      api: app.server,
      staticRoot: fileURLToPath(new URL('../console/', import.meta.url)),
    });
    process.stderr.write(`berth: console at ${consoleServer.url}\n`);
  }
  const stopWatchingExits = engine.containers.watchExits();
  // After reconcile (in Engine.open): running containers' healthchecks resume.
  const stopHealthchecks = engine.health.start();
  // What start-up and bursts of work grew goes back once the engine is quiet (runtime/util/idle-gc.ts).
  const stopIdleGc = collectWhenIdle({ since: 0 });
  const pidFile = join(values['run-root'], 'berth.pid');
  await writeFile(pidFile, `${process.pid}\n`);

  let stopping = false;
  const stop = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`berth: ${reason}, shutting down\n`);
    // Stop accepting, let requests in flight finish (bounded), then close the DB cleanly. Past the
    // grace every socket goes, hijacked and upgraded ones too (the HTTP server no longer tracks them):
    // an attach whose client stopped reading must not hold the engine up. The console goes at once: its
    // followed streams would only hold the grace up, and its token stops being valid.
    await consoleServer?.close().catch((err: Error) => process.stderr.write(`berth: closing the console: ${err.message}\n`));
    const closed = app.close();
    const graceOver = new Promise<void>((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref());
    await Promise.race([closed, graceOver]);
    app.server.closeAllConnections();
    for (const socket of sockets) socket.destroy();
    await Promise.race([closed, new Promise<void>((resolve) => setTimeout(resolve, 1_000).unref())]);
    try {
      stopWatchingExits();
      stopIdleGc();
      await stopHealthchecks(); // probes in flight are killed: none writes to a closed DB
      engine.close();
      await rm(pidFile, { force: true });
    } catch (err) {
      // Said, not thrown: a rejection here would end the process without a word.
      process.stderr.write(`berth: shutting down: ${(err as Error).message}\n`);
      process.exit(1);
    }
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  const idle = values['idle-exit'];
  // Not while containers are health-checked: no probe runs without an engine.
  if (idle !== undefined)
    watchIdle(
      app.server,
      Number(idle),
      () => void stop(`idle for ${idle}s`),
      () => engine.health.active(),
    );
  process.stderr.write(`berth ${BERTH_VERSION} serving on ${fd !== undefined ? `fd ${fd} (socket activation)` : values.socket}\n`);
  await notifyReady();
}

/**
 * The console's server, from dist/server/console.cjs (scripts/bundle.mjs bundles it apart from the
 * engine): required, not imported, so nothing of it is loaded or even parsed unless --console is given.
 */
function loadConsole(): typeof ConsoleModule {
  return createRequire(import.meta.url)('./console.cjs') as typeof ConsoleModule;
}

/**
 * The command conmon runs when a container exits, so exits are handled even with no API server up.
 * While the server runs it handles exits itself (it watches the exit dir), so the command checks the
 * server's pid file first and starts Node only when nobody is there: 50 containers stopping at once
 * then cost 50 `sh` starts, not 50 Node starts.
 */
function cleanupCommand(root: string, runRoot: string): string[] {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const pidFile = join(runRoot, 'berth.pid');
  const script =
    // `read`, a builtin, not $(cat …): no process besides the shell's own on every container exit.
    `pid=; { read -r pid < ${q(pidFile)}; } 2>/dev/null; [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && exit 0; ` +
    // Rootless: the command runs inside the pause namespace (conmon is born there), as uid 0 of it.
    `${rootless() ? 'export BERTH_ROOTLESS=1; ' : ''}exec ${q(process.execPath)} ${q(process.argv[1]!)} cleanup --root ${q(root)} --run-root ${q(runRoot)} "$1"`;
  return ['/bin/sh', '-c', script, 'berth-cleanup'];
}

/** `berth cleanup ID`: record a container's exit, release its rootfs, apply --rm or its restart policy. */
async function cleanup(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      root: { type: 'string', default: process.env.BERTH_ROOT || '/var/lib/berth' },
      'run-root': { type: 'string', default: process.env.BERTH_RUN_ROOT || '/run/berth' },
    },
  });
  const id = positionals[0];
  if (!id) throw new Error('usage: berth cleanup [--root DIR] [--run-root DIR] CONTAINER-ID');
  const engine = await Engine.open({
    root: values.root,
    runRoot: values['run-root'],
    exitCommand: cleanupCommand(values.root, values['run-root']),
    reconcile: false,
  });
  try {
    await engine.containers.handleExit(id);
  } finally {
    engine.close();
  }
}

// Linked into /usr/lib/systemd/system-generators/ as berth-quadlet-generator, berth is run by systemd
// with the generator's directories as its only arguments.
const asGenerator = basename(process.argv[1] ?? '') === 'berth-quadlet-generator';
const [command, ...rest] = asGenerator ? ['quadlet', '--generator', ...process.argv.slice(2)] : process.argv.slice(2);
const launched = asGenerator ? undefined : launcherCommand(process.argv.slice(2));
if (launched) {
  // A normal user's serve or unshare (when main.ts runs unbundled; the bundle's launcher does it first).
  launched.then((code) => process.exit(code));
} else if (command === 'cleanup') {
  cleanup(rest).then(
    () => process.exit(0),
    (err: Error) => {
      process.stderr.write(`berth cleanup: ${err.message}\n`);
      process.exit(1);
    },
  );
} else if (command === 'unshare') {
  // Only root and an engine's own children get here: a normal user's is runtime/rootless/launch.ts's.
  process.stderr.write(`berth unshare: ${rootless() ? 'already inside the rootless namespace' : 'please use unshare with rootless'}\n`);
  process.exit(125);
} else if (command === 'serve') {
  serve(rest).catch((err: Error) => {
    process.stderr.write(`berth: ${err.message}\n`);
    process.exit(1);
  });
} else if (command === 'quadlet') {
  // Quadlet files → systemd units (also a systemd generator: `berth quadlet --generator DIR...`).
  quadletCommand(
    rest,
    (s) => process.stdout.write(s),
    (s) => process.stderr.write(s),
  ).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`berth quadlet: ${err.message}\n`);
      process.exit(1);
    },
  );
} else if (command === 'version' || command === '--version') {
  process.stdout.write(`berth ${BERTH_VERSION}\n`);
} else {
  process.stdout.write(USAGE);
  process.exit(command === undefined || command === 'help' || command === '--help' ? 0 : 2);
}
