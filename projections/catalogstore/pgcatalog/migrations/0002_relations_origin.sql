-- relations: rows are found by origin only to be replaced, and each origin's
-- rows are written once, without duplicates, by the fold. A plain index on
-- origin, whose new keys land at its right edge, replaces the primary key on
-- four columns, whose long text keys cost a third of a relation row's write.
ALTER TABLE relations DROP CONSTRAINT IF EXISTS relations_pkey;
CREATE INDEX IF NOT EXISTS relations_origin ON relations(origin);
