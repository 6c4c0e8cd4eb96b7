// The Docker create body → ContainerSpec converter, as a table (Moby's container_routes_test.go style):
// each HostConfig and Config field berth supports, what the spec holds for it, and that the Docker
// Config/HostConfig rebuilt from the spec (+ echo) after the image's defaults are merged is what the
// containers row held before the spec (mergeConfig over the request, the host config as sent).
import { describe, expect, it } from 'vitest';
import { startChangesOf, toSpec } from '../server/compat/create/to-spec.js';
import { goHostConfigKeys } from '../server/compat/go-keys.js';
import { dockerOf } from '../server/compat/create/to-docker.js';
import { completeSpec } from '../runtime/containers/config.js';
import { mergeConfig } from './helpers/legacy-config.js';
import type { ContainerCreateBody, HostConfig } from '../openapi/containers.js';
import type { ImageConfig } from '../runtime/images/config.js';
import type { ContainerSpec, StartChanges } from '../runtime/containers/spec.js';
import { specOfLegacyRow } from '../runtime/state/spec-migration.js';

const ID = 'abcdef0123456789'.repeat(4);
const IMAGE: ImageConfig = {
  config: {
    Env: ['PATH=/usr/bin:/bin', 'FROM_IMAGE=1'],
    Cmd: ['sh'],
    Labels: { 'org.image': 'yes', shared: 'image' },
    ExposedPorts: { '8080/tcp': {} },
    Volumes: { '/data': {} },
    WorkingDir: '/srv',
    User: 'daemon',
    StopSignal: 'SIGQUIT',
    Healthcheck: { Test: ['CMD', 'true'], Interval: 5e9, Retries: 2 },
  },
};
const BARE: ImageConfig = { config: {} };

type Case = {
  name: string;
  body: ContainerCreateBody;
  version?: string;
  image?: ImageConfig;
  spec?: DeepPartial<ContainerSpec>;
  completed?: DeepPartial<ContainerSpec>;
  echo?: object;
};
type DeepPartial<T> = { [K in keyof T]?: T[K] extends (infer U)[] ? U[] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

const hc = (HostConfig: ContainerCreateBody['HostConfig']): ContainerCreateBody => ({ Image: 'busybox', HostConfig });

const cases: Case[] = [
  // Config
  {
    name: 'image only',
    body: { Image: 'busybox' },
    spec: { image: 'busybox', process: { env: [], tty: false, stdin: false, stdinOnce: false }, labels: {} },
    completed: {
      process: { env: ['PATH=/usr/bin:/bin', 'FROM_IMAGE=1'], command: ['sh'], user: 'daemon', workdir: '/srv', stopSignal: 'SIGQUIT' },
      network: { hostname: ID.slice(0, 12) },
    },
  },
  {
    name: 'Cmd list',
    body: { Image: 'busybox', Cmd: ['echo', 'hi'] },
    spec: { process: { command: ['echo', 'hi'] } },
    completed: { process: { command: ['echo', 'hi'] } },
  },
  { name: 'Cmd string (old clients)', body: { Image: 'busybox', Cmd: 'echo hi' }, spec: { process: { command: ['echo hi'] } } },
  { name: 'Entrypoint drops the image Cmd', body: { Image: 'busybox', Entrypoint: ['top'] }, completed: { process: { entrypoint: ['top'] } } },
  { name: 'Entrypoint "" clears the image entrypoint', body: { Image: 'busybox', Entrypoint: [''], Cmd: ['ls'] }, spec: { process: { entrypoint: [''] } } },
  { name: 'Entrypoint [] keeps the image Cmd', body: { Image: 'busybox', Entrypoint: [] }, completed: { process: { entrypoint: [], command: ['sh'] } } },
  {
    name: 'Env over the image',
    body: { Image: 'busybox', Env: ['FROM_IMAGE=2', 'A=b'] },
    completed: { process: { env: ['FROM_IMAGE=2', 'A=b', 'PATH=/usr/bin:/bin'] } },
  },
  {
    name: 'PATH default without one',
    body: { Image: 'busybox', Env: ['A=1'] },
    image: BARE,
    completed: { process: { env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'A=1'] } },
  },
  { name: 'Env null', body: { Image: 'busybox', Env: null }, spec: { process: { env: [] } } },
  { name: 'WorkingDir, User', body: { Image: 'busybox', WorkingDir: '/app', User: '1000:1000' }, spec: { process: { workdir: '/app', user: '1000:1000' } } },
  {
    name: 'Tty, OpenStdin, StdinOnce',
    body: { Image: 'busybox', Tty: true, OpenStdin: true, StdinOnce: true },
    spec: { process: { tty: true, stdin: true, stdinOnce: true } },
  },
  {
    name: 'Attach flags are echoed',
    body: { Image: 'busybox', AttachStdin: true, AttachStdout: true },
    echo: { Config: { AttachStdin: true, AttachStdout: true, AttachStderr: false } },
  },
  {
    name: 'Hostname, Domainname',
    body: { Image: 'busybox', Hostname: 'web', Domainname: 'example.com' },
    spec: { network: { hostname: 'web', domainname: 'example.com' } },
  },
  {
    name: 'Labels over the image',
    body: { Image: 'busybox', Labels: { shared: 'mine', a: 'b' } },
    completed: { labels: { 'org.image': 'yes', shared: 'mine', a: 'b' } },
  },
  {
    name: 'ExposedPorts',
    body: { Image: 'busybox', ExposedPorts: { '80/tcp': {}, '53/udp': {} } },
    spec: { ports: { expose: ['80/tcp', '53/udp'] } },
    completed: { ports: { expose: ['8080/tcp', '80/tcp', '53/udp'] } },
  },
  {
    name: 'Volumes',
    body: { Image: 'busybox', Volumes: { '/cache': {} } },
    spec: { mounts: { anonymous: ['/cache'] } },
    completed: { mounts: { anonymous: ['/data', '/cache'] } },
  },
  {
    name: 'StopSignal, StopTimeout',
    body: { Image: 'busybox', StopSignal: 'SIGTERM', StopTimeout: 3 },
    spec: { process: { stopSignal: 'SIGTERM', stopTimeout: 3 } },
  },
  {
    name: 'Healthcheck over the image',
    body: { Image: 'busybox', Healthcheck: { Test: ['CMD-SHELL', 'true'], Timeout: 2e9, Retries: 0 } },
    spec: { healthcheck: { test: ['CMD-SHELL', 'true'], timeout: 2e9, retries: 0 } },
    completed: { healthcheck: { test: ['CMD-SHELL', 'true'], interval: 5e9, timeout: 2e9, retries: 2 } },
  },
  {
    name: 'Healthcheck NONE',
    body: { Image: 'busybox', Healthcheck: { Test: ['NONE'] } },
    completed: { healthcheck: { test: ['NONE'], interval: 5e9, retries: 2 } },
  },
  {
    name: 'Healthcheck StartInterval from 1.44',
    body: { Image: 'busybox', Healthcheck: { Test: ['CMD', 'x'], StartInterval: 1e9 } },
    version: '1.44',
    spec: { healthcheck: { startInterval: 1e9 } },
  },
  {
    name: 'Healthcheck StartInterval ignored before 1.44',
    body: { Image: 'busybox', Healthcheck: { Test: ['CMD', 'x'], StartInterval: 1e9 } },
    version: '1.43',
    image: BARE,
    spec: { healthcheck: { test: ['CMD', 'x'] } },
  },
  { name: 'Shell', body: { Image: 'busybox', Shell: ['/bin/bash', '-c'] }, spec: { process: { shell: ['/bin/bash', '-c'] } } },
  { name: 'MacAddress', body: { Image: 'busybox', MacAddress: '02:42:ac:11:00:09' }, spec: { network: { mac: '02:42:ac:11:00:09' } } },
  { name: 'NetworkDisabled', body: { Image: 'busybox', NetworkDisabled: true } as ContainerCreateBody, spec: { network: { disabled: true } } },
  {
    name: 'unknown Config keys are echoed',
    body: { Image: 'busybox', NetworkDisabled: false, OnBuild: null, ArgsEscaped: true } as ContainerCreateBody,
    spec: { network: { disabled: false } },
    echo: { Config: { OnBuild: null, ArgsEscaped: true } },
  },
  // HostConfig: mounts
  { name: 'Binds', body: hc({ Binds: ['/tmp:/mnt:ro', 'vol:/data'] }), spec: { mounts: { volumes: ['/tmp:/mnt:ro', 'vol:/data'] } } },
  {
    name: 'Mounts',
    body: hc({ Mounts: [{ Type: 'bind', Source: '/tmp', Target: '/mnt', ReadOnly: true, BindOptions: { Propagation: 'rslave' } }] as never }),
    spec: { mounts: { mounts: [{ Type: 'bind', Source: '/tmp', Target: '/mnt', ReadOnly: true, BindOptions: { Propagation: 'rslave' } }] as never } },
  },
  { name: 'Tmpfs', body: hc({ Tmpfs: { '/run': 'size=64m' } }), spec: { mounts: { tmpfs: { '/run': 'size=64m' } } } },
  {
    name: 'VolumesFrom, VolumeDriver',
    body: hc({ VolumesFrom: ['other:ro'], VolumeDriver: 'local' }),
    spec: { mounts: { volumesFrom: ['other:ro'], volumeDriver: 'local' } },
  },
  // HostConfig: network
  { name: 'NetworkMode host', body: hc({ NetworkMode: 'host' }), spec: { namespaces: { network: 'host' }, network: { mode: 'host' } } },
  { name: 'NetworkMode none', body: hc({ NetworkMode: 'none' }), spec: { namespaces: { network: 'none' } } },
  { name: 'NetworkMode container', body: hc({ NetworkMode: 'container:web' }), spec: { namespaces: { network: 'container:web' } } },
  { name: 'NetworkMode user network', body: hc({ NetworkMode: 'mynet' }), spec: { namespaces: { network: 'private' }, network: { mode: 'mynet' } } },
  {
    name: 'NetworkingConfig endpoints',
    body: {
      Image: 'busybox',
      HostConfig: { NetworkMode: 'mynet' },
      NetworkingConfig: {
        EndpointsConfig: {
          mynet: {
            Aliases: ['db'],
            IPAMConfig: { IPv4Address: '10.0.0.5', IPv6Address: 'fd00::5', LinkLocalIPs: ['169.254.0.9'] },
            MacAddress: '02:00:00:00:00:01',
            DriverOpts: { a: 'b' },
          },
          other: null,
        },
      },
    },
    spec: {
      network: {
        endpoints: {
          mynet: { aliases: ['db'], ipv4: '10.0.0.5', ipv6: 'fd00::5', linkLocalIps: ['169.254.0.9'], mac: '02:00:00:00:00:01', driverOpts: { a: 'b' } },
          other: null,
        },
      },
    },
    completed: {},
  },
  {
    name: 'NetworkingConfig endpoint Links',
    body: { Image: 'busybox', HostConfig: { NetworkMode: 'mynet' }, NetworkingConfig: { EndpointsConfig: { mynet: { Links: ['web:db'] } } } },
    spec: { network: { endpoints: { mynet: { links: ['web:db'] } } } },
  },
  {
    name: 'PortBindings, PublishAllPorts',
    body: hc({ PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }, { HostPort: '' }], '53/udp': null }, PublishAllPorts: true }),
    spec: { ports: { publish: { '80/tcp': [{ hostIp: '127.0.0.1', hostPort: '8080' }, { hostPort: '' }], '53/udp': null }, publishAll: true } },
  },
  {
    name: 'Dns, DnsSearch, DnsOptions, ExtraHosts',
    body: hc({ Dns: ['1.1.1.1'], DnsSearch: ['example.com'], DnsOptions: ['ndots:2'], ExtraHosts: ['h:10.0.0.1'] }),
    spec: { network: { dns: ['1.1.1.1'], dnsSearch: ['example.com'], dnsOptions: ['ndots:2'], hosts: ['h:10.0.0.1'] } },
  },
  { name: 'Links', body: hc({ Links: ['db:database'] }), spec: { network: { links: ['db:database'] } } },
  // HostConfig: namespaces
  {
    name: 'PidMode host, IpcMode shareable, UTSMode host',
    body: hc({ PidMode: 'host', IpcMode: 'shareable', UTSMode: 'host' }),
    spec: { namespaces: { pid: 'host', ipc: 'shareable', uts: 'host' } },
  },
  {
    name: 'PidMode/IpcMode container',
    body: hc({ PidMode: 'container:a', IpcMode: 'container:b' }),
    spec: { namespaces: { pid: 'container:a', ipc: 'container:b' } },
  },
  { name: 'IpcMode none, private', body: hc({ IpcMode: 'none' }), spec: { namespaces: { ipc: 'none', pid: 'private', uts: 'private' } } },
  { name: 'IpcMode private', body: hc({ IpcMode: 'private' }), spec: { namespaces: { ipc: 'private' } } },
  { name: 'API 1.38: a HostConfig without IpcMode is shareable', body: hc({}), version: '1.38', spec: { namespaces: { ipc: 'shareable' } } },
  { name: 'API 1.38: an IpcMode sent is kept', body: hc({ IpcMode: 'private' }), version: '1.38', spec: { namespaces: { ipc: 'private' } } },
  { name: 'API 1.38: no HostConfig, no default', body: { Image: 'busybox' }, version: '1.38', spec: { namespaces: { ipc: 'private' } } },
  { name: 'API 1.40: a HostConfig without IpcMode is private', body: hc({}), version: '1.40', spec: { namespaces: { ipc: 'private' } } },
  {
    name: "Env entry without '=' kept (the OCI spec leaves it out of the process)",
    body: { Image: 'busybox', Env: ['A=1', 'UNSET'] },
    spec: { process: { env: ['A=1', 'UNSET'] } },
  },
  // HostConfig: resources
  {
    name: 'memory',
    body: hc({ Memory: 64 << 20, MemorySwap: -1, MemoryReservation: 32 << 20, MemorySwappiness: 10, OomKillDisable: false }),
    spec: { resources: { memory: 64 << 20, memorySwap: -1, memoryReservation: 32 << 20, memorySwappiness: 10, oomKillDisable: false } },
  },
  {
    name: 'cpu',
    body: hc({ NanoCpus: 5e8, CpuShares: 512, CpusetCpus: '0', CpusetMems: '0' }),
    spec: { resources: { nanoCpus: 5e8, cpuShares: 512, cpusetCpus: '0', cpusetMems: '0' } },
  },
  { name: 'cpu period and quota', body: hc({ CpuPeriod: 100000, CpuQuota: 50000 }), spec: { resources: { cpuPeriod: 100000, cpuQuota: 50000 } } },
  {
    name: 'PidsLimit, BlkioWeight, ShmSize, DeviceCgroupRules',
    body: hc({ PidsLimit: 100, BlkioWeight: 300, ShmSize: 1 << 20, DeviceCgroupRules: ['c 1:3 rwm'] }),
    spec: { resources: { pidsLimit: 100, blkioWeight: 300, shmSize: 1 << 20, deviceRules: ['c 1:3 rwm'] } },
  },
  {
    name: 'PidsLimit 0 and MemorySwappiness -1 kept as given',
    body: hc({ PidsLimit: 0, MemorySwappiness: -1 }),
    spec: { resources: { pidsLimit: 0, memorySwappiness: -1 } },
  },
  {
    name: 'Ulimits, OomScoreAdj, Init, ConsoleSize, GroupAdd',
    body: hc({ Ulimits: [{ Name: 'nofile', Soft: 10, Hard: 20 }], OomScoreAdj: 100, Init: true, ConsoleSize: [40, 120], GroupAdd: ['audio'] }),
    spec: { process: { rlimits: [{ name: 'nofile', soft: 10, hard: 20 }], oomScoreAdj: 100, init: true, consoleSize: [40, 120], groups: ['audio'] } },
  },
  // HostConfig: security
  { name: 'Privileged, ReadonlyRootfs', body: hc({ Privileged: true, ReadonlyRootfs: true }), spec: { security: { privileged: true, readonlyRootfs: true } } },
  {
    name: 'CapAdd, CapDrop as spelt',
    body: hc({ CapAdd: ['net_admin', 'CAP_SYS_TIME'], CapDrop: ['ALL'] }),
    spec: { security: { capAdd: ['net_admin', 'CAP_SYS_TIME'], capDrop: ['ALL'] } },
  },
  {
    name: 'SecurityOpt, Sysctls',
    body: hc({ SecurityOpt: ['no-new-privileges', 'seccomp=unconfined'], Sysctls: { 'net.ipv4.ip_forward': '1' } }),
    spec: { security: { options: ['no-new-privileges', 'seccomp=unconfined'], sysctls: { 'net.ipv4.ip_forward': '1' } } },
  },
  { name: 'CapAdd null is absent', body: hc({ CapAdd: null, CapDrop: [] }), spec: { security: { privileged: false, readonlyRootfs: false, capDrop: [] } } },
  // HostConfig: restart, log, runtime, other
  {
    name: 'RestartPolicy on-failure',
    body: hc({ RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } }),
    spec: { restart: { policy: 'on-failure', maxRetries: 3, autoRemove: false } },
  },
  { name: 'AutoRemove', body: hc({ AutoRemove: true, RestartPolicy: { Name: '' } }), spec: { restart: { policy: '', maxRetries: 0, autoRemove: true } } },
  {
    name: 'LogConfig',
    body: hc({ LogConfig: { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '2' } } }),
    spec: { log: { driver: 'json-file', options: { 'max-size': '1m', 'max-file': '2' } } },
  },
  { name: 'LogConfig none', body: hc({ LogConfig: { Type: 'none' } }), spec: { log: { driver: 'none' } } },
  { name: 'Runtime', body: hc({ Runtime: 'runc' }), spec: { runtime: 'runc' } },
  { name: 'Annotations', body: hc({ Annotations: { 'io.x': 'y' } } as never), spec: { annotations: { 'io.x': 'y' } } },
  {
    name: 'fields berth keeps but does not act on are echoed',
    body: hc({
      Isolation: 'default',
      CgroupParent: '/x',
      BlkioWeightDevice: [{ Path: '/dev/sda', Weight: 10 }],
      KernelMemory: 0,
      ContainerIDFile: '',
    } as never),
    echo: {
      HostConfig: { Isolation: 'default', CgroupParent: '/x', BlkioWeightDevice: [{ Path: '/dev/sda', Weight: 10 }], KernelMemory: 0, ContainerIDFile: '' },
    },
  },
];

/** What the row held before the spec: the request merged over the image (mergeConfig), the host config as sent. */
function legacyRow(c: Case) {
  const { HostConfig, NetworkingConfig, ...request } = structuredClone(c.body);
  if (request.Healthcheck && c.version && c.version < '1.44') request.Healthcheck.StartInterval = undefined;
  // The create route gave API < 1.40 host configs without an IpcMode 'shareable' before it stored them.
  if (HostConfig && !HostConfig.IpcMode && c.version && c.version < '1.40') HostConfig.IpcMode = 'shareable';
  const config = mergeConfig(request, c.image ?? IMAGE, ID);
  const mac = NetworkingConfig?.EndpointsConfig?.[HostConfig?.NetworkMode ?? '']?.MacAddress;
  config.MacAddress ||= mac || undefined;
  return canonical({ config, hostConfig: HostConfig ?? {} });
}

/**
 * Equal as inspect shows them (views/containers.ts): null is Go's zero value, so a key holding it is as
 * absent; so are false flags (read with !!), '' modes, IpcMode private (the default) and an empty RestartPolicy.
 */
function canonical(v: unknown): unknown {
  if (v && typeof v === 'object' && 'IpcMode' in v && v.IpcMode === 'private') return canonical({ ...v, IpcMode: '' });
  if (v && typeof v === 'object' && 'RestartPolicy' in v && isEmptyPolicy(v.RestartPolicy)) return canonical({ ...v, RestartPolicy: null });
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k, x]) => x != null && !(x === false && FLAGS.has(k)) && !(x === '' && EMPTY.has(k)))
        .map(([k, x]) => [k, canonical(x)]),
    );
  }
  return v;
}
const FLAGS = new Set(['Privileged', 'ReadonlyRootfs', 'AutoRemove', 'PublishAllPorts']);
const EMPTY = new Set(['NetworkMode', 'PidMode', 'IpcMode', 'UTSMode', 'VolumeDriver', 'Runtime']);
const isEmptyPolicy = (p: unknown) =>
  !!p && typeof p === 'object' && !(p as { Name?: string }).Name && !(p as { MaximumRetryCount?: number }).MaximumRetryCount;

describe('Docker create body → ContainerSpec', () => {
  for (const c of cases) {
    it(c.name, () => {
      const { spec, echo } = toSpec(structuredClone(c.body), c.version ?? '1.50');
      if (c.spec) expect(spec).toMatchObject(c.spec);
      if (c.echo) expect(echo).toMatchObject(c.echo);
      const mac = c.body.NetworkingConfig?.EndpointsConfig?.[c.body.HostConfig?.NetworkMode ?? '']?.MacAddress;
      const completed = completeSpec(spec, c.image ?? IMAGE, ID, { mac: mac || undefined });
      if (c.completed) expect(completed).toMatchObject(c.completed);
      // Inspect's source is unchanged: the Docker Config/HostConfig rebuilt from spec + echo is the old row's.
      expect(canonical(dockerOf(completed, { docker: echo }))).toEqual(legacyRow(c));
    });
  }

  // Migration 14 turns a row the old code wrote into what the converter makes of the same request now.
  it('a row written before the spec migrates to the spec and echo a create makes now', () => {
    for (const c of cases) {
      const { spec, echo } = toSpec(structuredClone(c.body), c.version ?? '1.50');
      const mac = c.body.NetworkingConfig?.EndpointsConfig?.[c.body.HostConfig?.NetworkMode ?? '']?.MacAddress;
      const {
        network: { endpoints: _endpoints, ...network },
        ...completed
      } = completeSpec(spec, c.image ?? IMAGE, ID, { mac: mac || undefined });
      const { config, hostConfig } = legacyRow(c) as { config: Record<string, unknown>; hostConfig: Record<string, unknown> };
      const migrated = specOfLegacyRow(config, hostConfig);
      // (Endpoints live in their own tables: the old row never held them.)
      expect(canonical(migrated.spec), c.name).toEqual(canonical({ ...completed, network }));
      expect(canonical(migrated.echo), c.name).toEqual(canonical(echo));
    }
  });

  // The create route renames HostConfig keys as Go's JSON matches them (case-insensitively) before toSpec.
  it('HostConfig keys differing from a field in case only reach the echo as that field (a key spelled exactly wins)', () => {
    const body = hc({ CPURealtimePeriod: 1000, CpuRealtimeRuntime: 500, CPURealtimeRuntime: 7, memory: 4194304 } as ContainerCreateBody['HostConfig']);
    goHostConfigKeys(body.HostConfig);
    const { spec, echo } = toSpec(body, '1.50');
    expect(spec.resources.memory).toBe(4194304);
    expect(echo.HostConfig).toEqual({ CpuRealtimePeriod: 1000, CpuRealtimeRuntime: 500 });
  });

  it('the spec and the echo are JSON (what the row stores) and survive a round trip', () => {
    for (const c of cases) {
      const { spec, echo } = toSpec(structuredClone(c.body), c.version ?? '1.50');
      expect(JSON.parse(JSON.stringify({ spec, echo }))).toEqual({ spec, echo });
    }
  });
});

// A host config given to start (API < 1.24) → StartChanges: a field given (null too) replaces the
// container's; the network mode is always given (blank = `default`, dockerd's SetDefaultNetModeIfBlank).
describe('Docker start host config → StartChanges', () => {
  const rows: { name: string; hc: HostConfig; changes: StartChanges }[] = [
    { name: 'nothing: the default network', hc: {}, changes: { network: { mode: 'default', namespace: 'private' } } },
    {
      name: 'privileges and ports',
      hc: { Privileged: false, PortBindings: { '80/tcp': [{ HostPort: '8080' }] }, CapAdd: null },
      changes: { privileged: false, publish: { '80/tcp': [{ hostPort: '8080' }] }, capAdd: null, network: { mode: 'default', namespace: 'private' } },
    },
    {
      name: 'binds and tmpfs over the create ones, on a user network',
      hc: { Binds: ['/h:/data:ro', 'v:/vol'], Tmpfs: { '/tm': '' }, NetworkMode: 'startnet' },
      changes: { mounts: { volumes: ['/h:/data:ro', 'v:/vol'], tmpfs: { '/tm': '' } }, network: { mode: 'startnet', namespace: 'private' } },
    },
    {
      name: 'Mounts, VolumesFrom and a volume driver',
      hc: { Mounts: [{ Type: 'volume', Source: 'v', Target: '/m' }], VolumesFrom: ['other:ro'], VolumeDriver: 'local' },
      changes: {
        mounts: { mounts: [{ Type: 'volume', Source: 'v', Target: '/m' }], volumesFrom: ['other:ro'], volumeDriver: 'local' },
        network: { mode: 'default', namespace: 'private' },
      },
    },
    { name: 'Binds null clears them', hc: { Binds: null }, changes: { mounts: { volumes: null }, network: { mode: 'default', namespace: 'private' } } },
    { name: 'none: its own namespace, loopback only', hc: { NetworkMode: 'none' }, changes: { network: { mode: 'none', namespace: 'none' } } },
    { name: 'host: the host namespace', hc: { NetworkMode: 'host' }, changes: { network: { mode: 'host', namespace: 'host' } } },
  ];
  for (const r of rows) it(r.name, () => expect(startChangesOf(structuredClone(r.hc))).toEqual(r.changes));
});
