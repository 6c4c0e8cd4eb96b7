// Images shaped as podman's service answers them: IDs without `sha256:`, full names, unix times in lists.
import { join } from 'node:path';
import type { LibpodImage, LibpodHistoryItem as RuntimeHistoryItem } from '../../../runtime/api.js';
import type { LibpodHistoryItem, LibpodImageData, LibpodImageSummary } from '../../../openapi/libpod-images.js';

const hexOf = (id: string) => id.slice(id.indexOf(':') + 1);
const unixSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000) || 0;
const labelsOf = (d: LibpodImage) => d.config.config?.Labels ?? null;

export function imageSummary(d: LibpodImage): LibpodImageSummary {
  return {
    Id: hexOf(d.image.id),
    ParentId: d.image.parent ? hexOf(d.image.parent) : '',
    RepoTags: d.names.length > 0 ? d.names : null,
    RepoDigests: d.repoDigests,
    Created: unixSeconds(d.image.created),
    Size: d.size,
    SharedSize: 0,
    VirtualSize: d.size,
    Labels: labelsOf(d),
    Containers: d.containers,
    Names: d.names.length > 0 ? d.names : null,
    Digest: d.digest,
    History: d.names.length > 0 ? [...d.names].reverse() : null, // podman's names history: newest first
  };
}

/** The OCI image config's fields podman shows, empty ones left out (Go's omitempty). */
function ociConfig(d: LibpodImage): Record<string, unknown> {
  const c = d.config.config ?? {};
  const out: Record<string, unknown> = {};
  for (const key of ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal'] as const) {
    const value = c[key];
    if (value === undefined || value === null || value === '') continue;
    if (typeof value === 'object' && Object.keys(value).length === 0) continue;
    out[key] = value;
  }
  return out;
}

export function imageData(d: LibpodImage): LibpodImageData {
  const [upper, ...lower] = d.layerDirs;
  const data: Record<string, string> = {};
  if (lower.length > 0) data.LowerDir = lower.join(':');
  if (upper) Object.assign(data, { UpperDir: upper, WorkDir: join(upper, '..', 'work') });
  const { config } = d;
  return {
    Id: hexOf(d.image.id),
    Digest: d.digest,
    RepoTags: d.names,
    RepoDigests: d.repoDigests,
    Parent: d.image.parent ? hexOf(d.image.parent) : '',
    Comment: config.comment ?? '',
    Created: config.created ?? d.image.created,
    Config: ociConfig(d),
    Version: config.docker_version ?? '',
    Author: config.author ?? '',
    Architecture: config.architecture ?? '',
    Os: config.os ?? '',
    Size: d.size,
    VirtualSize: d.size,
    GraphDriver: { Name: 'overlay', Data: data },
    RootFS: { Type: 'layers', Layers: config.rootfs?.diff_ids ?? [] },
    Labels: labelsOf(d),
    Annotations: {},
    ManifestType: d.manifestType,
    User: config.config?.User ?? '',
    History: (config.history ?? []).map((h) => ({ ...h })),
    NamesHistory: [...d.names].reverse(),
    ...(config.config?.Healthcheck ? { HealthCheck: config.config.Healthcheck } : {}),
  };
}

export const historyItem = (h: RuntimeHistoryItem): LibpodHistoryItem => ({
  Id: h.id,
  Created: h.created,
  CreatedBy: h.createdBy,
  Tags: null,
  Size: h.size,
  Comment: h.comment,
});
