// Registry configuration: containers-registries.conf v2 (the file Podman reads) plus Docker's daemon
// knobs (`--insecure-registry`, certs.d). Decides, for a repository, the ordered places to pull from
// (mirrors first, then the registry itself) and whether it is insecure or blocked. For podman's short
// names: the search registries, the short-name mode and the `[aliases]` table, with the drop-ins of
// `registries.conf.d/*.conf` beside the file (Debian ships its aliases there) read after it, in name order.
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parse } from 'smol-toml';
import { invalid } from '../errors.js';

export interface MirrorConfig {
  location: string;
  insecure: boolean;
}

export interface RegistryEntry {
  prefix: string; // what it matches: host[/path]
  location: string; // where it really is (replaces the prefix)
  insecure: boolean;
  blocked: boolean;
  mirrors: MirrorConfig[];
}

export interface RegistriesConf {
  unqualifiedSearchRegistries: string[];
  shortNameMode: 'enforcing' | 'permissive' | 'disabled';
  registries: RegistryEntry[];
  /** Short name → repository (`"alpine" = "docker.io/library/alpine"`), and the file each came from. */
  aliases: Record<string, { target: string; file: string }>;
  /** The main file, as podman names it in short-name errors. */
  path: string;
}

export const EMPTY_CONF: RegistriesConf = {
  unqualifiedSearchRegistries: [],
  shortNameMode: 'permissive',
  registries: [],
  aliases: {},
  path: '/etc/containers/registries.conf',
};

/**
 * Reads a registries.conf and its drop-ins (a drop-in's search registries and mode replace the file's,
 * its aliases and registries add to them); a missing file is an empty configuration, a malformed one an
 * error.
 */
export async function readRegistriesConf(path: string): Promise<RegistriesConf> {
  const dropDir = join(dirname(path), 'registries.conf.d');
  const dropIns = (await readdir(dropDir).catch(() => [] as string[])).filter((f) => f.endsWith('.conf')).sort();
  let conf: RegistriesConf = { ...EMPTY_CONF, path };
  for (const file of [path, ...dropIns.map((f) => join(dropDir, f))]) {
    const one = await readOne(file);
    if (!one) continue;
    conf = {
      unqualifiedSearchRegistries: one.unqualifiedSearchRegistries ?? conf.unqualifiedSearchRegistries,
      shortNameMode: one.shortNameMode ?? conf.shortNameMode,
      registries: [...conf.registries.filter((r) => !one.registries.some((o) => o.prefix === r.prefix)), ...one.registries],
      aliases: { ...conf.aliases, ...one.aliases },
      path,
    };
  }
  return conf;
}

type ConfFile = Pick<RegistriesConf, 'registries' | 'aliases'> & Partial<Pick<RegistriesConf, 'unqualifiedSearchRegistries' | 'shortNameMode'>>;

async function readOne(path: string): Promise<ConfFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (err) {
    throw invalid(`${path}: ${(err as Error).message}`);
  }
  const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
  const registries = (Array.isArray(doc.registry) ? doc.registry : []).map((r: Record<string, unknown>) => {
    const location = String(r.location ?? r.prefix ?? '');
    return {
      prefix: String(r.prefix ?? location),
      location,
      insecure: r.insecure === true,
      blocked: r.blocked === true,
      mirrors: (Array.isArray(r.mirror) ? r.mirror : []).map((m: Record<string, unknown>) => ({
        location: String(m.location ?? ''),
        insecure: m.insecure === true,
      })),
    };
  });
  const mode = doc['short-name-mode'] === undefined ? undefined : String(doc['short-name-mode']);
  const aliases: ConfFile['aliases'] = {};
  const table = doc.aliases;
  if (table && typeof table === 'object' && !Array.isArray(table)) {
    for (const [name, target] of Object.entries(table)) if (typeof target === 'string') aliases[name] = { target, file: path };
  }
  return {
    unqualifiedSearchRegistries: doc['unqualified-search-registries'] === undefined ? undefined : list(doc['unqualified-search-registries']),
    shortNameMode: mode === undefined ? undefined : mode === 'enforcing' || mode === 'disabled' ? mode : 'permissive',
    registries,
    aliases,
  };
}

/** The entry whose prefix matches `domain/path` longest (prefix on a path-component boundary). */
export function entryFor(conf: RegistriesConf, domain: string, path: string): RegistryEntry | undefined {
  const full = `${domain}/${path}`;
  return conf.registries
    .filter((r) => r.prefix && (full === r.prefix || full.startsWith(`${r.prefix}/`) || (!r.prefix.includes('/') && domain === r.prefix)))
    .sort((a, b) => b.prefix.length - a.prefix.length)[0];
}

export interface Source {
  /** host[:port] to connect to. */
  domain: string;
  /** The repository path there. */
  path: string;
  insecure: boolean;
  mirror: boolean;
}

/** Where to pull `domain/path` from, in order: the entry's mirrors, then its location. */
export function pullSources(conf: RegistriesConf, domain: string, path: string): Source[] {
  const entry = entryFor(conf, domain, path);
  if (!entry) return [{ domain, path, insecure: false, mirror: false }];
  if (entry.blocked) throw invalid(`registry ${domain} is blocked in registries.conf`);
  const rest = `${domain}/${path}`.slice(entry.prefix.length).replace(/^\//, '');
  const split = (location: string) => {
    const full = rest ? `${location}/${rest}` : location;
    const i = full.indexOf('/');
    return { domain: full.slice(0, i), path: full.slice(i + 1) };
  };
  return [
    ...entry.mirrors.map((m) => ({ ...split(m.location), insecure: m.insecure, mirror: true })),
    { ...split(entry.location), insecure: entry.insecure, mirror: false },
  ];
}
