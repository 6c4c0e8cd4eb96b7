// /_ping, /version, /info, /system/df.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Api, Container } from '../../../runtime/api.js';
import { DiskUsageQuery, SystemDataUsage, SystemInfo, SystemVersion } from '../../../openapi/system.js';
import { BERTH_VERSION, LIBPOD_API_VERSION, MAX_API_VERSION, MIN_API_VERSION, versionBefore } from '../../versioning.js';
import { apiVersion } from '../../app.js';
import { imageSummary } from '../views/images.js';
import { sizeFields } from '../views/containers.js';
import { volumeView } from '../views/volumes.js';

export interface SystemRouteOptions {
  api: Api;
  /** A container as `docker ps` shows it at an API version (the view still reads the engine; system df lists containers so). */
  containerView: (c: Container, version: string) => object;
}

// The engine's start (this module loads once, at start).
const STARTED_AT = new Date().toISOString();

export const systemRoutes: FastifyPluginAsync<SystemRouteOptions> = async (plain, { api, containerView }) => {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();
  const ping = {
    handler: async (request: { method: string }, reply: FastifyReply) => {
      reply.headers({
        'Builder-Version': '1',
        'Cache-Control': 'no-cache, no-store, must-revalidate',
        Pragma: 'no-cache',
        'Libpod-Api-Version': LIBPOD_API_VERSION,
        'Content-Type': 'text/plain; charset=utf-8',
      });
      return request.method === 'HEAD' ? reply.header('Content-Length', 0).send() : reply.send('OK');
    },
  };
  app.route({ method: ['GET', 'HEAD'], url: '/_ping', schema: { summary: 'Ping' }, handler: ping.handler });

  app.get('/version', { schema: { summary: 'Engine version', response: { 200: SystemVersion } } }, async (): Promise<SystemVersion> => {
    const { host } = api.system;
    const runtime = host.runtimes.find((r) => r.name === host.defaultRuntime) ?? host.runtimes[0];
    const components: SystemVersion['Components'] = [
      {
        Name: 'Engine',
        Version: BERTH_VERSION,
        Details: {
          ApiVersion: MAX_API_VERSION,
          Arch: host.goArch,
          BuildTime: '',
          Experimental: 'false',
          GitCommit: '',
          GoVersion: `node${process.versions.node}`,
          KernelVersion: host.kernelVersion,
          MinAPIVersion: MIN_API_VERSION,
          Os: 'linux',
          // berth's own detail (dockerd has none): when this engine started, the console's uptime.
          StartedAt: STARTED_AT,
        },
      },
    ];
    if (host.conmonVersion) components.push({ Name: 'conmon', Version: host.conmonVersion, Details: { GitCommit: '' } });
    if (runtime) components.push({ Name: runtime.name, Version: runtime.version, Details: { GitCommit: runtime.commit } });
    return {
      Platform: { Name: 'berth' },
      Components: components,
      Version: BERTH_VERSION,
      ApiVersion: MAX_API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: '',
      GoVersion: `node${process.versions.node}`,
      Os: 'linux',
      Arch: host.goArch,
      KernelVersion: host.kernelVersion,
      BuildTime: '',
    };
  });

  app.get('/info', { schema: { summary: 'System information', response: { 200: SystemInfo } } }, async (request): Promise<SystemInfo> => {
    const info = systemInfo();
    // Before 1.25 dockerd 20.10 adds ExecutionDriver and gives security options by name only.
    if (!versionBefore(apiVersion(request), '1.25')) return info;
    const names = info.SecurityOptions.map((o) => /(?:^|,)name=([^,]*)/.exec(o)?.[1] ?? o);
    return { ...info, ExecutionDriver: '<not supported>', SecurityOptions: names };
  });

  const systemInfo = (): SystemInfo => {
    const { host } = api.system;
    const has = (controller: string) => host.cgroupLimits && host.limitControllers.includes(controller);
    const runtime = host.runtimes.find((r) => r.name === host.defaultRuntime);
    const { containers: counts, images } = api.system.counts();
    return {
      ID: api.system.id,
      Containers: counts.total,
      ContainersRunning: counts.running + counts.restarting,
      ContainersPaused: counts.paused,
      ContainersStopped: counts.total - counts.running - counts.restarting - counts.paused,
      Images: images,
      Driver: 'overlay2',
      DriverStatus: [
        ['Backing Filesystem', 'extfs'],
        ['Supports d_type', 'true'],
        ['Native Overlay Diff', 'true'],
        ['userxattr', String(host.securityOptions.includes('name=rootless'))],
      ],
      Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'null'], Authorization: null, Log: ['k8s-file'] },
      // A rootless engine without a delegated cgroup has no limits at all (as a rootless dockerd says);
      // a host without a controller none of its kind.
      MemoryLimit: has('memory'),
      SwapLimit: has('memory'),
      CpuCfsPeriod: has('cpu'),
      CpuCfsQuota: has('cpu'),
      CPUShares: has('cpu'),
      CPUSet: has('cpuset'),
      PidsLimit: has('pids'),
      OomKillDisable: has('memory') && host.cgroupVersion === '1',
      IPv4Forwarding: true,
      BridgeNfIptables: true,
      BridgeNfIp6tables: true,
      Debug: false,
      NFd: 0,
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'k8s-file',
      CgroupDriver: host.cgroupLimits ? host.cgroupDriver : 'none',
      CgroupVersion: host.cgroupVersion,
      NEventsListener: 0,
      KernelVersion: host.kernelVersion,
      OperatingSystem: host.operatingSystem,
      OSVersion: host.osVersion,
      OSType: 'linux',
      Architecture: host.architecture,
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: {
        AllowNondistributableArtifactsCIDRs: [],
        AllowNondistributableArtifactsHostnames: [],
        InsecureRegistryCIDRs: ['127.0.0.0/8'],
        IndexConfigs: { 'docker.io': { Name: 'docker.io', Mirrors: [], Secure: true, Official: true } },
        Mirrors: [],
      },
      NCPU: host.ncpu,
      MemTotal: host.memTotal,
      GenericResources: null,
      DockerRootDir: api.system.root,
      HttpProxy: process.env.HTTP_PROXY ?? '',
      HttpsProxy: process.env.HTTPS_PROXY ?? '',
      NoProxy: process.env.NO_PROXY ?? '',
      Name: host.hostname,
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: BERTH_VERSION,
      Runtimes: Object.fromEntries(host.runtimes.map((r) => [r.name, { path: r.path }])),
      DefaultRuntime: host.defaultRuntime,
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: true,
      Isolation: '',
      InitBinary: 'catatonit',
      ContainerdCommit: { ID: '', Expected: '' },
      RuncCommit: { ID: runtime?.commit || runtime?.version || '', Expected: runtime?.commit || runtime?.version || '' },
      InitCommit: { ID: '', Expected: '' },
      SecurityOptions: host.securityOptions,
      CDISpecDirs: [],
      Warnings: host.cgroupLimits ? controllerWarnings(has) : [rootlessWithoutCgroups(host.cgroupVersion)],
    };
  };

  // dockerd's shape: kinds not asked for are null; `type` is read from API 1.42 on.
  app.get(
    '/system/df',
    { schema: { summary: 'Disk usage', querystring: DiskUsageQuery, response: { 200: SystemDataUsage } } },
    async (request): Promise<SystemDataUsage> => {
      const version = apiVersion(request);
      const asked = request.query.type;
      const types = asked === undefined || versionBefore(version, '1.42') ? [] : Array.isArray(asked) ? asked : [asked];
      const usage = await api.system.diskUsage(types);
      const builderSize = (usage.buildCache ?? []).reduce((a, r) => a + r.Size, 0);
      return {
        LayersSize: usage.layersSize,
        Images:
          usage.images?.map((i) => ({ ...imageSummary(i.image, api.images.names(i.image.id), version), Containers: i.containers, SharedSize: i.sharedSize })) ??
          null,
        Containers: usage.containers?.map((c) => ({ ...containerView(c.container, version), ...sizeFields(c) })) ?? null,
        Volumes: usage.volumes?.map((v) => ({ ...volumeView(v.volume), UsageData: { Size: v.size, RefCount: v.refCount } })) ?? null,
        BuildCache: usage.buildCache ?? null,
        ...(versionBefore(version, '1.42') && builderSize ? { BuilderSize: builderSize } : {}),
      };
    },
  );
};

/** What a rootless dockerd's `docker info` says where it has no cgroups (its cgroup driver `none`): limits are ignored. */
const rootlessWithoutCgroups = (version: '1' | '2') =>
  version === '2'
    ? 'WARNING: Running in rootless-mode without cgroups. Systemd is required to enable cgroups in rootless-mode.'
    : 'WARNING: Running in rootless-mode without cgroups. To enable cgroups in rootless-mode, you need to boot the system in cgroup v2 mode.';

/** dockerd's `docker info` warnings for controllers the host lacks (null: none), as on cgroup v2. */
function controllerWarnings(has: (controller: string) => boolean): string[] | null {
  const out: string[] = [];
  if (!has('memory')) out.push('WARNING: No memory limit support', 'WARNING: No swap limit support');
  if (!has('cpu')) out.push('WARNING: No cpu cfs quota support', 'WARNING: No cpu cfs period support', 'WARNING: No cpu shares support');
  if (!has('cpuset')) out.push('WARNING: No cpuset support');
  if (!has('io'))
    out.push(
      'WARNING: No io.weight support',
      'WARNING: No io.weight (per device) support',
      'WARNING: No io.max (rbps) support',
      'WARNING: No io.max (wbps) support',
      'WARNING: No io.max (riops) support',
      'WARNING: No io.max (wiops) support',
    );
  return out.length ? out : null;
}
