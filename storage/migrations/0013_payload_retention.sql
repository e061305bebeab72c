-- Received updates and sent messages keep their text (payload) only for a while
-- (storage.keep_messages_days; storage/retention.py), then it is erased to '' and the row stays.
-- These indexes hold only the rows whose payload is still kept, so finding what is due to be
-- forgotten never walks the rows forgotten already.
CREATE INDEX inbox_kept ON inbox (received_at) WHERE payload <> '';
CREATE INDEX outbox_kept ON outbox (created_at) WHERE payload <> '';
