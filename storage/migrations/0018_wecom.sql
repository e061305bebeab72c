-- WeCom 企业微信 as a second channel (issue 14).

-- Which chat a person used last: a person bound on Telegram and WeCom gets each notification once,
-- there (bot/context.py). NULL until the first message after binding: the binding time counts.
ALTER TABLE identities ADD COLUMN last_seen_at TEXT;

-- How choices are shown on WeCom: 'cards' (button cards) or 'text' (numbered, answered by typing the
-- number: personal WeChat does not show cards). NULL: the configured default for the person's role.
ALTER TABLE persons ADD COLUMN presentation TEXT CHECK (presentation IN ('cards', 'text'));

-- The access token, shared by every process of the installation: a process refreshes it only if the
-- row still holds the token that failed (WeCom invalidates the previous token on each refresh).
CREATE TABLE wecom_tokens (
    corp_id     TEXT NOT NULL,
    agent_id    INTEGER NOT NULL,
    token       TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    PRIMARY KEY (corp_id, agent_id)
);

-- Files uploaded as temporary media (valid 3 days, 90253): uploaded once, their media_id reused.
CREATE TABLE wecom_media (
    sha256       TEXT NOT NULL,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    media_id     TEXT NOT NULL,
    uploaded_at  TEXT NOT NULL,
    PRIMARY KEY (sha256, name, kind)
);

-- Button cards sent: a press names the card (task_id) and a button key; the key's button data and
-- label are found here, so data of any length is never cut to fit a key.
CREATE TABLE wecom_cards (
    task_id     TEXT PRIMARY KEY,
    userid      TEXT NOT NULL,
    buttons     TEXT NOT NULL,                      -- JSON [[key, label, data], ...]
    sent_at     TEXT NOT NULL,
    chosen_at   TEXT
);
CREATE INDEX wecom_cards_sent ON wecom_cards (sent_at);

-- The numbered choices of the last message that had any, per member: typing "1" presses choice 1,
-- also after a restart.
CREATE TABLE wecom_choices (
    userid      TEXT PRIMARY KEY,
    message_id  TEXT NOT NULL,
    choices     TEXT NOT NULL,                      -- JSON [data, ...]
    sent_at     TEXT NOT NULL
);
