-- The search table keeps no rows of kind and metadata.name: the entities
-- table holds both as columns (kind, name), which filters, sorts, facets and
-- full-text searches read instead (catalogstore.ColumnKeys). Each was a row
-- an entity in the table and in its two indexes.
DELETE FROM search WHERE kid IN (SELECT id FROM search_keys WHERE key IN ('kind', 'metadata.name'));
DELETE FROM search_keys WHERE key IN ('kind', 'metadata.name');
