// podman's `system df` document (entities.SystemDfReport): one image row per name, containers with
// their command and volumes, volumes with what removing them would free.
import type { Api, ContainerSpec } from '../../../runtime/api.js';
import type { LibpodDiskUsage } from '../../../openapi/libpod-system.js';

type Usage = Awaited<ReturnType<Api['system']['libpodDiskUsage']>>;

/** `docker.io/library/busybox:latest` → repository and tag (a digest-only name has tag `<none>`). */
function splitName(name: string): { Repository: string; Tag: string } {
  const at = name.indexOf('@');
  const base = at < 0 ? name : name.slice(0, at);
  const colon = base.lastIndexOf(':');
  if (colon > base.lastIndexOf('/')) return { Repository: base.slice(0, colon), Tag: base.slice(colon + 1) };
  return { Repository: base, Tag: '<none>' };
}

const hex = (id: string) => id.replace(/^sha256:/, '');

export function libpodDiskUsage(usage: Usage, commandOf: (spec: ContainerSpec) => string[]): LibpodDiskUsage {
  return {
    Images: (usage.images ?? []).flatMap((i) => {
      const common = {
        ImageID: hex(i.image.id),
        Created: i.image.created,
        Size: i.image.size,
        SharedSize: i.sharedSize,
        UniqueSize: i.image.size - i.sharedSize,
        Containers: i.containers,
      };
      const names = i.names.length ? i.names.map(splitName) : [{ Repository: '<none>', Tag: '<none>' }];
      return names.map((n) => ({ ...n, ...common }));
    }),
    Containers: (usage.containers ?? []).map(({ container: c, sizeRw, sizeRootFs }) => ({
      ContainerID: c.id,
      Image: hex(c.image_id),
      Command: commandOf(c.spec),
      LocalVolumes: c.mounts.filter((m) => m.type === 'volume').length,
      Size: sizeRootFs,
      RWSize: sizeRw,
      Created: c.created,
      Status: c.state,
      Names: c.name,
    })),
    Volumes: (usage.volumes ?? []).map((v) => ({
      VolumeName: v.volume.name,
      Links: v.refCount,
      Size: v.size,
      ReclaimableSize: v.refCount ? 0 : v.size,
    })),
  };
}
