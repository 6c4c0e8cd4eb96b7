// The OCI runtime command line (runc, or crun where it works), with a private state root per engine.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { EngineError } from '../errors.js';

export interface RuntimeState {
  id: string;
  pid: number;
  status: 'creating' | 'created' | 'running' | 'paused' | 'stopped';
}

export class OciRuntime {
  constructor(readonly path: string, readonly stateRoot: string) {}

  private run(args: string[], input?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = execFile(this.path, ['--root', this.stateRoot, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
        if (err) reject(new EngineError('internal', `${this.name} ${args[0]}: ${(stderr || err.message).trim()}`));
        else resolve(stdout);
      });
      if (input !== undefined) child.stdin!.end(input);
    });
  }

  get name(): string {
    return this.path.split('/').pop() ?? this.path;
  }

  /** Whether the runtime has state for the container (runc and crun keep a directory per container): no process spawned. */
  knows = (id: string) => existsSync(`${this.stateRoot}/${id}`);

  /** The runtime's view of a container, or undefined when it does not know it. */
  async state(id: string): Promise<RuntimeState | undefined> {
    try {
      return JSON.parse(await this.run(['state', id])) as RuntimeState;
    } catch {
      return undefined;
    }
  }

  start = (id: string) => this.run(['start', id]);
  kill = (id: string, signal: string | number, all = false) => this.run(['kill', ...(all ? ['--all'] : []), id, String(signal)]);
  pause = (id: string) => this.run(['pause', id]);
  resume = (id: string) => this.run(['resume', id]);
  delete = (id: string) => this.run(['delete', '--force', id]).then(() => undefined, () => undefined);
  update = (id: string, resources: object) => this.run(['update', '--resources', '-', id], JSON.stringify(resources));

  async pids(id: string): Promise<number[]> {
    return JSON.parse((await this.run(['ps', '--format', 'json', id])) || '[]') as number[];
  }
}
