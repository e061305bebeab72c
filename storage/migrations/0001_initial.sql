-- The foundation: people and their chat identities, invites, departments,
-- the inbox of received updates, the outbox of messages to send, dialogue state,
-- matters with their attachments and timeline. Portable SQL: INTEGER PRIMARY KEY
-- becomes an identity column on PostgreSQL; timestamps are ISO 8601 UTC text.

CREATE TABLE departments (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

CREATE TABLE persons (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    body          TEXT CHECK (body IN ('npc', 'cppcc')),      -- NULL for staff
    sector        TEXT NOT NULL DEFAULT '',
    organization  TEXT NOT NULL DEFAULT '',
    phone         TEXT NOT NULL DEFAULT '',
    supervisor    INTEGER NOT NULL DEFAULT 0,
    roster_key    TEXT UNIQUE,                                  -- how a re-import finds the same person
    department_id INTEGER REFERENCES departments (id),
    locale        TEXT,                                         -- chosen language; NULL: from the channel
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX persons_name ON persons (name);

CREATE TABLE person_roles (
    person_id  INTEGER NOT NULL REFERENCES persons (id),
    role       TEXT NOT NULL CHECK (role IN ('office', 'handler', 'head', 'discipline', 'leader', 'admin')),
    PRIMARY KEY (person_id, role)
);

CREATE TABLE identities (
    channel        TEXT NOT NULL,
    external_id    TEXT NOT NULL,                               -- the channel's stable user id
    person_id      INTEGER NOT NULL REFERENCES persons (id),
    chat_id        TEXT NOT NULL,
    bound_at       TEXT NOT NULL,
    PRIMARY KEY (channel, external_id)
);
CREATE INDEX identities_person ON identities (person_id);

CREATE TABLE invites (
    id          INTEGER PRIMARY KEY,
    code_hash   TEXT NOT NULL UNIQUE,                           -- SHA-256 of the code; the code itself is never stored
    person_id   INTEGER NOT NULL REFERENCES persons (id),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    used_by     TEXT                                            -- channel:external_id
);
CREATE INDEX invites_person ON invites (person_id);

CREATE TABLE inbox (
    id           INTEGER PRIMARY KEY,
    channel      TEXT NOT NULL,
    external_id  TEXT NOT NULL,                                 -- Telegram: update_id
    chat_key     TEXT NOT NULL,                                 -- updates of one chat are processed in order
    payload      TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'done', 'failed')),
    processed_at TEXT,
    UNIQUE (channel, external_id)
);
CREATE INDEX inbox_state ON inbox (state, id);

CREATE TABLE dialogs (
    actor       TEXT PRIMARY KEY,                               -- channel:external_id
    flow        TEXT NOT NULL,
    step        TEXT NOT NULL,
    nonce       TEXT NOT NULL,                                  -- in the step's buttons: older buttons are stale
    data        TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE counters (
    name   TEXT NOT NULL,
    year   INTEGER NOT NULL,
    value  INTEGER NOT NULL,
    PRIMARY KEY (name, year)
);

CREATE TABLE matters (
    id                      INTEGER PRIMARY KEY,
    number                  TEXT NOT NULL UNIQUE,
    kind                    TEXT NOT NULL CHECK (kind IN ('suggestion', 'criticism', 'opinion', 'report', 'accusation', 'appeal')),
    representative_id       INTEGER NOT NULL REFERENCES persons (id),
    subject                 TEXT NOT NULL,
    body                    TEXT NOT NULL,
    received_via            TEXT NOT NULL DEFAULT 'chat',
    registered_by           INTEGER REFERENCES persons (id),
    complainant_name        TEXT,                               -- referred cases only; personal data (SPEC §1)
    complainant_contact     TEXT,
    disputes_own_handling   INTEGER NOT NULL DEFAULT 0,         -- appeals (§14)
    original_department_id  INTEGER REFERENCES departments (id),
    state                   TEXT NOT NULL,
    major                   INTEGER NOT NULL DEFAULT 0,
    department_id           INTEGER REFERENCES departments (id),
    urger_id                INTEGER REFERENCES persons (id),
    registered_at           TEXT NOT NULL,
    due_date                TEXT NOT NULL,
    updated_at              TEXT NOT NULL
);
CREATE INDEX matters_representative ON matters (representative_id, id);
CREATE INDEX matters_state_due ON matters (state, due_date);

CREATE TABLE attachments (
    id          INTEGER PRIMARY KEY,
    matter_id   INTEGER NOT NULL REFERENCES matters (id),
    kind        TEXT NOT NULL CHECK (kind IN ('photo', 'document')),
    name        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    mime        TEXT,
    sha256      TEXT NOT NULL,
    path        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX attachments_matter ON attachments (matter_id);

CREATE TABLE timeline (
    id          INTEGER PRIMARY KEY,
    matter_id   INTEGER NOT NULL REFERENCES matters (id),
    at          TEXT NOT NULL,
    actor_id    INTEGER REFERENCES persons (id),
    event       TEXT NOT NULL,
    public      INTEGER NOT NULL,                               -- shown to the representative
    detail      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX timeline_matter ON timeline (matter_id, id);

CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    channel      TEXT NOT NULL,
    chat_id      TEXT NOT NULL,
    person_id    INTEGER REFERENCES persons (id),
    op           TEXT NOT NULL CHECK (op IN ('message', 'answer')),
    payload      TEXT NOT NULL,
    policy       TEXT NOT NULL CHECK (policy IN ('retry', 'hold')),
    state        TEXT NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'sending', 'sent', 'held', 'failed', 'blocked')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    ambiguous    INTEGER NOT NULL DEFAULT 0,                    -- sends that may have arrived (timeout, crash)
    not_before   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    sent_at      TEXT,
    matter_id    INTEGER REFERENCES matters (id),
    inbox_id     INTEGER REFERENCES inbox (id),
    dedup_key    TEXT UNIQUE,
    result       TEXT,
    last_error   TEXT
);
CREATE INDEX outbox_state ON outbox (state, not_before);
CREATE INDEX outbox_queue ON outbox (channel, chat_id, op, state, id);
