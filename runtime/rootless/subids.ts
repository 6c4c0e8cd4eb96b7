// The user's subordinate id ranges (/etc/subuid, /etc/subgid), which the pause namespace maps to
// container ids 1..N, as podman does (container uid 0 is the user).
import { readFileSync } from 'node:fs';

export interface IdRange {
  start: number;
  count: number;
}

/** The first range of `user` (by name or numeric uid) in a subid file's text, if any. */
export function firstRange(text: string, user: { name: string; id: number }): IdRange | undefined {
  for (const line of text.split('\n')) {
    const [owner, start, count] = line.trim().split(':');
    if (owner !== user.name && owner !== String(user.id)) continue;
    const range = { start: Number(start), count: Number(count) };
    if (Number.isInteger(range.start) && Number.isInteger(range.count) && range.count > 0) return range;
  }
  return undefined;
}

/** Both ranges, or an error naming the file and the command that fixes it. */
export function subIdRanges(
  user: { name: string; uid: number; gid: number },
  files = { uid: '/etc/subuid', gid: '/etc/subgid' },
): { uid: IdRange; gid: IdRange } {
  const read = (file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  const uid = firstRange(read(files.uid), { name: user.name, id: user.uid });
  const gid = firstRange(read(files.gid), { name: user.name, id: user.gid });
  if (uid && gid) return { uid, gid };
  const file = uid ? files.gid : files.uid;
  throw new Error(
    `user ${user.name} (uid ${user.uid}) has no range in ${file}: rootless containers need subordinate ids. ` +
      `As root run: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${user.name}`,
  );
}
