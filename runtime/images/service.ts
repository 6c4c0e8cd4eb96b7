// The image service: what the API's image endpoints ask of the engine.
import type { EventLog } from '../events/log.js';
import type { BlobIndex } from '../registry/blobs.js';
import type { LayerStore } from '../storage/layers.js';
import { conflict, invalid } from '../errors.js';
import { KeyedMutex, Mutex } from '../util/lock.js';
import { imageTimeLabelFilter, parseUntil } from '../filters.js';
import { hex } from '../util/digest.js';
import { ImageStore, parseConfig, type ImageRecord } from './store.js';
import {
  familiar,
  familiarRepository,
  familiarString,
  parseReference,
  parseTaggedReference,
  referenceGlob,
  referenceString,
  repositoryName,
  validateTag,
} from './reference.js';
import { freeingSpace } from '../state/reserve.js';
import { isUp } from '../containers/state.js';

export type DeleteRecord = { untagged: string } | { deleted: string };

export interface HistoryItem {
  id: string;
  created: number;
  createdBy: string;
  comment: string;
  size: number;
  tags: string[];
}

export interface ImageFilters {
  reference?: string[];
  dangling?: boolean;
  label?: string[];
  before?: string;
  since?: string;
  until?: string;
}

export class ImageService {
  /** Serializes changes to the set of images and layers, so a collection never races a load. */
  readonly lock = new Mutex();
  /** One download of a blob at a time, across pulls (they may share layers). */
  readonly downloads = new KeyedMutex();

  constructor(
    readonly store: ImageStore,
    readonly layers: LayerStore,
    readonly tmpDir: string,
    /** Where image events go. */
    private readonly eventLog: EventLog,
    /** Which compressed blobs layers are in registries (pulls and pushes fill it). */
    readonly blobs: BlobIndex,
  ) {}

  /** An image event as dockerd logs it: the image's labels, and `name`. */
  record(action: string, actorId: string, name: string, imageId = actorId): void {
    const image = this.store.get(imageId);
    const labels = image ? ((parseConfig(image).config?.Labels ?? {}) as Record<string, string>) : {};
    this.eventLog.record('image', action, actorId, { ...labels, name });
  }

  tags = (id: string) => this.store.tagsOf(id).map(familiar);
  digests = (id: string) => this.store.digestsOf(id).map(familiar);

  /** An image's familiar names for `docker images`: with a reference filter, only those it matches (as dockerd). */
  names(id: string, reference: string[] = []): { tags: string[]; digests: string[] } {
    const keep = (stored: string[]) => (reference.length ? stored.filter((r) => reference.some((p) => matchesReference(p, r))) : stored).map(familiar);
    return { tags: keep(this.store.tagsOf(id)), digests: keep(this.store.digestsOf(id)) };
  }

  /** Images as `docker images` lists them; without `all`, untagged parents of other images are hidden. */
  list(all: boolean, filters: ImageFilters): ImageRecord[] {
    const images = this.store.all();
    const hasChildren = new Set(images.map((i) => i.parent).filter((p): p is string => !!p));
    const before = filters.before ? this.store.resolve(filters.before).created : undefined;
    const since = filters.since ? this.store.resolve(filters.since).created : undefined;
    const timeAndLabels = imageTimeLabelFilter({ label: filters.label, before, since, until: filters.until ? parseUntil(filters.until) : undefined });
    return images.filter((image) => {
      const tags = this.store.tagsOf(image.id);
      if (!all && tags.length === 0 && hasChildren.has(image.id) && filters.dangling === undefined) return false;
      if (filters.dangling !== undefined && (tags.length === 0 && !hasChildren.has(image.id)) !== filters.dangling) return false;
      const refs = filters.reference?.length ? [...tags, ...this.store.digestsOf(image.id)] : [];
      if (filters.reference?.length && !filters.reference.some((p) => refs.some((r) => matchesReference(p, r)))) return false;
      return timeAndLabels(filtered(image));
    });
  }

  tag(source: string, repo: string, tag: string | undefined): void {
    const image = this.store.resolve(source);
    const ref = parseReference(repo);
    if (ref.digest) throw invalid('refusing to create a tag with a digest reference');
    if (tag) validateTag(tag);
    const target = { ...ref, tag: tag || ref.tag || 'latest' };
    this.store.setTag(referenceString(target), image.id);
    this.record('tag', image.id, familiarString(target));
  }

  history(nameOrId: string): HistoryItem[] {
    let image: ImageRecord | undefined = this.store.resolve(nameOrId);
    const config = parseConfig(image);
    const stack = this.layers.stack(image.top_layer);
    let layer = 0;
    const items: HistoryItem[] = [];
    for (const h of config.history ?? []) {
      const size = h.empty_layer ? 0 : (stack[layer++]?.size ?? 0);
      items.unshift({
        id: '<missing>',
        created: h.created ? Math.floor(Date.parse(h.created) / 1000) : 0,
        createdBy: h.created_by ?? '',
        comment: h.comment ?? '',
        size,
        tags: [],
      });
    }
    for (const item of items) {
      if (!image) break;
      item.id = image.id;
      item.tags = this.tags(image.id);
      image = image.parent ? this.store.get(image.parent) : undefined;
    }
    return items;
  }

  /** docker rmi: untag by name, delete by ID, with Docker's conflicts. */
  remove(nameOrId: string, force: boolean, prune: boolean): Promise<DeleteRecord[]> {
    return freeingSpace(() => this.removeNow(nameOrId, force, prune));
  }

  private removeNow(nameOrId: string, force: boolean, prune: boolean): Promise<DeleteRecord[]> {
    return this.lock.run(async () => {
      const image = this.store.resolve(nameOrId);
      const records: DeleteRecord[] = [];
      const refs = [...this.store.tagsOf(image.id), ...this.store.digestsOf(image.id)];
      const users = this.store.containersUsing(image.id);
      const running = users.find(isUp);
      const short = (id: string) => hex(id).slice(0, 12);
      if (!isIdPrefix(image.id, nameOrId)) {
        const ref = parseTaggedReference(nameOrId);
        const shown = familiarString(ref.digest ? { ...ref, tag: undefined } : ref);
        if (isSingleReference(refs) && users.length > 0 && !force) {
          throw conflict(
            `conflict: unable to remove repository reference "${nameOrId}" (must force) - container ${short(users[0]!.id)} is using its referenced image ${short(image.id)}`,
          );
        }
        const key = referenceString(ref.digest ? { ...ref, tag: undefined } : ref);
        if (this.store.untag(key)) {
          records.push({ untagged: shown });
          this.record('untag', image.id, image.id);
        }
        let remaining = refs.filter((r) => r !== key);
        // The repository's last tag gone, its digest references go too (dockerd): a later pull downloads again.
        const repo = repositoryName(ref);
        const digestOfRepo = (r: string) => r.includes('@') && repositoryName(parseReference(r)) === repo;
        if (!ref.digest && !remaining.some((r) => !r.includes('@') && repositoryName(parseReference(r)) === repo)) {
          for (const r of remaining.filter(digestOfRepo)) {
            this.store.untag(r);
            records.push({ untagged: familiar(r) });
          }
          remaining = remaining.filter((r) => !digestOfRepo(r));
        }
        if (remaining.length > 0) return records;
        // That was its last name: the image goes too, unless something still needs it.
        if (this.store.children(image.id).length > 0 || running) return records;
      } else {
        if (running) {
          throw conflict(`conflict: unable to delete ${short(image.id)} (cannot be forced) - image is being used by running container ${short(running.id)}`);
        }
        if (users.length > 0 && !force) {
          throw conflict(`conflict: unable to delete ${short(image.id)} (must be forced) - image is being used by stopped container ${short(users[0]!.id)}`);
        }
        if (refs.length > 1 && !force) {
          throw conflict(`conflict: unable to delete ${hex(image.id).slice(0, 12)} (must be forced) - image is referenced in multiple repositories`);
        }
        if (this.store.children(image.id).length > 0) {
          throw conflict(`conflict: unable to delete ${hex(image.id).slice(0, 12)} (cannot be forced) - image has dependent child images`);
        }
        for (const ref of refs) {
          this.store.untag(ref);
          records.push({ untagged: familiar(ref) });
          this.record('untag', image.id, image.id);
        }
      }
      await this.deleteImage(image, prune, records);
      return records;
    });
  }

  private async deleteImage(image: ImageRecord, prune: boolean, records: DeleteRecord[]): Promise<void> {
    this.record('delete', image.id, image.id); // before the row goes: the event carries its labels
    this.store.remove(image.id);
    records.push({ deleted: image.id });
    for (const layer of await this.layers.gc()) records.push({ deleted: layer.chain_id });
    const parent = image.parent ? this.store.get(image.parent) : undefined;
    if (prune && parent && this.store.tagsOf(parent.id).length === 0 && this.store.children(parent.id).length === 0) {
      await this.deleteImage(parent, prune, records);
    }
  }

  /** docker image prune: dangling images by default, every unused image with dangling=false. */
  prune(filters: ImageFilters): Promise<{ records: DeleteRecord[]; reclaimed: number }> {
    return freeingSpace(() => this.pruneNow(filters));
  }

  private async pruneNow(filters: ImageFilters): Promise<{ records: DeleteRecord[]; reclaimed: number }> {
    const danglingOnly = filters.dangling !== false;
    const records: DeleteRecord[] = [];
    let reclaimed = 0;
    const timeAndLabels = imageTimeLabelFilter({ label: filters.label, until: filters.until ? parseUntil(filters.until) : undefined });
    const candidates = this.store.all().filter((image) => {
      if (this.store.children(image.id).length > 0 || this.store.containersUsing(image.id).length > 0) return false;
      if (danglingOnly && this.store.tagsOf(image.id).length > 0) return false;
      return timeAndLabels(filtered(image));
    });
    for (const image of candidates) {
      const stack = new Map(this.layers.stack(image.top_layer).map((l) => [l.chain_id, l.size]));
      const removed = await this.remove(image.id, true, true);
      for (const r of removed) if ('deleted' in r) reclaimed += stack.get(r.deleted) ?? 0;
      records.push(...removed);
    }
    return { records, reclaimed };
  }
}

/** dockerd's isSingleReference: at most one tag, and every reference from that one repository. */
function isSingleReference(refs: string[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  const tags = refs.filter((r) => !r.includes('@'));
  if (tags.length > 1) return false;
  const repos = new Set(refs.filter((r) => r.includes('@')).map((r) => repositoryName(parseReference(r))));
  return repos.size === 1 && repos.has(repositoryName(parseReference(tags[0] ?? refs[0]!)));
}

const isIdPrefix = (id: string, input: string) => {
  const h = input.startsWith('sha256:') ? input.slice(7) : input;
  return /^[a-f0-9]+$/.test(h) && hex(id).startsWith(h);
};

/** Docker's reference filter: a path.Match glob against the familiar name, with or without the tag. */
function matchesReference(pattern: string, stored: string): boolean {
  const ref = parseReference(stored);
  const re = referenceGlob(pattern);
  return re.test(familiarString(ref)) || re.test(familiarRepository(ref));
}

/** What the image filters read of a record (labels parsed only when a label filter asks: see imageTimeLabelFilter). */
const filtered = (image: ImageRecord) => ({
  created: image.created,
  get labels() {
    return (image.labels ? JSON.parse(image.labels) : {}) as Record<string, string>;
  },
});
