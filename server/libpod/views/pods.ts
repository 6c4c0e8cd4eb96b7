// Pods as the libpod API shows them: `podman pod ps`'s ListPodsReport and `podman pod inspect`'s
// InspectPodData, rebuilt from the pod's record, its members and its infra container. podman lists a
// pod's containers in its database's order (by ID); its cgroup parent is berth's (`/berth`).
import { type Container, type ContainerFacts, type PodDetails, inspectedUserns, sharesUserns } from '../../../runtime/api.js';
import { containerMounts } from '../../compat/views/volumes.js';
import { libpodState, networkNames, portMappings } from './containers.js';

const byId = (a: Container, b: Container) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const infraOf = (d: PodDetails) => d.members.find((c) => c.id === d.pod.infraId);

/** podman's order of shared namespaces in inspect, whatever order `--share` gave. */
const SHARED_ORDER = ['uts', 'cgroup', 'pid', 'ipc', 'net', 'user'] as const;

/** One entry of GET /libpod/pods/json. */
export function listPod(facts: ContainerFacts, d: PodDetails): object {
  const infra = infraOf(d);
  return {
    Cgroup: d.cgroupParent,
    Containers: [...d.members].sort(byId).map((c) => ({ Id: c.id, Names: c.name, Status: libpodState(c) })),
    Created: d.pod.created,
    Id: d.pod.id,
    InfraId: d.pod.infraId,
    Name: d.pod.name,
    Namespace: '',
    Networks: infra ? networkNames(facts, infra) : [],
    Status: d.status,
    Labels: d.pod.spec.labels,
  };
}

/** GET /libpod/pods/{name}/json: podman omits what a pod without infra container does not have. */
export function inspectPod(facts: ContainerFacts, d: PodDetails): object {
  const { pod } = d;
  const { spec } = pod;
  const infra = infraOf(d);
  const limits = spec.resources;
  const cpu = limits.cpuQuota ? { cpu_period: limits.cpuPeriod || 100000, cpu_quota: limits.cpuQuota } : {};
  const labels = Object.keys(spec.labels).length ? { Labels: spec.labels } : {};
  const members = [...d.members].sort(byId).map((c) => ({ Id: c.id, Name: c.name, State: libpodState(c) }));
  const common = {
    Id: pod.id,
    Name: pod.name,
    Created: pod.created,
    CreateCommand: (pod.echo.createCommand as string[] | null | undefined) ?? undefined,
    ExitPolicy: spec.exitPolicy,
    State: d.status,
    Hostname: spec.hostname ?? '',
    ...labels,
  };
  if (!infra) {
    return {
      ...common,
      CreateCgroup: false,
      CgroupParent: d.cgroupParent,
      CreateInfra: false,
      NumContainers: members.length,
      ...(members.length ? { Containers: members } : {}),
      ...cpu,
      ...(limits.memory ? { memory_limit: limits.memory, memory_swap: limits.memorySwap ?? 0 } : {}),
    };
  }
  const net = infra.spec.network;
  const hostNetwork = infra.spec.namespaces.network === 'host';
  const ports: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of portMappings(infra)) (ports[`${p.container_port}/${p.protocol}`] ??= []).push({ HostIp: p.host_ip, HostPort: String(p.host_port) });
  // The pod's volumes as podman lists them (its mode and propagation are the pod's defaults).
  const mounts = containerMounts(facts, infra).map((m) => ({
    ...m,
    Mode: '',
    Options: m.Type === 'volume' ? ['nosuid', 'nodev', 'rbind'] : m.Type === 'bind' ? ['rbind'] : [],
    Propagation: 'rprivate',
  }));
  // A pod with a user namespace of its own shares it too (`--userns`, not `--share`).
  const shared = new Set<string>([...spec.share, ...(sharesUserns(spec) ? ['user'] : [])]);
  const nonEmpty = (list: string[] | undefined) => (list?.length ? list : null);
  return {
    ...common,
    CreateCgroup: !!d.cgroupPath,
    CgroupParent: d.cgroupParent,
    ...(d.cgroupPath ? { CgroupPath: d.cgroupPath } : {}),
    CreateInfra: true,
    InfraContainerID: infra.id,
    InfraConfig: {
      PortBindings: ports,
      HostNetwork: hostNetwork,
      // podman 4.3 reports neither, even for a pod made with --ip or --mac-address.
      StaticIP: '',
      StaticMAC: '',
      NoManageResolvConf: false,
      DNSServer: nonEmpty(net.dns),
      DNSSearch: nonEmpty(net.dnsSearch),
      DNSOption: nonEmpty(net.dnsOptions),
      NoManageHosts: false,
      HostAdd: nonEmpty(net.hosts),
      Networks: hostNetwork ? [] : networkNames(facts, infra),
      NetworkOptions: null,
      ...cpu,
      pid_ns: 'private',
      userns: inspectedUserns(spec),
      uts_ns: 'private',
    },
    SharedNamespaces: SHARED_ORDER.filter((n) => shared.has(n)),
    NumContainers: members.length,
    Containers: members,
    ...cpu,
    ...(mounts.length ? { mounts } : {}),
    ...(limits.memory ? { memory_limit: limits.memory, memory_swap: limits.memorySwap ?? 0 } : {}),
  };
}
