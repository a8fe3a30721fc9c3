-- Every kind sorted by name (the catalog's kind=all) reads this index in order
-- and stops after a page instead of sorting every entity.
CREATE INDEX IF NOT EXISTS entities_name_key ON entities(name, key);
