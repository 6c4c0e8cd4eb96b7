// A libpod pod create body (podman's PodSpecGenerator) as berth's PodSpec: the pod's own fields, and
// its infra container as a ContainerSpec converted from the same body (ports, networks, DNS, hosts and
// volumes are the infra container's, as podman makes them).
import type { PodSpec, SharedNamespace } from '../../../runtime/api.js';
import { invalid } from '../../../runtime/api.js';
import type { PodSpecGenerator } from '../../../openapi/libpod-pods.js';
import { toSpec } from './to-spec.js';

const NAMESPACES = new Set<SharedNamespace>(['net', 'ipc', 'uts', 'pid', 'cgroup']);
/** podman's default --share. */
const DEFAULT_SHARE: SharedNamespace[] = ['ipc', 'net', 'uts'];

export function toPodSpec(body: PodSpecGenerator): { spec: PodSpec; echo: Record<string, unknown> } {
  const share = (body.shared_namespaces ?? DEFAULT_SHARE).map((n) => {
    const ns = n === 'network' ? 'net' : n;
    if (!NAMESPACES.has(ns as SharedNamespace)) throw invalid(`invalid kernel namespace to share: ${n}. Options are: cgroup, ipc, net, pid, uts or none`);
    return ns as SharedNamespace;
  });
  if (body.exit_policy && body.exit_policy !== 'continue' && body.exit_policy !== 'stop')
    throw invalid(`running pod create option: invalid pod exit policy: "${body.exit_policy}"`);
  const limits = body.resource_limits;
  const spec: PodSpec = {
    labels: body.labels ?? {},
    share: body.no_infra ? [] : share,
    resources: {
      memory: limits?.memory?.limit || undefined,
      memorySwap: limits?.memory?.swap || undefined,
      cpuQuota: body.cpu_quota || limits?.cpu?.quota || undefined,
      cpuPeriod: body.cpu_period || limits?.cpu?.period || undefined,
      cpusetCpus: limits?.cpu?.cpus || undefined,
    },
    exitPolicy: body.exit_policy === 'stop' ? 'stop' : 'continue',
  };
  if (body.hostname) spec.hostname = body.hostname;
  if (body.share_parent === false) spec.shareParent = false;
  if (!body.no_infra) {
    // The infra container takes the body's container fields; not its name, labels or the pod's limits.
    const { name: _name, labels: _labels, resource_limits: _limits, hostname: _hostname, pod: _pod, ...infraBody } = body;
    const infra = toSpec({ ...infraBody, env: {} }, body.infra_image ?? '').spec;
    if (body.infra_command?.length) infra.process.entrypoint = body.infra_command;
    spec.infra = infra;
    if (body.infra_name) spec.infraName = body.infra_name;
  }
  const echo: Record<string, unknown> = { createCommand: body.pod_create_command ?? null, shareParent: body.share_parent ?? null };
  return { spec, echo };
}
