-- A person's own answers go before notifications (benchmarks/broadcast.py): when the office sends a
-- briefing to 2 000 representatives, the outbox is paced at Telegram's ~30 messages a second, and
-- a deputy pressing a button meanwhile must not wait for the broadcast to finish (80 s) to see the
-- answer. 0: a reply or a button answer to the person acting; 1: a notification. The order within
-- one chat is unchanged (by id); the priority decides only which chats' next messages go first.
ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;

-- The dispatcher's query walks this index in its order (priority, then earliest due) and stops at
-- its limit, whatever the backlog.
CREATE INDEX outbox_due ON outbox (state, priority, not_before);
