-- Each relation is kept once, by the entity that declares it (ent), as the
-- catalog read model stores it: readers derive its reverse (from target back
-- to ent, of type reverse) through history_relations_target. Open spans are
-- read from the primary keys when a version is applied, never from a body.
-- The rows kept before this layout are dropped; the next read at an instant
-- builds them again (Store.KeepCatalogRows).
DROP TABLE IF EXISTS history_relations;
CREATE TABLE history_relations (
    ent           TEXT NOT NULL,
    ltype         TEXT NOT NULL,
    target        TEXT NOT NULL,
    from_position INTEGER NOT NULL,
    to_position   INTEGER,
    from_time     INTEGER NOT NULL,
    to_time       INTEGER,
    type          TEXT NOT NULL,
    target_ref    TEXT NOT NULL,
    reverse       TEXT NOT NULL,
    lreverse      TEXT NOT NULL,
    PRIMARY KEY (ent, ltype, target, from_position)
) WITHOUT ROWID;
CREATE INDEX history_relations_type_target ON history_relations(ltype, target);
CREATE INDEX history_relations_target ON history_relations(target, lreverse);
DELETE FROM history_search;
DELETE FROM history_positions WHERE name = 'history-catalog-rows';
