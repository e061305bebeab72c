-- Opinion cards 征求意见卡 and briefings (seed §2, §5; SPEC §6).
--
-- A card is written in chat and stored when it is sent: its questions (free text, or a
-- choice among options kept as a JSON list), and one row per representative it was meant
-- for. `sent_at` of a recipient is when the card was queued to their chat; NULL when they
-- had no chat bound and were not reached. A recipient answers once (`answered_at`, with the
-- opinion matter registered from the answers) or declines (`declined_at`); a decline may
-- be followed by an answer, which clears it, never the other way round. `reminded_at` marks
-- those the office was reminded of, once, after N days. A closed card takes no more answers.
--
-- A briefing (text and documents) is stored with its files and its recipients;
-- `delivered_at` is when it was queued to their chat (NULL: not reached). Each delivery is
-- a contact (documents 赠送资料); opinions sent in reply are matters, linked here.

CREATE TABLE cards (
    id          INTEGER PRIMARY KEY,
    title       TEXT NOT NULL,
    created_by  INTEGER NOT NULL REFERENCES persons (id),
    audience    TEXT NOT NULL DEFAULT '{}',                     -- whom it was sent to, as chosen (JSON)
    sent_at     TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'sent' CHECK (state IN ('sent', 'closed')),
    closed_at   TEXT
);

CREATE TABLE card_questions (
    id        INTEGER PRIMARY KEY,
    card_id   INTEGER NOT NULL REFERENCES cards (id),
    position  INTEGER NOT NULL,
    text      TEXT NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('free_text', 'choice')),
    choices   TEXT NOT NULL DEFAULT '[]',                       -- JSON list of the options of a choice
    UNIQUE (card_id, position)
);

CREATE TABLE card_recipients (
    id           INTEGER PRIMARY KEY,
    card_id      INTEGER NOT NULL REFERENCES cards (id),
    person_id    INTEGER NOT NULL REFERENCES persons (id),
    sent_at      TEXT,
    answered_at  TEXT,
    declined_at  TEXT,
    reminded_at  TEXT,
    matter_id    INTEGER REFERENCES matters (id),
    UNIQUE (card_id, person_id),
    CHECK (answered_at IS NULL OR declined_at IS NULL)
);
CREATE INDEX card_recipients_person ON card_recipients (person_id);

CREATE TABLE card_answers (
    recipient_id  INTEGER NOT NULL REFERENCES card_recipients (id),
    question_id   INTEGER NOT NULL REFERENCES card_questions (id),
    answer        TEXT NOT NULL,
    PRIMARY KEY (recipient_id, question_id)
);

CREATE TABLE briefings (
    id          INTEGER PRIMARY KEY,
    title       TEXT NOT NULL,
    text        TEXT NOT NULL,
    created_by  INTEGER NOT NULL REFERENCES persons (id),
    audience    TEXT NOT NULL DEFAULT '{}',
    sent_at     TEXT NOT NULL
);

CREATE TABLE briefing_files (
    id           INTEGER PRIMARY KEY,
    briefing_id  INTEGER NOT NULL REFERENCES briefings (id),
    kind         TEXT NOT NULL CHECK (kind IN ('photo', 'document')),
    name         TEXT NOT NULL,
    size         INTEGER NOT NULL,
    mime         TEXT,
    sha256       TEXT NOT NULL,
    path         TEXT NOT NULL
);
CREATE INDEX briefing_files_briefing ON briefing_files (briefing_id, id);

CREATE TABLE briefing_recipients (
    id            INTEGER PRIMARY KEY,
    briefing_id   INTEGER NOT NULL REFERENCES briefings (id),
    person_id     INTEGER NOT NULL REFERENCES persons (id),
    delivered_at  TEXT,
    UNIQUE (briefing_id, person_id)
);
CREATE INDEX briefing_recipients_person ON briefing_recipients (person_id);

CREATE TABLE briefing_opinions (
    matter_id    INTEGER PRIMARY KEY REFERENCES matters (id),
    briefing_id  INTEGER NOT NULL REFERENCES briefings (id),
    person_id    INTEGER NOT NULL REFERENCES persons (id)
);
CREATE INDEX briefing_opinions_briefing ON briefing_opinions (briefing_id);
