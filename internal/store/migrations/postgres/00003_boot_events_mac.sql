-- Boot events by MAC (`drover events MAC`: machines no node claims), and
-- the node index only for events that have a node, so a flood of unknown
-- clients (a DHCP storm, perfdhcp) costs one index per event, not two.

-- +goose Up
CREATE INDEX boot_events_mac_time_idx ON boot_events (mac, time, id);
DROP INDEX boot_events_node_time_idx;
CREATE INDEX boot_events_node_time_idx ON boot_events (node, time, id) WHERE node <> '';

-- +goose Down
DROP INDEX boot_events_node_time_idx;
CREATE INDEX boot_events_node_time_idx ON boot_events (node, time, id);
DROP INDEX boot_events_mac_time_idx;
