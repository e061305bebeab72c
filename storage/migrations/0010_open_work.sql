-- What the supervision sweep and the staff's lists look at every few minutes is the open work:
-- a few thousand matters and replies among millions (benchmarks/scale.py). Partial indexes hold
-- only those rows, so a tick reads them and nothing else however long the history grows; they are
-- portable (PostgreSQL has the same `CREATE INDEX ... WHERE`).

-- Sent replies not yet rated (the rule that asks again, then records them as unrated): a few
-- hundred of a million replies. Both columns are in the key so that the planner, which has no
-- statistics, prefers it to any index on one of them.
CREATE INDEX replies_unrated ON replies (state, rating) WHERE state = 'sent' AND rating IS NULL;

-- The digest's satisfaction: the replies sent in a year, found by the day they were sent within
-- their state (nearly every reply is 'sent', so an index on the state alone reads them all). It
-- serves every lookup by state as well, so the index on the state alone goes.
CREATE INDEX replies_state_sent ON replies (state, sent_at);
DROP INDEX replies_state;
