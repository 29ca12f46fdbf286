-- Named secrets (`drover secret set NAME`), referenced from manifests as
-- secret:NAME so a Git repository never holds them. The value is sealed
-- like secret attributes (AES-256-GCM under the store's secret key).

-- +goose Up
CREATE TABLE secrets (
	name    TEXT PRIMARY KEY,
	value   TEXT NOT NULL,
	updated TEXT NOT NULL
);

-- +goose Down
DROP TABLE secrets;
