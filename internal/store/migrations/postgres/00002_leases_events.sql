-- DHCP leases and node boot events, PostgreSQL dialect.

-- +goose Up
-- One lease per MAC (normalised aa:bb:cc:dd:ee:ff) and per address: PutLease
-- removes an expired lease of another MAC before reusing its address, and
-- the unique index makes two servers racing for one address fail cleanly.
CREATE TABLE leases (
	mac        TEXT COLLATE "C" NOT NULL UNIQUE,
	ip         TEXT COLLATE "C" NOT NULL,
	node       TEXT NOT NULL DEFAULT '',
	network    TEXT NOT NULL DEFAULT '',
	expires    TIMESTAMPTZ NOT NULL,
	updated    TIMESTAMPTZ NOT NULL,
	relay_info BYTEA
);
CREATE UNIQUE INDEX leases_ip_idx ON leases (ip);

-- The boot timeline: one row per step of a node's boot.
CREATE TABLE boot_events (
	id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	time   TIMESTAMPTZ NOT NULL,
	node   TEXT COLLATE "C" NOT NULL DEFAULT '',
	mac    TEXT NOT NULL DEFAULT '',
	kind   TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL DEFAULT '',
	remote TEXT NOT NULL DEFAULT ''
);
CREATE INDEX boot_events_node_time_idx ON boot_events (node, time, id);
CREATE INDEX boot_events_time_idx ON boot_events (time);

-- +goose Down
DROP TABLE boot_events;
DROP TABLE leases;
