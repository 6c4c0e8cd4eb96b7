// `--userns` for a rootless engine, as podman 4.3 rootless does it. The engine runs in its pause user
// namespace as uid 0 = the user, 1..N = the user's subuid range (runtime/rootless/pause.ts); the IDs
// below are that namespace's ("ns IDs"), which is what runc (inside it too) writes into the
// container's uid_map.
//   host (also ''):  no user namespace of its own: container root is the user (podman's rootless default)
//   keep-id[:uid=U,gid=G]: container U is the user (ns 0), 0..U-1 are ns 1..U, the rest 1:1 after it;
//                    the process runs as U:G and /etc/passwd gains the user's entry
//   nomap:           container 0..N-1 are ns 1..N: the user is not in the container at all
//   auto[:size=S]:   a slice of S (1024) ns IDs of its own, not shared with another existing container
//   container:<id>:  that container's user namespace, joined (runc gets /proc/<pid>/ns/user): its
//                    mappings, recorded at create (a pod's members join their infra container's so)
// A container in its own user namespace sees the image's files through that mapping: a mapped copy of
// the image's layers is made for it once (mapped-layer.ts), as podman's storage makes one (idmapped
// mounts need runc 1.2 and a kernel-owned filesystem).
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { chmod, lstat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EngineError, invalid } from '../errors.js';
import { openForRead, withInRoot, type RootedFd } from '../util/in-root.js';
import { type IdMapping, nsMax, outsideIds } from './idmap.js';
import { rootless } from './mode.js';
import { type IdRange, autoMapping, autoSpan, claimRange, isIdRange } from './userns-slices.js';

/** A container's own user namespace: its mappings (ns IDs on the host side). */
export interface UserNamespace {
  uidMappings: IdMapping[];
  gidMappings: IdMapping[];
}

/** A parsed --userns value. */
export type UsernsMode =
  | { kind: 'host' }
  | { kind: 'keep-id'; uid?: number; gid?: number }
  | { kind: 'nomap' }
  | { kind: 'auto'; size?: number; uidMappings?: IdMapping[]; gidMappings?: IdMapping[] }
  | { kind: 'private' }
  | { kind: 'container'; ref: string }
  | { kind: 'ns'; path: string };

/** podman's default size of an `auto` namespace (containers.conf has no other here). */
export const AUTO_SIZE = 1024;

// podman reports a bad number with Go's strconv text.
function parseCount(text: string): number {
  if (!/^\d+$/.test(text)) throw invalid(`strconv.ParseUint: parsing "${text}": invalid syntax`);
  return Number(text);
}

/** `key=value,...` options after `mode:`; unknown keys are podman's error; a key given twice keeps the last. */
function options(text: string, known: string[]): Map<string, string> {
  return new Map([...optionList(text, known)].map(([k, v]) => [k, v.at(-1)!]));
}

/** Every value of each key (auto's uidmapping= and gidmapping= may be repeated). */
function optionList(text: string, known: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of text.split(',')) {
    const [key = '', ...rest] = part.split('=');
    if (!known.includes(key)) throw invalid(`unknown option specified: "${key}"`);
    out.set(key, [...(out.get(key) ?? []), rest.join('=')]);
  }
  return out;
}

/** `uidmapping=C:H:N` (H an ns ID: 0 is the user), in containers/storage's words when malformed. */
function idRun(kind: 'UID' | 'GID', text: string): IdMapping {
  const f = text.split(':');
  if (f.length !== 3 || !f.every((x) => /^\d+$/.test(x)))
    throw invalid(
      `failed to create ParseUIDMap ${kind}=[${text}]: initializing ID mappings: ${kind} setting is malformed expected ["uint32:uint32:uint32"]: ["${text}"]`,
    );
  const [containerID, hostID, size] = f.map(Number) as [number, number, number];
  return { containerID, hostID, size };
}

/** A --userns value (podman's ParseUserNamespace); '' is host. */
export function parseUserns(text: string): UsernsMode {
  const colon = text.indexOf(':');
  const mode = colon < 0 ? text : text.slice(0, colon);
  const rest = colon < 0 ? undefined : text.slice(colon + 1);
  switch (mode) {
    case '':
    case 'host':
      return { kind: 'host' };
    case 'private':
      return { kind: 'private' };
    case 'nomap':
      return { kind: 'nomap' };
    case 'keep-id': {
      if (rest === undefined) return { kind: 'keep-id' };
      const o = options(rest, ['uid', 'gid']);
      const uid = o.get('uid');
      const gid = o.get('gid');
      return { kind: 'keep-id', ...(uid !== undefined && { uid: parseCount(uid) }), ...(gid !== undefined && { gid: parseCount(gid) }) };
    }
    case 'auto': {
      if (rest === undefined) return { kind: 'auto' };
      const o = optionList(rest, ['size', 'uidmapping', 'gidmapping']);
      const size = o.get('size')?.at(-1);
      const uids = (o.get('uidmapping') ?? []).map((t) => idRun('UID', t));
      const gids = (o.get('gidmapping') ?? []).map((t) => idRun('GID', t));
      return {
        kind: 'auto',
        ...(size !== undefined && { size: parseCount(size) }),
        ...(uids.length && { uidMappings: uids }),
        ...(gids.length && { gidMappings: gids }),
      };
    }
    case 'container':
      if (rest) return { kind: 'container', ref: rest };
      break;
    case 'ns':
      if (rest) return { kind: 'ns', path: rest };
  }
  throw invalid(`unrecognized namespace mode ${text} passed`);
}

/** What a create needs of the container a `container:<ref>` mode names. */
export interface UsernsTarget {
  id: string;
  spec: { namespaces: { user?: string }; userRange?: IdRange; joinedUserns?: UserNamespace };
}

/**
 * Checks a create's --userns and completes it: keep-id's process user when none was asked (podman sets
 * it at create, so exec and inspect see it too); container:<ref>'s target by its full ID, and its
 * mappings (the rootfs is owned as they map it). `target` looks the named container up (its not-found
 * error becomes podman's). A rootful engine keeps running every container in the host's user namespace (host,
 * private and '' alike, as before) and refuses the rootless-only modes in podman's words.
 */
export function completeUserns(
  spec: { namespaces: { user?: string }; process: { user?: string }; joinedUserns?: UserNamespace },
  target?: (ref: string) => UsernsTarget,
): void {
  // A create's own (a clone's copy of another container's spec) never counts: it is the target's, now.
  delete spec.joinedUserns;
  const text = spec.namespaces.user ?? '';
  const mode = parseUserns(text);
  if (!rootless()) {
    if (mode.kind === 'keep-id' || mode.kind === 'nomap') throw invalid(`${mode.kind} is only supported in rootless mode`);
    if (mode.kind === 'auto' || mode.kind === 'container' || mode.kind === 'ns') throw invalid(`user namespace mode ${text} is not supported by berth`);
    return;
  }
  if (mode.kind === 'private') throw invalid('must provide at least one UID or GID mapping to configure a user namespace');
  if (mode.kind === 'ns') throw invalid(`user namespace mode ${text} is not supported by berth`);
  if (mode.kind === 'container') {
    let found: UsernsTarget | undefined;
    try {
      found = target?.(mode.ref);
    } catch (err) {
      if (!(err instanceof EngineError && err.kind === 'not-found')) throw err;
    }
    if (!found)
      throw new EngineError(
        'not-found',
        `looking up container to share user namespace with: no container with name or ID "${mode.ref}" found: no such container`,
      );
    spec.namespaces.user = `container:${found.id}`;
    // A target in the engine's own namespace (host) has none to join: the container runs there too.
    const joined = userNamespaceOf(found.spec);
    if (joined) spec.joinedUserns = joined;
  }
  if (mode.kind === 'keep-id' && !spec.process.user) {
    const self = outsideIds();
    spec.process.user = `${mode.uid ?? self.uid}:${mode.gid ?? self.gid}`;
  }
}

function keepIdMap(id: number, max: number): IdMapping[] {
  const out: IdMapping[] = [
    { containerID: 0, hostID: 1, size: Math.min(id, max) },
    { containerID: id, hostID: 0, size: 1 },
  ];
  if (max > id) out.push({ containerID: id + 1, hostID: id + 1, size: max - id });
  return out.filter((m) => m.size > 0);
}

/**
 * auto's slice, claimed at create from what existing containers hold (`held`): called where the row is
 * inserted, in the same synchronous step, so two creates cannot draw the same slice. Other modes: none.
 */
export function claimUserRange(spec: { namespaces: { user?: string }; userRange?: IdRange }, held: () => { userRange?: IdRange }[]): void {
  // A create's own (a clone's copy of another container's spec) never counts: every container draws its own.
  delete spec.userRange;
  if (!rootless()) return;
  const mode = parseUserns(spec.namespaces.user ?? '');
  if (mode.kind !== 'auto') return;
  const taken = held()
    .map((s) => s.userRange)
    .filter(isIdRange);
  const size = mode.size ?? AUTO_SIZE;
  const max = Math.min(nsMax('uid'), nsMax('gid'));
  // An extra run's ns IDs must exist (podman's storage fails its chown otherwise).
  for (const [kind, run] of [...(mode.uidMappings ?? []).map((m) => ['UID', m] as const), ...(mode.gidMappings ?? []).map((m) => ['GID', m] as const)])
    if (run.hostID + run.size - 1 > max)
      throw new EngineError(
        'internal',
        `creating container storage: potentially insufficient UIDs or GIDs available in user namespace (requested ${run.hostID}:${run.size} for ${kind}): Check /etc/subuid and /etc/subgid if configured locally`,
      );
  // More than the namespace holds can never fit (and must not cost a walk of every ID).
  if (size > max) throw new EngineError('internal', 'creating container storage: could not find enough available IDs');
  // The slice spans what the container IDs outside the extra runs take, less the ns IDs those runs hold.
  const span = (start: number) => Math.max(autoSpan(start, size, mode.uidMappings ?? []), autoSpan(start, size, mode.gidMappings ?? []));
  let range = claimRange(taken, span(1), max);
  for (let i = 0; i < 8 && range && range.size < span(range.start); i++) range = claimRange(taken, span(range.start), max);
  if (!range) throw new EngineError('internal', 'creating container storage: could not find enough available IDs');
  spec.userRange = range;
}

/** The user namespace a container runs in, or undefined for the engine's own (host, and rootful engines). */
export function userNamespaceOf(spec: { namespaces: { user?: string }; userRange?: IdRange; joinedUserns?: UserNamespace }): UserNamespace | undefined {
  if (!rootless()) return undefined;
  const mode = parseUserns(spec.namespaces.user ?? '');
  const self = outsideIds();
  switch (mode.kind) {
    case 'keep-id':
      return {
        uidMappings: keepIdMap(mode.uid ?? self.uid, nsMax('uid')),
        gidMappings: keepIdMap(mode.gid ?? self.gid, nsMax('gid')),
      };
    case 'nomap':
      return {
        uidMappings: [{ containerID: 0, hostID: 1, size: nsMax('uid') }],
        gidMappings: [{ containerID: 0, hostID: 1, size: nsMax('gid') }],
      };
    case 'auto': {
      const r = spec.userRange;
      if (!r) throw new EngineError('internal', 'creating container storage: could not find enough available IDs');
      const size = mode.size ?? AUTO_SIZE;
      return { uidMappings: autoMapping(r, size, mode.uidMappings ?? []), gidMappings: autoMapping(r, size, mode.gidMappings ?? []) };
    }
    case 'container':
      return spec.joinedUserns;
    default:
      return undefined;
  }
}

/** A container ID through a mapping (undefined: not mapped). */
export function toNs(id: number, map: IdMapping[]): number | undefined {
  const m = map.find((l) => id >= l.containerID && id < l.containerID + l.size);
  return m ? m.hostID + (id - m.containerID) : undefined;
}

/** Whether a mapping leaves out ns 0, the user: the container's root then has no rights over the user's 0700 directories. */
export const mapsUser = (ns: UserNamespace): boolean =>
  toNs(
    0,
    ns.uidMappings.map((m) => ({ ...m, containerID: m.hostID, hostID: m.containerID })),
  ) !== undefined;

/**
 * runc mounts the rootfs and the bind sources from inside the container's user namespace: with nomap and
 * auto its root is not the user and must be able to search the way there. As podman does (its storage
 * and /run/user/<uid> become 0711), the user's directories above each path gain --x for group and
 * others; directories that are not the user's (/home, /run/user: nobody here) end the walk.
 */
export async function makeTraversable(ns: UserNamespace, paths: string[]): Promise<void> {
  if (mapsUser(ns)) return;
  const seen = new Set<string>();
  for (const path of paths) {
    for (let dir = dirname(path); dir !== '/' && !seen.has(dir); dir = dirname(dir)) {
      seen.add(dir);
      const st = await lstat(dir).catch(() => undefined);
      if (!st?.isDirectory() || st.uid !== 0) break;
      if ((st.mode & 0o011) !== 0o011) await chmod(dir, (st.mode & 0o7777) | 0o011);
    }
  }
}

/** The user's name in the host's passwd (the engine shares its files), for keep-id's entry. */
function hostUserName(uid: number): string {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((l) => l.split(':'))
    .find((f) => f[2] === String(uid));
  return line?.[0] || String(uid);
}

/** Appends `line` to a file of the rootfs (resolved inside it) unless a line already has `field` at index `at`. */
export async function addEntry(rootfs: string, path: string, at: number, field: string, line: string): Promise<void> {
  await withInRoot(
    rootfs,
    path,
    (fd: RootedFd) => {
      if (!fd.stat().isFile()) return;
      const readFd = openForRead(fd);
      let text: string;
      try {
        text = readFileSync(readFd, 'utf8');
      } finally {
        closeSync(readFd);
      }
      if (text.split('\n').some((l) => l.split(':')[at] === field)) return;
      const out = openSync(fd.self, 'a');
      try {
        writeSync(out, `${text && !text.endsWith('\n') ? '\n' : ''}${line}\n`);
      } finally {
        closeSync(out);
      }
    },
    { followLast: true },
  ).catch(() => undefined); // an image without /etc/passwd gets none, as podman's
}

/**
 * keep-id's /etc/passwd and /etc/group lines, as podman adds them when the image has none for the uid:
 * `name:*:uid:gid::<workdir>:/bin/sh` and `name:x:gid:name` for the user's own IDs; keep-id:uid=
 * gets podman's generic `uid:*:uid:gid:container user:/:/bin/sh` and `gid:x:gid:uid`.
 */
export async function addKeepIdUser(rootfs: string, spec: { namespaces: { user?: string }; process: { workdir?: string } }): Promise<void> {
  if (!rootless()) return;
  const mode = parseUserns(spec.namespaces.user ?? '');
  if (mode.kind !== 'keep-id') return;
  const self = outsideIds();
  const uid = mode.uid ?? self.uid;
  const gid = mode.gid ?? self.gid;
  if (mode.uid === undefined) {
    const name = hostUserName(self.uid);
    await addEntry(rootfs, 'etc/passwd', 2, String(uid), `${name}:*:${uid}:${gid}::${spec.process.workdir || '/'}:/bin/sh`);
    if (mode.gid === undefined) await addEntry(rootfs, 'etc/group', 2, String(gid), `${name}:x:${gid}:${name}`);
  } else {
    await addEntry(rootfs, 'etc/passwd', 2, String(uid), `${uid}:*:${uid}:${gid}:container user:/:/bin/sh`);
    await addEntry(rootfs, 'etc/group', 2, String(gid), `${gid}:x:${gid}:${uid}`);
  }
}
