// What a start before Docker API 1.24 changes (the host config it carries). dockerd 20.10 (containerStart
// → setHostConfig) replaces the container's host config with it: ports, restart policy and privileges as
// given; new mount points registered over the ones made at create (same destination = replaced, others
// kept); and a network mode that differs from the one at create drops the container's networks for the
// new mode's. A body without NetworkMode means `default` there, so it moves a container off a user network.
import { cleanTarget, type MountPoint } from '../volumes/mounts.js';
import type { ContainerSpec, MountsSpec, StartChanges } from './spec.js';

/** The spec with the changes (absent: unchanged; null: cleared). */
export function withStartChanges(spec: ContainerSpec, changes: StartChanges): ContainerSpec {
  const next: ContainerSpec = {
    ...spec,
    ports: { ...spec.ports },
    restart: { ...spec.restart },
    security: { ...spec.security },
    mounts: { ...spec.mounts },
    network: { ...spec.network },
    namespaces: { ...spec.namespaces },
  };
  if (changes.publish !== undefined) next.ports.publish = changes.publish ?? undefined;
  if (changes.publishAll !== undefined) next.ports.publishAll = changes.publishAll;
  if (changes.restart) next.restart = { ...next.restart, ...changes.restart };
  if (changes.privileged !== undefined) next.security.privileged = changes.privileged;
  if (changes.capAdd !== undefined) next.security.capAdd = changes.capAdd ?? undefined;
  if (changes.capDrop !== undefined) next.security.capDrop = changes.capDrop ?? undefined;
  const m = changes.mounts;
  if (m?.volumes !== undefined) next.mounts.volumes = m.volumes ?? undefined;
  if (m?.mounts !== undefined) next.mounts.mounts = m.mounts ?? undefined;
  if (m?.tmpfs !== undefined) next.mounts.tmpfs = m.tmpfs ?? undefined;
  if (m?.volumesFrom !== undefined) next.mounts.volumesFrom = m.volumesFrom ?? undefined;
  if (changes.network) {
    // The create's endpoint settings were for the networks the container leaves.
    if (networkModeChanged(spec, changes.network.mode)) next.network.endpoints = undefined;
    next.network.mode = changes.network.mode;
    next.namespaces.network = changes.network.namespace;
  }
  return next;
}

/** The mount fields given, alone: what start plans as new mount points. */
export function givenMounts(given: NonNullable<StartChanges['mounts']>): MountsSpec {
  const { volumes, mounts, tmpfs, volumesFrom, volumeDriver } = given;
  return {
    anonymous: [],
    volumes: volumes ?? undefined,
    mounts: mounts ?? undefined,
    tmpfs: tmpfs ?? undefined,
    volumesFrom: volumesFrom ?? undefined,
    volumeDriver,
  };
}

/** dockerd compares the modes as written, a blank one being `default`. */
export const networkModeChanged = (spec: ContainerSpec, mode: string): boolean => (spec.network.mode || 'default') !== (mode || 'default');

/** The create's mount points with the start's registered over them (moby's registerMountPoints). */
export function mergeMountPoints(current: MountPoint[], added: MountPoint[], tmpfs: MountsSpec['tmpfs']): MountPoint[] {
  const replaced = new Set([...added.map((m) => m.destination), ...Object.keys(tmpfs ?? {}).map(cleanTarget)]);
  return [...current.filter((m) => !replaced.has(m.destination)), ...added];
}
