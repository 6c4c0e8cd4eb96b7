// Archives written by `docker save` before Docker 1.10: a `repositories` file naming v1 image IDs, and
// per image `<id>/json` (a v1 image JSON with its `parent`) and `<id>/layer.tar`. Read as dockerd 20.10
// reads them (image/tarexport legacyLoad): each v1 image becomes an image whose config is its v1 JSON
// less the v1 fields, plus the rootfs and history built up from its parents.
import { invalid } from '../errors.js';
import { sha256 } from '../util/digest.js';
import type { SpooledArchive } from './archive.js';
import { parseTaggedReference, referenceString } from './reference.js';

export interface LegacyImage {
  config: Buffer;
  layers: string[]; // archive members, bottom first
  diffIds: string[];
  tags: string[];
  parent?: string;
  silent: true; // dockerd 20.10 announces no "Loaded image" for these
}

/** The v1 fields MakeConfigFromV1Config drops. */
const V1_ONLY = new Set(['id', 'parent', 'Size', 'parent_id', 'layer_id', 'throwaway']);
const V1_ID = /^[a-f0-9]{64}$/;

/** Go's json.Marshal escapes these even inside raw values. */
const goJson = (value: unknown) => JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** A time as Go's RFC3339Nano prints it: no trailing zeros in the fraction. */
const goTime = (t: unknown) => (typeof t === 'string' && t ? t.replace(/\.(\d*?)0+(?=Z|[+-])/, (_m, d: string) => (d ? `.${d}` : '')) : '0001-01-01T00:00:00Z');

export async function readLegacyArchive(archive: SpooledArchive, diffIdOf: (member: string) => Promise<string>): Promise<LegacyImage[]> {
  const repositories = await archive.json<Record<string, Record<string, string>>>('repositories');
  if (typeof repositories !== 'object' || repositories === null) throw invalid('invalid image archive: repositories is not an object');
  const loaded = new Map<string, LegacyImage>();
  const order: LegacyImage[] = [];

  const load = async (v1Id: string, seen: Set<string>): Promise<LegacyImage> => {
    const done = loaded.get(v1Id);
    if (done) return done;
    if (!V1_ID.test(v1Id)) throw invalid(`invalid image archive: invalid v1 image ID ${v1Id}`);
    if (seen.has(v1Id)) throw invalid(`invalid image archive: image ${v1Id} is its own ancestor`);
    seen.add(v1Id);
    const v1 = await archive.json<Record<string, unknown>>(`${v1Id}/json`);
    if (typeof v1 !== 'object' || v1 === null || Array.isArray(v1)) throw invalid(`invalid image archive: ${v1Id}/json is not an object`);
    const parent = typeof v1.parent === 'string' && v1.parent ? await load(v1.parent, seen) : undefined;
    const member = `${v1Id}/layer.tar`;
    if (!archive.has(member)) throw invalid(`invalid image archive: layer ${member} is missing`);
    const diffIds = [...(parent?.diffIds ?? []), await diffIdOf(member)];
    const containerConfig = v1.container_config as { Cmd?: unknown } | undefined;
    const history = [
      ...(parent ? (JSON.parse(parent.config.toString()) as { history: unknown[] }).history : []),
      {
        created: goTime(v1.created),
        ...(typeof v1.author === 'string' && v1.author ? { author: v1.author } : {}),
        ...(Array.isArray(containerConfig?.Cmd) && containerConfig.Cmd.length ? { created_by: containerConfig.Cmd.join(' ') } : {}),
        ...(typeof v1.comment === 'string' && v1.comment ? { comment: v1.comment } : {}),
      },
    ];
    const fields: Record<string, unknown> = { ...v1, rootfs: { type: 'layers', diff_ids: diffIds }, history };
    // Go marshals the map with its keys sorted.
    const keys = Object.keys(fields)
      .filter((k) => !V1_ONLY.has(k))
      .sort();
    const config = Buffer.from(`{${keys.map((k) => `${goJson(k)}:${goJson(fields[k])}`).join(',')}}`);
    const image: LegacyImage = {
      config,
      layers: [...(parent?.layers ?? []), member],
      diffIds,
      tags: [],
      silent: true,
      ...(parent ? { parent: sha256(parent.config) } : {}),
    };
    loaded.set(v1Id, image);
    order.push(image);
    return image;
  };

  for (const [repo, tags] of Object.entries(repositories)) {
    if (typeof tags !== 'object' || tags === null) throw invalid(`invalid image archive: repositories entry ${repo} is not an object`);
    for (const [tag, v1Id] of Object.entries(tags)) {
      const image = await load(String(v1Id), new Set());
      image.tags.push(referenceString(parseTaggedReference(`${repo}:${tag}`)));
    }
  }
  return order;
}
