-- A WeCom member's numbered choices are read from the outbox (the last message with buttons that may have
-- been seen, storage/outbox.py last_buttons): no copy of them is written before each message any more.
DROP TABLE wecom_choices;
