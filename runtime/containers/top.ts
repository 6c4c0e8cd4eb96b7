// docker top: `ps` on the host, narrowed to the container's processes (the runtime's list of its PIDs).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { conflict, invalid } from '../errors.js';
import type { ContainerService } from './service.js';

const run = promisify(execFile);

export interface TopResult {
  titles: string[];
  processes: string[][];
}

/** `ps` with the client's arguments (`-ef` when none); the last column takes the rest of each line. */
export async function top(containers: ContainerService, nameOrId: string, psArgs?: string): Promise<TopResult> {
  const c = containers.store.resolve(nameOrId);
  if (c.state !== 'running' && c.state !== 'paused') throw conflict(`Container ${c.id} is not running`);
  containers.record(c, 'top');
  const pids = new Set(await containers.runtimeOf(c).pids(c.id));
  const args = (psArgs || '-ef').split(/\s+/).filter(Boolean);
  const { stdout } = await run('ps', args);
  const [header = '', ...lines] = stdout.trimEnd().split('\n');
  const titles = header.trim().split(/\s+/);
  const pidColumn = titles.indexOf('PID');
  if (pidColumn < 0) throw invalid(`Couldn't find PID field in ps output`);
  const processes = lines
    .map((l) => {
      const fields = l.trim().split(/\s+/);
      return [...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')];
    })
    .filter((f) => pids.has(Number(f[pidColumn])));
  return { titles, processes };
}
