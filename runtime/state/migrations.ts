// Versioned schema migrations. Each entry runs once, in order, inside a transaction; PRAGMA user_version
// records how many have run. Never edit a released entry: append a new one.
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
];
