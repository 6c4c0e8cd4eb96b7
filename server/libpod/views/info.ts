// podman's `info` document (define.Info) from what the engine knows of its host, store and registries.
import { DEFAULT_CAPABILITIES, type Api, type IdMapping, type LiveDetails, type StaticDetails } from '../../../runtime/api.js';
import type { LibpodInfo } from '../../../openapi/libpod-system.js';
import { LIBPOD_API_VERSION } from '../../versioning.js';

/** podman's uptime text: `6h 8m 29.00s (Approximately 0.25 days)` (days from the whole hours). */
export function uptimeText(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60).toFixed(2); // whole seconds, printed as podman prints them
  const text = h ? `${h}h ${m}m ${s}s` : m ? `${m}m ${s}s` : `${s}s`;
  return h ? `${text} (Approximately ${(h / 24).toFixed(2)} days)` : text;
}

/** podman's names for a map's lines; null where the engine has none (rootful). */
const podmanIdMap = (map: IdMapping[] | undefined) => map?.map((m) => ({ container_id: m.containerID, host_id: m.hostID, size: m.size })) ?? null;

export function libpodInfo(api: Api, o: { details: StaticDetails; live: LiveDetails; socket: string; buildahVersion: string }): LibpodInfo {
  const { host, root, runRoot } = api.system;
  const { details, live } = o;
  const runtimeName = host.runtimes.find((r) => r.path === details.runtime.path)?.name ?? host.defaultRuntime;
  const { containers, images } = api.system.counts();
  const running = containers.running + containers.restarting;
  const conf = api.system.registries();
  const registries: LibpodInfo['registries'] = {};
  for (const r of conf.registries)
    registries[r.prefix] = {
      Prefix: r.prefix,
      Location: r.location,
      Insecure: r.insecure,
      PullFromMirror: '',
      Mirrors: r.mirrors.length ? r.mirrors.map((m) => ({ Location: m.location, Insecure: m.insecure, PullFromMirror: '' })) : null,
      Blocked: r.blocked,
      MirrorByDigestOnly: false,
    };
  if (conf.unqualifiedSearchRegistries.length) registries.search = conf.unqualifiedSearchRegistries;
  return {
    host: {
      arch: host.goArch,
      buildahVersion: o.buildahVersion,
      cgroupManager: host.cgroupDriver,
      cgroupVersion: `v${host.cgroupVersion}`,
      cgroupControllers: details.cgroupControllers,
      conmon: { ...details.conmon, version: details.conmon.version.replace(/\n/g, ', ') },
      cpus: host.ncpu,
      cpuUtilization: live.cpuUtilization,
      distribution: details.distribution,
      eventLogger: 'file',
      hostname: host.hostname,
      idMappings: { gidmap: podmanIdMap(host.idMappings?.gidmap), uidmap: podmanIdMap(host.idMappings?.uidmap) },
      kernel: host.kernelVersion,
      logDriver: 'k8s-file',
      memFree: live.memFree,
      memTotal: host.memTotal,
      networkBackend: 'netavark',
      ociRuntime: { name: runtimeName, ...details.runtime },
      os: 'linux',
      remoteSocket: { path: o.socket, exists: o.socket !== '' },
      serviceIsRemote: false,
      security: {
        apparmorEnabled: host.securityOptions.includes('name=apparmor'),
        capabilities: [...DEFAULT_CAPABILITIES].sort().join(','),
        rootless: host.securityOptions.includes('name=rootless'),
        seccompEnabled: host.securityOptions.some((s) => s.includes('seccomp')),
        seccompProfilePath: '', // berth's profile is built in
        selinuxEnabled: false,
      },
      slirp4netns: { executable: '', package: '', version: '' }, // rootful: berth never uses it
      swapFree: live.swapFree,
      swapTotal: live.swapTotal,
      uptime: uptimeText(live.uptime),
      linkmode: 'dynamic',
    },
    store: {
      configFile: '',
      containerStore: { number: containers.total, paused: containers.paused, running, stopped: containers.total - running - containers.paused },
      graphDriverName: 'overlay',
      graphOptions: {},
      graphRoot: root,
      graphRootAllocated: live.graph.allocated,
      graphRootUsed: live.graph.used,
      graphStatus: { 'Backing Filesystem': live.graph.backingFilesystem, 'Native Overlay Diff': 'true', 'Supports d_type': 'true', 'Using metacopy': 'false' },
      imageCopyTmpDir: `${root}/tmp`,
      imageStore: { number: images },
      runRoot,
      volumePath: `${root}/volumes`,
    },
    registries,
    plugins: { volume: ['local'], network: ['bridge'], log: ['k8s-file', 'none'], authorization: null },
    version: {
      APIVersion: LIBPOD_API_VERSION,
      Version: LIBPOD_API_VERSION,
      GoVersion: `node${process.versions.node}`,
      GitCommit: '',
      BuiltTime: 'Thu Jan  1 00:00:00 1970',
      Built: 0,
      OsArch: `linux/${host.goArch}`,
      Os: 'linux',
    },
  };
}
