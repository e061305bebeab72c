-- The leadership digest (SPEC §7) needs no table of its own: its figures are counted from the
-- matters, replies and contacts, and its being sent is recorded in `reminders` like every other
-- reminder. It counts by period, though, so these indexes keep its counts from reading every
-- matter and every reply of a large database: matters registered and concluded in a week or a
-- month, and replies sent and rated 不满意 in one.

CREATE INDEX matters_registered ON matters (registered_at);
CREATE INDEX matters_concluded ON matters (concluded_at);
CREATE INDEX replies_sent ON replies (sent_at);
CREATE INDEX replies_rated ON replies (rating, rated_at);
