// Volumes and container mounts in dockerd's shapes.
import type { Container, ContainerFacts, Volume } from '../../../runtime/api.js';

export function volumeView(v: Volume) {
  return {
    CreatedAt: v.createdAt,
    Driver: v.driver,
    Labels: v.labels,
    Mountpoint: v.mountpoint,
    Name: v.name,
    Options: Object.keys(v.options).length ? v.options : null,
    Scope: 'local',
  };
}

/** A container's mount points, as `Mounts` in inspect and ps. */
export function containerMounts(facts: ContainerFacts, c: Container) {
  return c.mounts.map((m) => {
    if (m.type === 'volume') {
      return {
        Type: 'volume',
        Name: m.name,
        Source: facts.volumeMountpoint(m.name!),
        Destination: m.destination,
        Driver: 'local',
        Mode: m.mode,
        RW: m.rw,
        Propagation: '',
      };
    }
    if (m.type === 'tmpfs') return { Type: 'tmpfs', Source: '', Destination: m.destination, Mode: '', RW: m.rw, Propagation: '' };
    return { Type: 'bind', Source: m.source, Destination: m.destination, Mode: m.mode, RW: m.rw, Propagation: m.propagation };
  });
}
