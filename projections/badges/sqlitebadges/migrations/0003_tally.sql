-- How many current verdicts of each policy stand at each owner and level,
-- kept by the fold, so a policy's standing is read without counting every
-- verdict of the policy again (Tally).
CREATE TABLE badge_tally (
  policy TEXT NOT NULL,
  owner  TEXT NOT NULL, -- lower case
  level  TEXT NOT NULL,
  count  INTEGER NOT NULL,
  PRIMARY KEY (policy, owner, level)
) WITHOUT ROWID;
INSERT INTO badge_tally(policy, owner, level, count)
  SELECT policy, owner, level, count(*) FROM badges GROUP BY policy, owner, level;
