// Schemas of the libpod API's container routes: the SpecGenerator podman --remote sends on create (the
// fields berth reads; every other key is kept as the libpod echo), and the list/remove/prune queries.
import { Type, type Static } from '@sinclair/typebox';

const Open = { additionalProperties: true };
const StrMap = Type.Record(Type.String(), Type.String());
const Strs = Type.Array(Type.String());
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/** `{nsmode, value}`; `{}` is the default. */
const Namespace = Type.Object({ nsmode: Type.Optional(Type.String()), value: Type.Optional(Type.String()) }, Open);

const OciMount = Type.Object(
  {
    destination: Type.String(),
    type: Type.Optional(Type.String()),
    source: Type.Optional(Type.String()),
    options: Type.Optional(Nullable(Strs)),
  },
  Open,
);

const NamedVolume = Type.Object(
  { Name: Type.String(), Dest: Type.String(), Options: Type.Optional(Nullable(Strs)), IsAnonymous: Type.Optional(Type.Boolean()) },
  Open,
);

const PortMapping = Type.Object(
  {
    host_ip: Type.Optional(Type.String()),
    container_port: Type.Integer(),
    host_port: Type.Optional(Type.Integer()),
    range: Type.Optional(Type.Integer()),
    protocol: Type.Optional(Type.String()),
  },
  Open,
);

const PerNetwork = Type.Object(
  {
    static_ips: Type.Optional(Nullable(Strs)),
    aliases: Type.Optional(Nullable(Strs)),
    static_mac: Type.Optional(Type.String()),
    interface_name: Type.Optional(Type.String()),
  },
  Open,
);

const Resources = Type.Object(
  {
    memory: Type.Optional(
      Type.Object(
        {
          limit: Type.Optional(Type.Integer()),
          reservation: Type.Optional(Type.Integer()),
          swap: Type.Optional(Type.Integer()),
          swappiness: Type.Optional(Type.Integer()),
        },
        Open,
      ),
    ),
    cpu: Type.Optional(
      Type.Object(
        {
          shares: Type.Optional(Type.Integer()),
          quota: Type.Optional(Type.Integer()),
          period: Type.Optional(Type.Integer()),
          cpus: Type.Optional(Type.String()),
          mems: Type.Optional(Type.String()),
        },
        Open,
      ),
    ),
    pids: Type.Optional(Type.Object({ limit: Type.Optional(Type.Integer()) }, Open)),
  },
  Open,
);

const HealthConfig = Type.Object(
  {
    Test: Type.Optional(Nullable(Strs)),
    Interval: Type.Optional(Type.Integer()),
    Timeout: Type.Optional(Type.Integer()),
    StartPeriod: Type.Optional(Type.Integer()),
    Retries: Type.Optional(Type.Integer()),
  },
  Open,
);

/** podman's specgen.SpecGenerator (4.3.1), the fields berth reads. */
export const SpecGenerator = Type.Object(
  {
    name: Type.Optional(Type.String()),
    image: Type.Optional(Type.String()),
    raw_image_name: Type.Optional(Type.String()),
    entrypoint: Type.Optional(Nullable(Strs)),
    command: Type.Optional(Nullable(Strs)),
    env: Type.Optional(Nullable(StrMap)),
    labels: Type.Optional(Nullable(StrMap)),
    annotations: Type.Optional(Nullable(StrMap)),
    stop_signal: Type.Optional(Type.Integer()),
    stop_timeout: Type.Optional(Type.Integer()),
    log_configuration: Type.Optional(
      Type.Object({ driver: Type.Optional(Type.String()), size: Type.Optional(Type.Integer()), options: Type.Optional(Nullable(StrMap)) }, Open),
    ),
    restart_policy: Type.Optional(Type.String()),
    restart_tries: Type.Optional(Type.Integer()),
    remove: Type.Optional(Type.Boolean()),
    terminal: Type.Optional(Type.Boolean()),
    stdin: Type.Optional(Type.Boolean()),
    hostname: Type.Optional(Type.String()),
    sysctl: Type.Optional(Nullable(StrMap)),
    timezone: Type.Optional(Type.String()),
    umask: Type.Optional(Type.String()),
    init: Type.Optional(Type.Boolean()),
    mounts: Type.Optional(Nullable(Type.Array(OciMount))),
    volumes: Type.Optional(Nullable(Type.Array(NamedVolume))),
    overlay_volumes: Type.Optional(
      Nullable(
        Type.Array(Type.Object({ destination: Type.String(), source: Type.String(), options: Type.Optional(Nullable(Type.Array(Type.String()))) }, Open)),
      ),
    ),
    image_volumes: Type.Optional(Nullable(Type.Array(Type.Unknown()))),
    read_only_filesystem: Type.Optional(Type.Boolean()),
    devices: Type.Optional(Nullable(Type.Array(Type.Object({ path: Type.String() }, Open)))),
    device_cgroup_rule: Type.Optional(Nullable(Type.Array(Type.Unknown()))),
    shm_size: Type.Optional(Type.Integer()),
    work_dir: Type.Optional(Type.String()),
    user: Type.Optional(Type.String()),
    groups: Type.Optional(Nullable(Strs)),
    cap_add: Type.Optional(Nullable(Strs)),
    cap_drop: Type.Optional(Nullable(Strs)),
    privileged: Type.Optional(Type.Boolean()),
    no_new_privileges: Type.Optional(Type.Boolean()),
    seccomp_profile_path: Type.Optional(Type.String()),
    apparmor_profile: Type.Optional(Type.String()),
    selinux_opts: Type.Optional(Nullable(Strs)),
    oom_score_adj: Type.Optional(Type.Integer()),
    r_limits: Type.Optional(Nullable(Type.Array(Type.Object({ type: Type.String(), hard: Type.Integer(), soft: Type.Integer() }, Open)))),
    resource_limits: Type.Optional(Nullable(Resources)),
    healthconfig: Type.Optional(Nullable(HealthConfig)),
    pidns: Type.Optional(Namespace),
    userns: Type.Optional(Namespace),
    // --requires: containers started before this one (each must exist).
    dependencyContainers: Type.Optional(Nullable(Type.Array(Type.String()))),
    ipcns: Type.Optional(Namespace),
    utsns: Type.Optional(Namespace),
    netns: Type.Optional(Namespace),
    Networks: Type.Optional(Nullable(Type.Record(Type.String(), PerNetwork))),
    portmappings: Type.Optional(Nullable(Type.Array(PortMapping))),
    publish_image_ports: Type.Optional(Type.Boolean()),
    expose: Type.Optional(Nullable(Type.Record(Type.String(), Type.String()))),
    dns_server: Type.Optional(Nullable(Strs)),
    dns_search: Type.Optional(Nullable(Strs)),
    dns_option: Type.Optional(Nullable(Strs)),
    hostadd: Type.Optional(Nullable(Strs)),
    pod: Type.Optional(Type.String()),
    // --secret name[,target=,uid=,gid=,mode=] as files; type=env ones in secret_env ({VAR: secret}).
    secrets: Type.Optional(
      Nullable(
        Type.Array(
          Type.Object(
            {
              Source: Type.String(),
              Target: Type.Optional(Type.String()),
              UID: Type.Optional(Type.Integer()),
              GID: Type.Optional(Type.Integer()),
              Mode: Type.Optional(Type.Integer()),
            },
            { additionalProperties: true },
          ),
        ),
      ),
    ),
    secret_env: Type.Optional(Nullable(Type.Record(Type.String(), Type.String()))),
    containerCreateCommand: Type.Optional(Nullable(Strs)),
  },
  Open,
);
export type SpecGenerator = Static<typeof SpecGenerator>;

export const LibpodIdParams = Type.Object({ id: Type.String() });

export const LibpodListQuery = Type.Object({
  all: Type.Optional(Type.String()),
  external: Type.Optional(Type.String()),
  filters: Type.Optional(Type.String()),
  last: Type.Optional(Type.String()),
  limit: Type.Optional(Type.String()),
  namespace: Type.Optional(Type.String()),
  size: Type.Optional(Type.String()),
  sync: Type.Optional(Type.String()),
  pod: Type.Optional(Type.String()),
});

export const LibpodRemoveQuery = Type.Object({
  depend: Type.Optional(Type.String()),
  force: Type.Optional(Type.String()),
  ignore: Type.Optional(Type.String()),
  volumes: Type.Optional(Type.String()),
  v: Type.Optional(Type.String()),
  timeout: Type.Optional(Type.String()),
});

export const LibpodRemoveReport = Type.Array(Type.Object({ Id: Type.String(), RawInput: Type.String(), Err: Type.Optional(Type.String()) }));

export const LibpodPruneQuery = Type.Object({ filters: Type.Optional(Type.String()) });

export const LibpodPruneReport = Type.Array(Type.Object({ Id: Type.String(), Size: Type.Integer(), Err: Type.Optional(Type.String()) }));

export const LibpodCreateResponse = Type.Object({ Id: Type.String(), Warnings: Strs });
