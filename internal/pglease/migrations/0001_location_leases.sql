-- location_leases: who holds the refresh lock of each location (or other name),
-- until when, and who last finished a refresh of it and when. holder is '' when
-- the lease is free.
CREATE TABLE IF NOT EXISTS location_leases (
    name         text COLLATE "C" PRIMARY KEY,
    holder       text NOT NULL DEFAULT '',
    expires_at   timestamptz,
    refreshed_at timestamptz,
    last_holder  text NOT NULL DEFAULT ''
);
