-- The hash chain: link is event.Link of the previous event's link and this event,
-- from event.GenesisLink. Rows written before this migration get their links when
-- the log is next opened.
ALTER TABLE events ADD COLUMN link TEXT NOT NULL DEFAULT '';
