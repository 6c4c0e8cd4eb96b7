// `User` resolved the way Docker does: names and numbers against the image's /etc/passwd and /etc/group.
import { closeSync, readFileSync } from 'node:fs';
import { invalid } from '../errors.js';
import { openForRead, withInRoot } from '../util/in-root.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}
interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

async function readInRoot(rootfs: string, path: string): Promise<string> {
  const fd = await withInRoot(rootfs, path, openForRead);
  try {
    return readFileSync(fd, 'utf8'); // a small regular file
  } finally {
    closeSync(fd);
  }
}

async function readLines(rootfs: string, path: string): Promise<string[][]> {
  // The rootfs is the container's: a symlinked /etc/passwd must not lead out of it, so it is resolved
  // inside the root and read through the descriptor of what was found (util/in-root.ts).
  const text = await readInRoot(rootfs, path).catch(() => '');
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

const passwd = async (rootfs: string): Promise<PasswdEntry[]> =>
  (await readLines(rootfs, 'etc/passwd')).map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '/' }));

const groups = async (rootfs: string): Promise<GroupEntry[]> =>
  (await readLines(rootfs, 'etc/group')).map((f) => ({ name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) }));

const isNumber = (s: string) => /^\d+$/.test(s);

/**
 * Whether the primary group is a supplementary one too: `always` as dockerd; `non-root` as podman's run
 * (`id`: root shows no `groups=`, nobody `groups=65534(nobody)`); `never` as podman's exec.
 */
export type PrimaryGroup = 'always' | 'non-root' | 'never';

/** Resolves `user`, `uid`, `user:group`, `uid:gid` plus extra groups (names or numbers). */
export async function resolveUser(rootfs: string, spec: string, groupAdd: string[] = [], o: { primaryGroup?: PrimaryGroup } = {}): Promise<ResolvedUser> {
  const [userPart = '', groupPart] = (spec || '0').split(':');
  const users = await passwd(rootfs);
  const allGroups = await groups(rootfs);
  let uid: number;
  let gid: number;
  let home = '/';
  let name: string | undefined;
  const entry = users.find((u) => (isNumber(userPart) ? u.uid === Number(userPart) : u.name === userPart));
  if (entry) {
    ({ uid, gid, home, name } = entry);
  } else if (isNumber(userPart)) {
    uid = Number(userPart);
    gid = 0;
  } else {
    throw invalid(`unable to find user ${userPart}: no matching entries in passwd file`);
  }
  if (groupPart !== undefined && groupPart !== '') {
    const group = allGroups.find((g) => (isNumber(groupPart) ? g.gid === Number(groupPart) : g.name === groupPart));
    if (group) gid = group.gid;
    else if (isNumber(groupPart)) gid = Number(groupPart);
    else throw invalid(`unable to find group ${groupPart}: no matching entries in group file`);
  }
  // Supplementary groups, as Docker (libcontainer) sets them: the primary group, those listing the user
  // by name (only when no explicit group was given), then GroupAdd.
  const primary = o.primaryGroup ?? 'always';
  const additional = new Set<number>(primary === 'always' || (primary === 'non-root' && uid !== 0) ? [gid] : []);
  if (name && groupPart === undefined) for (const g of allGroups) if (g.members.includes(name) && g.gid !== gid) additional.add(g.gid);
  for (const extra of groupAdd) {
    const group = allGroups.find((g) => (isNumber(extra) ? g.gid === Number(extra) : g.name === extra));
    if (group) additional.add(group.gid);
    else if (isNumber(extra)) additional.add(Number(extra));
    else throw invalid(`Unable to find group ${extra}: no matching entries in group file`);
  }
  return { uid, gid, additionalGids: [...additional], home };
}
