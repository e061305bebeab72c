-- The dispatcher reads each channel's next messages apart (storage/outbox.heads): a briefing to thousands waiting
-- for WeCom's pace no longer keeps Telegram's messages, written after it, from being looked at (the channels'
-- rates are separate). The index that walks the due heads in order gains the channel, so that each channel's
-- query walks its own and stops at its limit, whatever the other channels' backlog.
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (state, priority, channel, not_before);
