-- outbox_state (state, not_before) is covered by outbox_due (state, priority, channel, not_before): every query that
-- reads the outbox by its state (the dispatcher's heads, the restart's recovery, the office's undelivered, the counts
-- by state) walks outbox_due's leading column. Each message written, claimed and marked sent updated both.
DROP INDEX outbox_state;
