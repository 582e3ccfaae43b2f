-- Uploaded files (/v1/files). owner is "tenant:<id>" or, for the config's static keys,
-- "key:<name>", as for stored responses; every lookup names it, so one tenant never reaches
-- another's. The bytes are kept apart (file_blobs, in parts of at most 1 MiB) behind the
-- FileBlobs protocol, so an object store can hold them instead.
CREATE TABLE files (
    owner       TEXT NOT NULL,
    id          TEXT NOT NULL,
    bytes       INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    filename    TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    status      TEXT NOT NULL,
    PRIMARY KEY (owner, id)
);
CREATE INDEX files_by_owner_created ON files (owner, created_at, id);
CREATE TABLE file_blobs (
    owner       TEXT NOT NULL,
    id          TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    data        BLOB NOT NULL,
    PRIMARY KEY (owner, id, seq)
);
