-- A verdict row names the change that made it (its partition and position in
-- badge_changes) instead of a second copy of the verdict as JSON: the fold
-- writes half the bytes, and the evaluator reads only the digest it compares with.
ALTER TABLE badges ADD COLUMN IF NOT EXISTS partition integer;
ALTER TABLE badges ADD COLUMN IF NOT EXISTS position bigint;
UPDATE badges SET partition = (badge::json->'since'->>'partition')::integer,
                  position = (badge::json->'since'->>'position')::bigint;
ALTER TABLE badges ALTER COLUMN partition SET NOT NULL;
ALTER TABLE badges ALTER COLUMN position SET NOT NULL;
ALTER TABLE badges DROP COLUMN badge;
