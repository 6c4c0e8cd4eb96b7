// `berth quadlet`: Quadlet files → units, written to a directory, printed, or — as a systemd
// generator (a link in /usr/lib/systemd/system-generators/) — written at every boot and daemon-reload
// into the generator's output directory, with the [Install] targets' .wants/.requires links that
// `systemctl enable` cannot make for generated units.
import { parseArgs } from 'node:util';
import { mkdir, readdir, readFile, symlink, writeFile, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { convertQuadlets, kindOf, type QuadletSource, type QuadletUnit } from './quadlet.js';

export const QUADLET_USAGE = `Usage: berth quadlet [--dry-run] [-o DIR] [--url URL] [SOURCE...]
       berth quadlet --generator NORMAL-DIR [EARLY-DIR] [LATE-DIR]

Turns Quadlet files (.container, .pod, .kube, .volume, .network; podman 4.4+'s format) into systemd
units whose commands are podman --remote's against berth.

  SOURCE       files or directories (default: /etc/berth/systemd, then /etc/containers/systemd;
               env BERTH_QUADLET_DIRS, colon-separated); the first file of a name wins
  -o DIR       write the units (and their [Install] .wants/.requires links) into DIR
  --dry-run    print the units instead
  --url        the engine's socket (env BERTH_SOCKET as unix://PATH, default unix:///run/berth/berth.sock)
  --generator  run as a systemd generator: write into NORMAL-DIR from the default sources
`;

const DEFAULT_DIRS = ['/etc/berth/systemd', '/etc/containers/systemd'];

async function sources(paths: string[]): Promise<{ found: QuadletSource[]; errors: string[] }> {
  const byName = new Map<string, QuadletSource>();
  const errors: string[] = [];
  const add = async (path: string) => {
    if (byName.has(basename(path))) return;
    byName.set(basename(path), { path, text: await readFile(path, 'utf8') });
  };
  for (const p of paths.map((x) => resolve(x))) {
    const entries = await readdir(p, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => err);
    if (!(entries instanceof Error)) {
      for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) if (!e.isDirectory() && kindOf(e.name)) await add(join(p, e.name));
    } else if (entries.code === 'ENOTDIR') await add(p);
    else if (entries.code !== 'ENOENT') errors.push(`${p}: ${entries.message}`);
  }
  return { found: [...byName.values()], errors };
}

async function writeUnits(dir: string, units: QuadletUnit[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const u of units) {
    await writeFile(join(dir, u.name), u.text);
    for (const [targets, suffix] of [
      [u.wantedBy, 'wants'],
      [u.requiredBy, 'requires'],
    ] as const) {
      for (const target of targets) {
        const linkDir = join(dir, `${target}.${suffix}`);
        await mkdir(linkDir, { recursive: true });
        await rm(join(linkDir, u.name), { force: true });
        await symlink(join('..', u.name), join(linkDir, u.name));
      }
    }
  }
}

/** Runs the subcommand; the exit code (1 when any file failed: the others are still written). */
export async function quadletCommand(argv: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'dry-run': { type: 'boolean', default: false },
      output: { type: 'string', short: 'o' },
      url: { type: 'string', default: process.env.BERTH_SOCKET ? `unix://${process.env.BERTH_SOCKET}` : 'unix:///run/berth/berth.sock' },
      generator: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    out(QUADLET_USAGE);
    return 0;
  }
  const defaults = process.env.BERTH_QUADLET_DIRS ? process.env.BERTH_QUADLET_DIRS.split(':').filter(Boolean) : DEFAULT_DIRS;
  let outputDir = values.output;
  let paths = positionals.length ? positionals : defaults;
  if (values.generator) {
    // systemd runs generators with normal, early and late directories: units go to the normal one.
    if (!positionals[0]) {
      err(QUADLET_USAGE);
      return 2;
    }
    outputDir = positionals[0];
    paths = defaults;
  } else if (!outputDir && !values['dry-run']) {
    err(QUADLET_USAGE);
    return 2;
  }
  const { found, errors: readErrors } = await sources(paths);
  const { units, errors } = convertQuadlets(found, { url: values.url, executable: '/usr/bin/podman' });
  for (const e of [...readErrors, ...errors]) err(`berth quadlet: ${e}\n`);
  if (values['dry-run']) for (const u of units) out(`---${u.name}---\n${u.text}\n`);
  else await writeUnits(outputDir!, units);
  return readErrors.length || errors.length ? 1 : 0;
}
