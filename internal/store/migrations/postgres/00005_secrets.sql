-- Named secrets, PostgreSQL dialect (see the SQLite migration).

-- +goose Up
CREATE TABLE secrets (
	name    TEXT COLLATE "C" PRIMARY KEY,
	value   TEXT NOT NULL,
	updated TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE secrets;
