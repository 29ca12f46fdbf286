-- Discovery reports, PostgreSQL dialect (see the SQLite migration).

-- +goose Up
CREATE TABLE discovery_reports (
	id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	mac      TEXT COLLATE "C" NOT NULL UNIQUE,
	uuid     TEXT NOT NULL DEFAULT '',
	serial   TEXT NOT NULL DEFAULT '',
	mtm      TEXT NOT NULL DEFAULT '',
	received TIMESTAMPTZ NOT NULL,
	updated  TIMESTAMPTZ NOT NULL,
	count    INTEGER NOT NULL DEFAULT 1,
	hash     TEXT NOT NULL DEFAULT '',
	state    TEXT NOT NULL,
	node     TEXT NOT NULL DEFAULT '',
	method   TEXT NOT NULL DEFAULT '',
	reason   TEXT NOT NULL DEFAULT '',
	facts    BYTEA NOT NULL
);
CREATE INDEX discovery_reports_node_idx ON discovery_reports (node);

-- +goose Down
DROP TABLE discovery_reports;
