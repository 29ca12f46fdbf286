-- +goose Up
CREATE INDEX boot_events_mac_time_idx ON boot_events (mac, time, id);

-- +goose Down
DROP INDEX boot_events_mac_time_idx;
