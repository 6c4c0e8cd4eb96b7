// Builds the project's own test images once per run (no registry is reachable), and removes them after.
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildBusyboxArchive, buildLayeredArchive } from './images/build.js';

declare module 'vitest' {
  export interface ProvidedContext {
    images: { dir: string; busybox: { archive: string; id: string }; layered: { archive: string; id: string; tag: string } };
  }
}

export default async function setup(project: TestProject) {
  const dir = await mkdtemp('/var/tmp/berth-images-');
  const busybox = await buildBusyboxArchive(join(dir, 'busybox.tar'));
  const layered = await buildLayeredArchive(join(dir, 'layered.tar'));
  project.provide('images', {
    dir,
    busybox: { archive: busybox.archive, id: busybox.id },
    layered: { archive: layered.archive, id: layered.id, tag: layered.tag },
  });
  return async () => {
    await rm(dir, { recursive: true, force: true });
  };
}
