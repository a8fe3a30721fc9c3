-- The search table keeps no rows of kind and metadata.name: the entities
-- table holds both as columns (kind, name), which filters, sorts, facets and
-- full-text searches read instead (catalogstore.ColumnKeys). Each was a row
-- an entity in the table and in search_key_value.
--
-- The names index's documents begin with the entities' names, read from
-- the entities table: the triggers that built them from the name rows go,
-- and Open, finding its triggers missing, rebuilds the index and creates
-- them (names.go).
DROP TRIGGER IF EXISTS search_names_insert;
DROP TRIGGER IF EXISTS search_names_delete;
DELETE FROM search WHERE kid IN (SELECT id FROM search_keys WHERE key IN ('kind', 'metadata.name'));
-- metadata.name keeps its fixed id (migration 0003), which a catalog made
-- afresh holds too.
DELETE FROM search_keys WHERE key = 'kind';
