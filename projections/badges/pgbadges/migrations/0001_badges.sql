-- The badge read model on PostgreSQL: facts, fact sources, current verdicts
-- and every change of a verdict. Text compares in the "C" collation (byte
-- order, as in SQLite); times are Unix nanoseconds.
CREATE TABLE IF NOT EXISTS badge_positions (
    name      text NOT NULL,
    partition integer NOT NULL,
    position  bigint NOT NULL,
    PRIMARY KEY (name, partition)
);

CREATE TABLE IF NOT EXISTS badge_facts (
    entity      text COLLATE "C" NOT NULL,
    source      text COLLATE "C" NOT NULL,
    facts       text NOT NULL,
    observed_at bigint NOT NULL,
    partition   integer NOT NULL,
    position    bigint NOT NULL,
    PRIMARY KEY (entity, source)
);

CREATE TABLE IF NOT EXISTS badge_fact_sources (
    source    text COLLATE "C" NOT NULL PRIMARY KEY,
    schema    text NOT NULL,
    partition integer NOT NULL,
    position  bigint NOT NULL
);

CREATE TABLE IF NOT EXISTS badges (
    policy text COLLATE "C" NOT NULL,
    entity text COLLATE "C" NOT NULL,
    level  text NOT NULL,
    owner  text COLLATE "C" NOT NULL, -- lower case
    digest text NOT NULL, -- badges.DigestOf the verdict
    badge  text NOT NULL,
    PRIMARY KEY (policy, entity)
);
CREATE INDEX IF NOT EXISTS badges_entity ON badges (entity);

CREATE TABLE IF NOT EXISTS badge_changes (
    partition integer NOT NULL,
    position  bigint NOT NULL,
    time      bigint NOT NULL,
    event_id  text COLLATE "C" NOT NULL,
    type      text COLLATE "C" NOT NULL,
    policy    text COLLATE "C" NOT NULL,
    entity    text COLLATE "C" NOT NULL,
    data      text NOT NULL,
    PRIMARY KEY (partition, position)
);
CREATE INDEX IF NOT EXISTS badge_changes_policy ON badge_changes (policy, time, partition, position);
CREATE INDEX IF NOT EXISTS badge_changes_entity ON badge_changes (entity, partition, position);
