-- item: a list's string item (metadata.tags: [java]) is stored as one row,
-- metadata.tags=java, marked item = 1, which stands for the item's own key
-- too (metadata.tags.java=true): readers derive that key from the mark
-- (catalogstore.ItemKeys) instead of the fold writing it as a second row, a
-- fifth of the search table's rows. Rows written before this migration are
-- unmarked and keep their item keys as rows of their own, which readers
-- still read: nothing needs folding again, and each entity's rows take the
-- new shape when it is next written.
ALTER TABLE search ADD COLUMN item INTEGER NOT NULL DEFAULT 0;
