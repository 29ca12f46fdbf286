-- drover's store schema, SQLite dialect. Objects are served from memory;
-- these tables are the durable copy.

-- +goose Up
-- One row per object; attrs is a JSON object of the raw (stored) attributes.
-- rev is the revision of the transaction that last wrote the row.
CREATE TABLE objects (
	type  TEXT NOT NULL,
	name  TEXT NOT NULL,
	attrs TEXT NOT NULL,
	rev   INTEGER NOT NULL,
	PRIMARY KEY (type, name)
) WITHOUT ROWID;

-- The revision counter: every Apply increments it inside its transaction.
CREATE TABLE revision (
	id  INTEGER PRIMARY KEY CHECK (id = 1),
	rev INTEGER NOT NULL
);
INSERT INTO revision (id, rev) VALUES (1, 0);

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

-- API tokens; hash is the hex SHA-256 of the secret, which is never stored.
CREATE TABLE tokens (
	id      TEXT PRIMARY KEY,
	name    TEXT NOT NULL,
	role    TEXT NOT NULL,
	hash    TEXT NOT NULL UNIQUE,
	created TEXT NOT NULL
);

-- +goose Down
DROP TABLE tokens;
DROP TABLE meta;
DROP TABLE revision;
DROP TABLE objects;
