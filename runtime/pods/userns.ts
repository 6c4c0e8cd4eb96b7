// A pod's user namespace (podman's `pod create --userns`): its infra container runs in it with the
// pod's mode and every member joins it (podman's FromPod), so all see one mapping and share the pod's
// other namespaces as their owner. host ('' too) is the engine's own: members stay there as before.
import { parseUserns } from '../rootless/userns-modes.js';
import type { PodSpec } from './spec.js';

/** The pod's --userns mode (its infra container's); host without an infra container. */
const podMode = (spec: PodSpec) => (spec.infra ? parseUserns(spec.infra.namespaces.user ?? '').kind : 'host');

/** Whether members join the infra container's user namespace: it has one of its own (keep-id, nomap, auto). */
export function sharesUserns(spec: PodSpec): boolean {
  const mode = podMode(spec);
  return mode === 'keep-id' || mode === 'nomap' || mode === 'auto';
}

/**
 * `pod inspect`'s InfraConfig.userns as podman 4.3 shows it: `private` where the infra container's spec
 * has a user namespace from create (keep-id, nomap); auto's mappings come with its storage, after, so
 * podman shows `host` for it.
 */
export function inspectedUserns(spec: PodSpec): 'private' | 'host' {
  const mode = podMode(spec);
  return mode === 'keep-id' || mode === 'nomap' ? 'private' : 'host';
}
