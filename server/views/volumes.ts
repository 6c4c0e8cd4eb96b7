// Volumes and container mounts in dockerd's shapes.
import type { Engine } from '../../runtime/engine.js';
import type { Container } from '../../runtime/containers/store.js';
import type { Volume } from '../../runtime/volumes/service.js';
import { isVolumeName } from '../../runtime/volumes/service.js';
import { parseBind } from '../../runtime/oci/spec.js';
import { asList } from '../../runtime/util/list.js';

export function volumeView(v: Volume) {
  return {
    CreatedAt: v.createdAt, Driver: v.driver, Labels: v.labels, Mountpoint: v.mountpoint, Name: v.name,
    Options: Object.keys(v.options).length ? v.options : null, Scope: 'local',
  };
}

/** A container's mounts (Binds): named volumes and host directories, as `Mounts` in inspect and ps. */
export function containerMounts(engine: Engine, c: Container) {
  return asList(c.hostConfig.Binds).map((bind) => {
    const { source, destination, modes } = parseBind(bind);
    const rw = !modes.includes('ro');
    const propagation = modes.find((m) => /^r?(shared|slave|private)$/.test(m)) ?? 'rprivate';
    const mode = modes.filter((m) => m !== 'ro' && m !== 'rw').join(',');
    if (isVolumeName(source)) {
      return { Type: 'volume', Name: source, Source: engine.volumes.mountpoint(source), Destination: destination, Driver: 'local', Mode: mode || 'z', RW: rw, Propagation: '' };
    }
    return { Type: 'bind', Source: source, Destination: destination, Mode: mode, RW: rw, Propagation: propagation };
  });
}

/** The containers (IDs) whose Binds name the volume. */
export function volumeUsers(engine: Engine, name: string): string[] {
  return engine.containers.store.all()
    .filter((c) => asList(c.hostConfig.Binds).some((b) => parseBind(b).source === name))
    .map((c) => c.id);
}
