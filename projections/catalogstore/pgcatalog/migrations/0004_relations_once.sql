-- relations: each relation an entity (origin) declares is stored once, from
-- the origin to target, with the type of its reverse (from target back to the
-- origin). Readers derive the reverse through relations_target instead of the
-- fold writing it as a second row: half the rows, and no index on the source,
-- which is the origin's key (entities.eid = origin).
--
-- The old table held both directions without the reverse's type, so it cannot
-- be converted: the read model is emptied, and the projector folds the log
-- again from its start, as after any drop of a read model.
DROP TABLE IF EXISTS relations;
TRUNCATE entities, search, locations, location_errors, positions;

CREATE TABLE relations (
    origin     bigint NOT NULL,
    type       text COLLATE "C" NOT NULL,
    ltype      text COLLATE "C" NOT NULL,
    target     text COLLATE "C" NOT NULL,
    target_ref text COLLATE "C" NOT NULL,
    reverse    text COLLATE "C" NOT NULL,
    lreverse   text COLLATE "C" NOT NULL
);
CREATE INDEX IF NOT EXISTS relations_origin ON relations(origin);
-- The reverse relations of an entity (its key as target), and filters on a
-- reverse type (relations.ownerOf).
CREATE INDEX IF NOT EXISTS relations_target ON relations(target, lreverse);
-- Filters and facets on a declared type (relations.ownedBy).
CREATE INDEX IF NOT EXISTS relations_type_target ON relations(ltype, target);
CREATE STATISTICS IF NOT EXISTS relations_type_target_stats (mcv, dependencies) ON ltype, target FROM relations;
