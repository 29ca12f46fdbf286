-- drover's store schema, PostgreSQL dialect. Objects are served from memory;
-- these tables are the durable copy. Several drover servers may share one
-- database: each Apply bumps the revision (serialising writers on its row),
-- logs what it changed in changes and sends NOTIFY with the revision.

-- +goose Up
-- One row per object; attrs is a JSON object of the raw (stored) attributes.
-- rev is the revision of the transaction that last wrote the row.
CREATE TABLE objects (
	type  TEXT COLLATE "C" NOT NULL,
	name  TEXT COLLATE "C" NOT NULL,
	attrs TEXT NOT NULL,
	rev   BIGINT NOT NULL,
	PRIMARY KEY (type, name)
);
CREATE INDEX objects_rev_idx ON objects (rev);

CREATE TABLE revision (
	id  INTEGER PRIMARY KEY CHECK (id = 1),
	rev BIGINT NOT NULL
);
INSERT INTO revision (id, rev) VALUES (1, 0);

-- The change log listeners read after a NOTIFY: one row per revision,
-- entries is a JSON array of {"o":op,"t":type,"n":name}, or NULL when the
-- transaction was too large to list (listeners then reload everything).
-- Old rows are pruned by Apply.
CREATE TABLE changes (
	rev     BIGINT PRIMARY KEY,
	entries TEXT
);

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

-- API tokens; hash is the hex SHA-256 of the secret, which is never stored.
CREATE TABLE tokens (
	id      TEXT PRIMARY KEY,
	name    TEXT NOT NULL,
	role    TEXT NOT NULL,
	hash    TEXT NOT NULL UNIQUE,
	created TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE tokens;
DROP TABLE meta;
DROP TABLE changes;
DROP TABLE revision;
DROP TABLE objects;
