// podman rmi: names, IDs or all images; a name of an image with several names only untags it, the
// last name or the ID removes the image (with -f, the containers using it too). Failures are reported,
// not thrown, with podman's exit code: 2 if an image is in use, 1 if every failure is an unknown
// image, else 125.
import { freeingSpace } from '../state/reserve.js';
import { hex } from '../util/digest.js';
import { lookupLocal, type LocalMatch } from './short-names.js';
import { digestOf } from './libpod.js';
import type { ImageService } from './service.js';
import type { ImageRecord } from './store.js';

export interface LibpodRemoveOptions {
  all: boolean;
  force: boolean;
  /** Unknown images are no failure. */
  ignore: boolean;
}

export interface LibpodRemoveReport {
  /** Image IDs, hex. */
  deleted: string[];
  /** Full names (`localhost/busybox:latest`). */
  untagged: string[];
  exitCode: number;
  errors: string[];
}

type Failure = { kind: 'unknown' | 'in-use' | 'other'; message: string };

export async function removeLibpodImages(
  service: ImageService,
  names: string[],
  o: LibpodRemoveOptions,
  /** Force-removes a container (rmi -f takes the containers using an image with it). */
  removeContainer: (id: string) => Promise<void>,
): Promise<LibpodRemoveReport> {
  const report: LibpodRemoveReport = { deleted: [], untagged: [], exitCode: 0, errors: [] };
  const failures: Failure[] = [];
  const targets: { name?: string; match: LocalMatch }[] = [];
  if (o.all) for (const image of byNewest(service.store.all())) targets.push({ match: { image } });
  for (const name of names) {
    try {
      targets.push({ name, match: lookupLocal(service.store, name, { digestOf: digestOf(service) }) });
    } catch {
      if (!o.ignore) failures.push({ kind: 'unknown', message: `${name}: image not known` });
    }
  }
  for (const { name, match } of targets) {
    const { image, tag } = match;
    if (!service.store.get(image.id)) continue; // removed already by an earlier name
    const tags = service.store.namesOf(image.id);
    if (tag && tags.length > 1 && !o.all) {
      await service.lock.run(async () => {
        service.store.untag(tag);
        service.record('untag', image.id, image.id); // as dockerd records an untag
      });
      report.untagged.push(tag);
      continue;
    }
    if (name && !tag && tags.length > 1 && !o.force) {
      failures.push({
        kind: 'other',
        message: `unable to delete image "${hex(image.id)}" by ID with more than one tag ([${tags.join(' ')}]): please force removal`,
      });
      continue;
    }
    const users = service.store.containersUsing(image.id);
    if (users.length > 0 && !o.force) {
      failures.push({
        kind: 'in-use',
        message: `image used by ${hex(users[0]!.id)}: image is in use by a container: consider listing external containers and force-removing image`,
      });
      continue;
    }
    for (const user of users) await removeContainer(user.id);
    await freeingSpace(() =>
      service.lock.run(async () => {
        for (const t of service.store.namesOf(image.id)) {
          service.record('untag', image.id, image.id);
          report.untagged.push(t);
        }
        for (const d of service.store.digestsOf(image.id)) service.store.untag(d);
        // Then its parents while dangling (no name, no other child, no container): a build's
        // intermediate images go with the image built, as podman's libimage removes them.
        for (let gone: ImageRecord | undefined = image; gone; gone = danglingParent(service, gone)) {
          service.record('delete', gone.id, gone.id);
          service.store.remove(gone.id);
          report.deleted.push(hex(gone.id));
        }
        await service.layers.gc();
      }),
    );
  }
  report.errors = failures.map((f) => f.message);
  if (failures.some((f) => f.kind === 'in-use')) report.exitCode = 2;
  else if (failures.length > 0) report.exitCode = failures.every((f) => f.kind === 'unknown') ? 1 : 125;
  return report;
}

/** The parent of a removed image when nothing else holds it: no name, no child left, no container. */
function danglingParent(service: ImageService, image: ImageRecord): ImageRecord | undefined {
  const parent = image.parent ? service.store.get(image.parent) : undefined;
  if (!parent || service.store.namesOf(parent.id).length > 0 || service.store.children(parent.id).length > 0) return undefined;
  return service.store.containersUsing(parent.id).length > 0 ? undefined : parent;
}

/** The images most recently added first: the order podman removes all images in. */
export const byNewest = <T extends { added_at: number }>(images: T[]) => [...images].sort((a, b) => b.added_at - a.added_at);
