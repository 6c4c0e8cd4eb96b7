// Names added to a running container's aardvark-dns record: legacy links on a user network, which
// dockerd answers through its embedded DNS (so the alias follows the linked container to a new address
// after a restart, where an /etc/hosts line would go stale). aardvark-dns keeps one file per network
// under netavark's config dir: a line of gateways, then `<container id> <ipv4s> <ipv6s> <names>[ ...]`;
// it rereads them on SIGHUP. The caller holds netavark's host lock, as netavark does when it writes them.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Adds `names` to the container's record on the network; true when the file changed and aardvark-dns was told. */
export async function addAardvarkNames(configDir: string, networkName: string, containerId: string, names: string[]): Promise<boolean> {
  const dir = join(configDir, 'aardvark-dns');
  const file = join(dir, networkName);
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return false;
  let changed = false;
  const lines = text.split('\n').map((line) => {
    const fields = line.split(' ');
    if (fields[0] !== containerId || fields.length < 4) return line;
    const have = fields[3]!.split(',').filter(Boolean);
    const added = names.filter((n) => !have.includes(n));
    if (added.length === 0) return line;
    changed = true;
    fields[3] = [...have, ...added].join(',');
    return fields.join(' ');
  });
  if (!changed) return false;
  // Whole or not at all: aardvark-dns may reread it at any moment.
  await writeFile(`${file}.berth-tmp`, lines.join('\n'));
  await rename(`${file}.berth-tmp`, file);
  const pid = Number((await readFile(join(dir, 'aardvark.pid'), 'utf8').catch(() => '')).trim());
  if (!(pid > 0)) return false;
  try {
    process.kill(pid, 'SIGHUP');
  } catch {
    return false; // not running: the next netavark setup starts it with the file as it is now
  }
  return true;
}
