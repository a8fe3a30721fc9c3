-- A verdict row names the change that made it (its position in badge_changes)
-- instead of a second copy of the verdict as JSON: the fold writes half the
-- bytes, and the evaluator reads only the digest it compares with.
CREATE TABLE badges_by_position (
  policy   TEXT NOT NULL,
  entity   TEXT NOT NULL,
  level    TEXT NOT NULL,
  owner    TEXT NOT NULL, -- lower case
  digest   TEXT NOT NULL, -- badges.DigestOf the verdict
  position INTEGER NOT NULL, -- the badge_changes row of the event that made it
  PRIMARY KEY (policy, entity)
) WITHOUT ROWID;
INSERT INTO badges_by_position(policy, entity, level, owner, digest, position)
  SELECT policy, entity, level, owner, digest, json_extract(badge, '$.since.position') FROM badges;
DROP TABLE badges;
ALTER TABLE badges_by_position RENAME TO badges;
CREATE INDEX badges_entity ON badges (entity);
