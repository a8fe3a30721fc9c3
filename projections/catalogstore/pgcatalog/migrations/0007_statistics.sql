-- Columns that no query filters, joins, groups or sorts rows by keep no
-- statistics: an ANALYZE (the store's own after growth and at the end of a
-- bulk load, and autovacuum's) skips them. The entities' bodies, their
-- hashes (compared only after an eid join), refs, and the positions of
-- their last event; the relations' types as declared, target refs and
-- reverse types (read and ordered by as output, filtered by their lower-case
-- forms); the search rows' original spellings. The texts among them hold a
-- distinct value for most rows, which an ANALYZE sorts: at 100,000
-- components they cost a third of entities' ANALYZE and a fifth of
-- relations'. And a table's ANALYZE need no longer name its columns to
-- leave the bodies out, which kept its changes counted as not analyzed, so
-- autovacuum analyzed entities again, whole, right after.
ALTER TABLE entities
    ALTER COLUMN body SET STATISTICS 0,
    ALTER COLUMN hash SET STATISTICS 0,
    ALTER COLUMN ref SET STATISTICS 0,
    ALTER COLUMN updated_pos SET STATISTICS 0,
    ALTER COLUMN updated_partition SET STATISTICS 0;
ALTER TABLE relations
    ALTER COLUMN type SET STATISTICS 0,
    ALTER COLUMN target_ref SET STATISTICS 0,
    ALTER COLUMN reverse SET STATISTICS 0;
ALTER TABLE search
    ALTER COLUMN original SET STATISTICS 0;
