// libpod's waits beside Docker's (exit.ts): for a container to reach a state, looked at on an interval as
// podman does; and the exit code of a container --rm removed already, which podman keeps for a wait
// that comes after the removal (`podman run --rm` sends its wait only once start has answered).
import { readFile } from 'node:fs/promises';
import type { ContainerService } from './service.js';
import type { ContainerState } from './store.js';

/** Resolves once the container is in one of `states`; rejects when it is gone or the signal aborts. */
export async function waitForState(
  containers: ContainerService,
  nameOrId: string,
  states: ContainerState[],
  intervalMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const { id } = containers.store.resolve(nameOrId);
  for (;;) {
    if (signal?.aborted) throw new Error('aborted');
    const c = containers.store.resolve(id); // gone: its not-found
    if (states.includes(c.state)) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, intervalMs);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done);
    });
  }
}

/** The exit code of a removed container (its exit file outlives it, under the run root); undefined if none. */
export async function removedExitCode(containers: ContainerService, id: string): Promise<number | undefined> {
  if (!/^[0-9a-f]{64}$/.test(id) || containers.store.get(id)) return undefined;
  const text = await readFile(containers.paths.exitFile(id), 'utf8').catch(() => '');
  return text.trim() === '' ? undefined : Number(text.trim());
}
