// Versioned schema migrations. Each entry runs once, in order, inside a transaction; PRAGMA user_version
// records how many have run. Never edit a released entry: append a new one. A migration that must
// convert rows in code has a step (below), run after its SQL in the same transaction.
import type { DB } from './db.js';
import { migrateContainerRows } from './spec-migration.js';

export const migrations: string[] = [
  `
  CREATE TABLE layers (
    chain_id   TEXT PRIMARY KEY,          -- identity of this layer with everything below it
    diff_id    TEXT NOT NULL,             -- sha256 of the uncompressed layer tar (also its blob name)
    parent     TEXT REFERENCES layers(chain_id),
    size       INTEGER NOT NULL,          -- bytes of files in the layer, as Docker reports it
    tar_size   INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE images (
    id            TEXT PRIMARY KEY,       -- sha256 of the config bytes
    config        BLOB NOT NULL,          -- the exact config bytes (the ID depends on them)
    top_layer     TEXT REFERENCES layers(chain_id),
    parent        TEXT,                   -- parent image ID, when the archive or a build names one
    created       TEXT NOT NULL,          -- config.created
    size          INTEGER NOT NULL,
    labels        TEXT,                   -- config.config.Labels as JSON, for filters
    last_tag_time TEXT,
    added_at      INTEGER NOT NULL
  );
  CREATE TABLE tags (
    name     TEXT PRIMARY KEY,            -- normalized: docker.io/library/busybox:latest
    image_id TEXT NOT NULL REFERENCES images(id)
  );
  CREATE INDEX tags_image ON tags(image_id);
  CREATE TABLE digests (
    name     TEXT PRIMARY KEY,            -- normalized: docker.io/library/busybox@sha256:...
    image_id TEXT NOT NULL REFERENCES images(id)
  );
  CREATE INDEX digests_image ON digests(image_id);
  `,
  `
  CREATE TABLE containers (
    id             TEXT PRIMARY KEY,        -- 64 hex
    name           TEXT NOT NULL UNIQUE,    -- without Docker's leading slash
    image_id       TEXT NOT NULL,           -- no FK: rmi -f may drop the record while the container lives on
    image_name     TEXT NOT NULL,           -- Config.Image as the client sent it
    top_layer      TEXT,                    -- keeps the image's layers alive for this container
    config         TEXT NOT NULL,           -- Config (JSON), image defaults merged in
    host_config    TEXT NOT NULL,           -- HostConfig (JSON)
    created        TEXT NOT NULL,
    state          TEXT NOT NULL,           -- created|running|paused|restarting|removing|exited|dead
    pid            INTEGER NOT NULL DEFAULT 0,
    exit_code      INTEGER NOT NULL DEFAULT 0,
    error          TEXT NOT NULL DEFAULT '',
    oom_killed     INTEGER NOT NULL DEFAULT 0,
    started_at     TEXT,
    finished_at    TEXT,
    restart_count  INTEGER NOT NULL DEFAULT 0,
    stopped_by_user INTEGER NOT NULL DEFAULT 0, -- a stop or kill asked for: restart policies stand down
    run_id         INTEGER NOT NULL DEFAULT 0   -- bumped at every start, so a late exit of an old run is ignored
  );
  `,
  `
  CREATE TABLE exec_sessions (
    id           TEXT PRIMARY KEY,          -- 64 hex
    container_id TEXT NOT NULL,             -- no FK: the session rows go with the container, by hand
    config       TEXT NOT NULL,             -- the exec create body (JSON)
    state        TEXT NOT NULL,             -- created|running|exited
    pid          INTEGER NOT NULL DEFAULT 0,
    exit_code    INTEGER,                   -- null until it has ended
    created_at   INTEGER NOT NULL
  );
  CREATE INDEX exec_sessions_container ON exec_sessions(container_id);
  CREATE TABLE events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    time_nano  INTEGER NOT NULL,            -- unix nanoseconds
    type       TEXT NOT NULL,               -- container|image|volume|network|daemon
    action     TEXT NOT NULL,
    actor_id   TEXT NOT NULL,
    attributes TEXT NOT NULL                -- Actor.Attributes (JSON)
  );
  CREATE INDEX events_time ON events(time_nano);
  `,
  `
  CREATE TABLE layer_blobs (
    diff_id    TEXT NOT NULL,               -- the uncompressed layer
    repository TEXT NOT NULL,               -- registry host/path it is known in
    digest     TEXT NOT NULL,               -- the compressed blob there
    media_type TEXT NOT NULL,
    size       INTEGER NOT NULL,
    PRIMARY KEY (diff_id, repository, digest)
  );
  CREATE INDEX layer_blobs_diff ON layer_blobs(diff_id);
  `,
  `
  CREATE TABLE volumes (
    name       TEXT PRIMARY KEY,
    driver     TEXT NOT NULL,               -- local
    labels     TEXT NOT NULL,               -- JSON
    options    TEXT NOT NULL,               -- DriverOpts (JSON)
    anonymous  INTEGER NOT NULL DEFAULT 0,  -- made for a container (image VOLUME, -v /path): rm -v takes it
    created_at TEXT NOT NULL
  );
  `,
  `
  ALTER TABLE containers ADD COLUMN mounts TEXT NOT NULL DEFAULT '[]'; -- mount points (JSON), fixed at create
  `,
  `
  CREATE TABLE networks (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    driver     TEXT NOT NULL,               -- bridge, host, null
    bridge     TEXT NOT NULL,               -- the Linux bridge netavark makes ('' for host/null)
    subnets    TEXT NOT NULL,               -- IPAM Config (JSON: [{Subnet, Gateway, IPRange}])
    internal   INTEGER NOT NULL DEFAULT 0,
    attachable INTEGER NOT NULL DEFAULT 0,
    ipv6       INTEGER NOT NULL DEFAULT 0,
    dns        INTEGER NOT NULL DEFAULT 0,  -- aardvark-dns resolves container names (user networks)
    options    TEXT NOT NULL,               -- JSON
    labels     TEXT NOT NULL,               -- JSON
    created_at TEXT NOT NULL
  );
  -- A container on a network. ip/mac/interface are set while it runs there (IPAM), null otherwise:
  -- an allocation exists exactly as long as netavark may have set it up.
  CREATE TABLE endpoints (
    container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
    network_id   TEXT NOT NULL REFERENCES networks(id),
    position     INTEGER NOT NULL,          -- connect order: the first is the primary (ports, eth0)
    aliases      TEXT NOT NULL,             -- JSON, as asked
    static_ip    TEXT NOT NULL DEFAULT '',  -- IPAMConfig.IPv4Address
    endpoint_id  TEXT NOT NULL DEFAULT '',
    ip           TEXT,
    mac          TEXT NOT NULL DEFAULT '',
    interface    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (container_id, network_id),
    UNIQUE (network_id, ip)
  );
  ALTER TABLE containers ADD COLUMN ports TEXT NOT NULL DEFAULT '[]'; -- host ports held while it runs (JSON)
  `,
  `
  -- Images made by build steps (the classic builder's cache): what docker builder prune and the build
  -- cache of system df see. The row goes with the image.
  CREATE TABLE build_cache (
    image_id    TEXT PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,          -- ms
    last_used   INTEGER NOT NULL,          -- ms: made, or last a cache hit
    usage_count INTEGER NOT NULL DEFAULT 0 -- cache hits
  );
  `,
  `
  -- State.Health (JSON: Status, FailingStreak, Log of the last 5 probes), NULL for a container whose
  -- healthcheck never ran (none configured, NONE, or never started): what inspect and ps show.
  ALTER TABLE containers ADD COLUMN health TEXT;
  `,
  `
  -- An endpoint's settings dockerd keeps and shows though nothing here acts on them.
  ALTER TABLE endpoints ADD COLUMN link_local_ips TEXT NOT NULL DEFAULT '[]'; -- IPAMConfig.LinkLocalIPs (JSON)
  ALTER TABLE endpoints ADD COLUMN driver_opts TEXT NOT NULL DEFAULT 'null'; -- DriverOpts (JSON)
  `,
  `
  -- Networks a container was created on before they existed (dockerd allows it): looked up at start.
  CREATE TABLE pending_endpoints (
    container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,             -- as the create named it
    position     INTEGER NOT NULL,          -- the order to join in: the first is the primary
    settings     TEXT NOT NULL,             -- EndpointSettings (JSON), as asked
    PRIMARY KEY (container_id, name)
  );
  `,
  `
  -- Network names need not be unique (dockerd allows duplicates below API 1.44 without CheckDuplicate):
  -- the table is rebuilt without the UNIQUE constraint, ids unchanged (openDatabase runs migrations
  -- with foreign keys off, so endpoints' references survive the DROP).
  CREATE TABLE networks_new (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    driver     TEXT NOT NULL,
    bridge     TEXT NOT NULL,
    subnets    TEXT NOT NULL,
    internal   INTEGER NOT NULL DEFAULT 0,
    attachable INTEGER NOT NULL DEFAULT 0,
    ipv6       INTEGER NOT NULL DEFAULT 0,
    dns        INTEGER NOT NULL DEFAULT 0,
    options    TEXT NOT NULL,
    labels     TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  INSERT INTO networks_new SELECT id, name, driver, bridge, subnets, internal, attachable, ipv6, dns, options, labels, created_at FROM networks;
  DROP TABLE networks;
  ALTER TABLE networks_new RENAME TO networks;
  CREATE INDEX networks_name ON networks (name);
  `,
  `
  -- IPv6: an endpoint's --ip6 and the v6 address it holds while it runs (NULL when not on a v6 network).
  ALTER TABLE endpoints ADD COLUMN static_ip6 TEXT NOT NULL DEFAULT '';
  ALTER TABLE endpoints ADD COLUMN ip6 TEXT;
  CREATE UNIQUE INDEX endpoints_ip6 ON endpoints (network_id, ip6); -- held once, as ip (NULLs are distinct)
  `,
  `
  -- ContainerSpec: a container's row holds berth's own model (spec) and the creating API's echo of what
  -- its client sent that the spec does not model, instead of Docker's Config and HostConfig. The step
  -- converts every row; then the Docker columns go.
  ALTER TABLE containers ADD COLUMN spec TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE containers ADD COLUMN echo TEXT NOT NULL DEFAULT '{}';
  `,
  `
  -- A network's IPAM Options as created (JSON), NULL when none were given: inspect shows them as dockerd does.
  ALTER TABLE networks ADD COLUMN ipam_options TEXT;
  `,
  `
  -- An endpoint's links on a user network (EndpointSettings.Links, JSON ["name:alias"]): shown by inspect,
  -- and each alias resolves to the named container on that network.
  ALTER TABLE endpoints ADD COLUMN links TEXT NOT NULL DEFAULT '[]';
  `,
  `
  -- The echo per API family: what the Docker API's client sent moves under "docker" (libpod's goes under
  -- "libpod"), so each API's inspect rebuilds its own view of any container.
  UPDATE containers SET echo = json_object('docker', json(echo)) WHERE echo <> '{}';
  `,
  `
  -- Secrets (libpod): their bytes are files under <root>/secrets/filedriver/<id> (runtime/secrets/store.ts).
  CREATE TABLE secrets (
    id         TEXT PRIMARY KEY,          -- 25 hex digits, as podman's
    name       TEXT NOT NULL UNIQUE,
    driver     TEXT NOT NULL,             -- file
    options    TEXT NOT NULL,             -- the driver's options (JSON)
    labels     TEXT NOT NULL,             -- JSON
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  `,
  `
  -- The manifest an image came with when the archive held one (an OCI layout): podman shows its digest,
  -- media type and size. NULL when berth computes the manifest podman would store (docker-archives).
  ALTER TABLE images ADD COLUMN manifest_digest TEXT;
  ALTER TABLE images ADD COLUMN manifest_type TEXT;
  ALTER TABLE images ADD COLUMN manifest_size INTEGER;
  `,
  `
  -- Pods (libpod): members are containers whose spec names the pod. infra_id is '' until the infra
  -- container exists: a pod whose spec asks for one but has none was cut off while made (reconcile removes it).
  CREATE TABLE pods (
    id       TEXT PRIMARY KEY,
    name     TEXT NOT NULL UNIQUE,
    spec     TEXT NOT NULL,   -- PodSpec (JSON)
    echo     TEXT NOT NULL,   -- the creating API's own fields (JSON)
    infra_id TEXT NOT NULL,
    created  TEXT NOT NULL
  );
  `,
  `
  -- libpod's NeedsChown: set on a new volume, cleared by the first libpod container that mounts it, which
  -- gives it its user (or its target directory's owner and mode) as podman does. Volumes before: done.
  ALTER TABLE volumes ADD COLUMN needs_chown INTEGER NOT NULL DEFAULT 0;
  `,
];

/** Code run after a migration's SQL (by its 1-based number), inside the same transaction. */
export const migrationSteps: Record<number, (db: DB) => void> = {
  14: (db) => {
    migrateContainerRows(db);
    db.exec('ALTER TABLE containers DROP COLUMN config; ALTER TABLE containers DROP COLUMN host_config;');
  },
};
