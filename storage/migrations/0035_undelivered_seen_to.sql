-- The office sees, by name, whom messages did not reach (blocked, failed, held), and marks each person reached
-- another way (storage/casework.settle_undelivered): their messages are then no longer shown. Before, /inbox showed
-- the counts of every undelivered message ever, with no names and no end.
ALTER TABLE outbox ADD COLUMN settled_at TEXT;
