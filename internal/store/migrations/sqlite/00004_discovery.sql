-- Discovery reports: the latest report of each machine that booted the
-- discovery environment (keyed by the MAC it booted from), its facts as the
-- agent sent them and what became of it (queued, flagged, matched, approved,
-- rejected). xCAT keeps the same in its discoverydata table.

-- +goose Up
CREATE TABLE discovery_reports (
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	mac      TEXT NOT NULL UNIQUE,
	uuid     TEXT NOT NULL DEFAULT '',
	serial   TEXT NOT NULL DEFAULT '',
	mtm      TEXT NOT NULL DEFAULT '',
	received TEXT NOT NULL,
	updated  TEXT NOT NULL,
	count    INTEGER NOT NULL DEFAULT 1,
	hash     TEXT NOT NULL DEFAULT '',
	state    TEXT NOT NULL,
	node     TEXT NOT NULL DEFAULT '',
	method   TEXT NOT NULL DEFAULT '',
	reason   TEXT NOT NULL DEFAULT '',
	facts    BLOB NOT NULL
);
CREATE INDEX discovery_reports_node_idx ON discovery_reports (node);

-- +goose Down
DROP TABLE discovery_reports;
