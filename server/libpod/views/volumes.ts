// Volumes in podman's shape (labels and options always maps; the copy-up flag of a volume no container
// has used yet, as podman shows a new one; NeedsChown until a libpod container first mounted it).
import type { Volume } from '../../../runtime/api.js';
import type { LibpodVolume } from '../../../openapi/libpod-volumes.js';

export function libpodVolumeView(v: Volume, mountCount = 0): LibpodVolume {
  return {
    Name: v.name,
    Driver: v.driver,
    Mountpoint: v.mountpoint,
    CreatedAt: v.createdAt,
    Labels: v.labels,
    Scope: 'local',
    Options: v.options,
    MountCount: mountCount,
    NeedsCopyUp: true,
    NeedsChown: v.needsChown,
  };
}
