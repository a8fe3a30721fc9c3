-- The badge read model: facts, fact sources, current verdicts and their changes.
CREATE TABLE badge_positions (
  name     TEXT NOT NULL PRIMARY KEY,
  position INTEGER NOT NULL
);

CREATE TABLE facts (
  entity      TEXT NOT NULL,
  source      TEXT NOT NULL,
  facts       TEXT NOT NULL,
  observed_at TEXT NOT NULL,
  position    INTEGER NOT NULL,
  PRIMARY KEY (entity, source)
) WITHOUT ROWID;

CREATE TABLE fact_sources (
  source   TEXT NOT NULL PRIMARY KEY,
  schema   TEXT NOT NULL,
  position INTEGER NOT NULL
) WITHOUT ROWID;

-- One row per policy and entity it rates now.
CREATE TABLE badges (
  policy TEXT NOT NULL,
  entity TEXT NOT NULL,
  level  TEXT NOT NULL,
  owner  TEXT NOT NULL, -- lower case
  digest TEXT NOT NULL, -- badges.DigestOf the verdict
  badge  TEXT NOT NULL,
  PRIMARY KEY (policy, entity)
) WITHOUT ROWID;
CREATE INDEX badges_entity ON badges (entity);

-- Every badge event, in log order.
CREATE TABLE badge_changes (
  position INTEGER NOT NULL PRIMARY KEY,
  time     INTEGER NOT NULL, -- Unix nanoseconds
  event_id TEXT NOT NULL,
  type     TEXT NOT NULL,
  policy   TEXT NOT NULL,
  entity   TEXT NOT NULL,
  data     TEXT NOT NULL
);
CREATE INDEX badge_changes_policy ON badge_changes (policy, time, position);
CREATE INDEX badge_changes_entity ON badge_changes (entity, position);
