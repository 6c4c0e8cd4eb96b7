// A rootless container in a user namespace of its own (--userns keep-id, nomap, auto, container:<id>, a
// pod's) gets its network namespace made inside that user namespace, as podman makes it. runc joins a
// user namespace before every other, and from inside it a network namespace the engine's namespace owns
// cannot be joined (setns: EPERM): `runc create` could not join a bridge's, nor `runc exec` ever.
// Made here: a process unshares (or enters) the user namespace and unshares a network namespace in it;
// the engine, root of the namespace above, writes the new one's id maps and binds both to files (the
// network namespace at the path netavark sets up, the user namespace pinned for runc to join by path),
// then lets the process go.
import { execFile, spawn } from 'node:child_process';
import { readlink, readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { IdMapping } from './idmap.js';
import type { UserNamespace } from './userns-modes.js';

const run = promisify(execFile);

/** Whose user namespace the network namespace belongs to: a new one with these mappings (pinned at `pin`), or a running one's. */
export type NetnsOwner = { mappings: UserNamespace; pin: string } | { join: string };

const mapText = (map: IdMapping[]) => map.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');

/** Makes the network namespace at `netnsPath` (an existing empty file) inside `owner`'s user namespace. */
export async function netnsInUserns(netnsPath: string, owner: NetnsOwner): Promise<void> {
  const unshare = ['unshare', '--net', '--', 'cat'];
  const argv = 'join' in owner ? ['nsenter', `--user=${owner.join}`, '--', ...unshare] : ['unshare', '--user', ...unshare.slice(1)];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.once('error', () => undefined);
  try {
    const pid = child.pid;
    if (!pid) throw new Error(`${argv[0]}: could not start`);
    const ownNet = await readlink('/proc/self/ns/net');
    // Ready once `cat` runs in a network namespace of its own (unshare and nsenter exec it in place).
    for (let i = 0; ; i++) {
      const [comm, net] = await Promise.all([readFile(`/proc/${pid}/comm`, 'utf8').catch(() => ''), readlink(`/proc/${pid}/ns/net`).catch(() => ownNet)]);
      if (comm.trim() === 'cat' && net !== ownNet) break;
      if (child.exitCode !== null || i >= 2000) throw new Error(`${argv.join(' ')}: ${stderr.trim() || 'did not start'}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    if ('mappings' in owner) {
      // Root of the namespace above may write any ranges it maps, several lines, without setgroups deny.
      await writeFile(`/proc/${pid}/uid_map`, mapText(owner.mappings.uidMappings));
      await writeFile(`/proc/${pid}/gid_map`, mapText(owner.mappings.gidMappings));
      await writeFile(owner.pin, '');
      await bind(`/proc/${pid}/ns/user`, owner.pin);
    }
    await bind(`/proc/${pid}/ns/net`, netnsPath);
  } finally {
    child.stdin!.end();
    child.kill('SIGKILL');
    await exited;
  }
}

async function bind(source: string, target: string): Promise<void> {
  await run('mount', ['-n', '-i', '--no-canonicalize', '--bind', source, target]);
}
