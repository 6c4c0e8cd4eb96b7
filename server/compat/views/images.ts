// Image records shaped as the Docker API returns them, for the API version asked.
import { join } from 'node:path';
import type { DeleteRecord, HistoryItem as RuntimeHistoryItem, ImageDetails, ImageRecord } from '../../../runtime/api.js';
import type { DeleteItem, HistoryItem, ImageInspect, ImageSummary } from '../../../openapi/images.js';
import { versionBefore } from '../../versioning.js';
import { imageContainerConfig } from './image-container-config.js';

const unixSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000) || 0;

/** `names`: the tags and digests to show (a reference filter narrows them). */
export function imageSummary(image: ImageRecord, names: { tags: string[]; digests: string[] }, version: string): ImageSummary {
  const { tags, digests } = names;
  const legacy = versionBefore(version, '1.44');
  return {
    Containers: -1,
    Created: unixSeconds(image.created),
    Id: image.id,
    Labels: image.labels ? (JSON.parse(image.labels) as Record<string, string>) : null,
    ParentId: image.parent ?? '',
    RepoDigests: digests.length > 0 || !legacy ? digests : tags.length > 0 ? [] : ['<none>@<none>'],
    RepoTags: tags.length > 0 || !legacy ? tags : ['<none>:<none>'],
    SharedSize: -1,
    Size: image.size,
    ...(legacy ? { VirtualSize: image.size } : {}),
  };
}

export function imageInspect({ image, config, tags, digests, layerDirs: dirs }: ImageDetails, version: string): ImageInspect {
  const top = dirs[0];
  const inspect: ImageInspect = {
    Id: image.id,
    RepoTags: tags,
    RepoDigests: digests,
    Parent: image.parent ?? '',
    Comment: config.comment ?? '',
    Created: config.created ?? '',
    DockerVersion: config.docker_version ?? '',
    Author: config.author ?? '',
    Config: (config.config as ImageInspect['Config']) ?? null,
    Architecture: config.architecture ?? '',
    ...(config.variant ? { Variant: config.variant } : {}),
    Os: config.os ?? '',
    ...(config['os.version'] ? { OsVersion: config['os.version'] } : {}),
    Size: image.size,
    GraphDriver: {
      Name: 'overlay2',
      Data: top
        ? {
            ...(dirs.length > 1 ? { LowerDir: dirs.slice(1).join(':') } : {}),
            UpperDir: dirs[0]!,
            MergedDir: join(dirs[0]!, '..', 'merged'),
            WorkDir: join(dirs[0]!, '..', 'work'),
          }
        : null,
    },
    RootFS: { Type: 'layers', Layers: config.rootfs?.diff_ids ?? [] },
    Metadata: { LastTagTime: image.last_tag_time ?? '0001-01-01T00:00:00Z' },
  };
  if (versionBefore(version, '1.45')) {
    inspect.Container = config.container ?? '';
    inspect.ContainerConfig = imageContainerConfig(config.container_config);
  }
  if (versionBefore(version, '1.44')) inspect.VirtualSize = image.size;
  return inspect;
}

export const historyItem = (h: RuntimeHistoryItem): HistoryItem => ({
  Comment: h.comment,
  Created: h.created,
  CreatedBy: h.createdBy,
  Id: h.id,
  Size: h.size,
  Tags: h.tags.length > 0 ? h.tags : null,
});

export const deleteItem = (r: DeleteRecord): DeleteItem => ('untagged' in r ? { Untagged: r.untagged } : { Deleted: r.deleted });
