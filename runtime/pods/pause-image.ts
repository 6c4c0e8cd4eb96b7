// The infra containers' image: catatonit as PID 1 (`-P`: it only waits, holding the pod's namespaces),
// built here from the host's static catatonit as podman builds its `localhost/podman-pause` image, so a
// pod needs no registry.
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { invalid } from '../errors.js';
import { importImage } from '../images/import.js';
import type { ImageService } from '../images/service.js';

export const PAUSE_IMAGE = 'localhost/podman-pause:4.3.1-0';
const CATATONIT = ['/usr/libexec/podman/catatonit', '/usr/bin/catatonit'];

let building: Promise<string> | undefined;

/** The pause image's ID, imported on first use. */
export async function pauseImage(images: ImageService): Promise<string> {
  try {
    return images.store.resolve(PAUSE_IMAGE).id;
  } catch {
    // not made yet (or removed by the user): made again
  }
  building ??= buildPauseImage(images).finally(() => {
    building = undefined;
  });
  return building;
}

async function buildPauseImage(images: ImageService): Promise<string> {
  let binary: Buffer | undefined;
  for (const path of CATATONIT) binary ??= await readFile(path).catch(() => undefined);
  if (!binary) throw invalid(`building the pause image: catatonit not found (${CATATONIT.join(', ')}): install the catatonit package`);
  const pack = tar.pack();
  pack.entry({ name: 'catatonit', mode: 0o755, mtime: new Date(0) }, binary);
  pack.finalize();
  const [repo, tag] = PAUSE_IMAGE.split(/:(?=[^:]+$)/) as [string, string];
  return importImage(
    images,
    { source: '-', body: Readable.from(pack), repo, tag, changes: ['ENTRYPOINT ["/catatonit", "-P"]'], message: 'berth pause image' },
    () => undefined,
  );
}
