// Unit files in tests: systemd-analyze verify on a directory of them, and their Exec lines as argv
// (what systemd would run), so a test can run a unit's commands itself, with no systemd as PID 1.
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, type Result } from './engine.js';

const REPO_UNITS = fileURLToPath(new URL('../../systemd/', import.meta.url));

/**
 * `systemd-analyze verify` on `units` (file name → text) written to a fresh directory beside berth's
 * own units (their Requires= names berth.socket) and stubs of `dependencies`. systemd-analyze only warns about unknown keys, so
 * a clean verdict is exit 0 *and* nothing said.
 */
export async function verifyUnits(units: Record<string, string>, o: { dependencies?: string[]; base?: string } = {}): Promise<Result> {
  const base = o.base ?? '/tmp';
  const dir = await mkdtemp(join(base, 'berth-units-'));
  try {
    // (systemd/user/ holds the per-user units: a directory, not one of these)
    for (const f of await readdir(REPO_UNITS, { withFileTypes: true })) if (f.isFile()) await copyFile(join(REPO_UNITS, f.name), join(dir, f.name));
    for (const [name, text] of Object.entries(units)) await writeFile(join(dir, name), text);
    // Units the tested ones name (Requires=, Wants=...) must exist for systemd to load them.
    for (const dep of o.dependencies ?? []) await writeFile(join(dir, dep), '[Unit]\nDescription=a dependency\n[Service]\nType=oneshot\nExecStart=/bin/true\n');
    // --man=no: the Documentation= lines name man pages this host may not have; the units are given
    // by path, so no systemd instance or unit search path is needed.
    return await run('systemd-analyze', ['verify', '--man=no', ...Object.keys(units).map((n) => join(dir, n))], {
      env: { ...process.env, SYSTEMD_LOG_COLOR: '0' },
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The values of `key=` in `text` (continuation lines joined), in order. */
export function unitValues(text: string, key: string): string[] {
  const joined = text.replace(/ *\\\n\t?/g, ' ');
  return joined
    .split('\n')
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));
}

/**
 * An Exec line as the argv systemd runs: its `-` prefix (failure allowed) dropped, words split at
 * blanks, double-quoted words unescaped, then the specifiers `%t` (runtime dir), `%n` (unit name),
 * `%N` (without its suffix), `%i`, `%%` and `$$` resolved.
 */
export function execArgv(line: string, spec: { t: string; n: string; i?: string }): string[] {
  const words = line.replace(/^-/, '').match(/"(?:[^"\\]|\\.)*"|\S+/g) ?? [];
  return words.map((w) => {
    const unquoted = w.startsWith('"') ? (JSON.parse(w) as string) : w;
    const specifiers: Record<string, string> = { '%t': spec.t, '%n': spec.n, '%N': spec.n.replace(/\.[a-z]+$/, ''), '%i': spec.i ?? '', '%%': '%', $$: '$' };
    return unquoted.replace(/%[tnNi%]|\$\$/g, (s) => specifiers[s]!);
  });
}

/**
 * A unit's ExecStart run in the foreground, as systemd runs a Type=exec service, until it prints
 * `marker` (or 10 s pass): what it printed, and its exit code once it ends.
 */
export async function startMain(argv: string[], env: NodeJS.ProcessEnv, marker: string): Promise<{ out: string; exited: Promise<number | null> }> {
  const [cmd, ...args] = argv;
  const main = spawn(cmd!, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  main.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => main.on('exit', (code) => resolve(code)));
  for (let i = 0; i < 100 && !out.includes(marker); i++) await new Promise((r) => setTimeout(r, 100));
  return { out, exited };
}
