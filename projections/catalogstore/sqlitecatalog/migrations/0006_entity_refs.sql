-- entities_eid_ref: each entity's ref by its row id, narrow. A reverse
-- relation shows its origin's ref: a page's reads of the relations toward
-- its entities looked each origin up in the entities table, whose rows
-- carry the bodies (a leaf page or two an entity, read from disk once the
-- page cache is outgrown); this index holds about a hundred refs a page.
-- Its keys come in creation order, so a load appends to it.
CREATE INDEX IF NOT EXISTS entities_eid_ref ON entities(eid, ref);
