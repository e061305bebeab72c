-- Handling a matter (seed §12-§14): where it stands, its replies and their approval,
-- extensions of its deadline, and the files that go with a reply.

ALTER TABLE matters ADD COLUMN outcome TEXT CHECK (outcome IN ('A', 'B', 'C', 'D'));
ALTER TABLE matters ADD COLUMN owes_final_reply INTEGER NOT NULL DEFAULT 0;   -- outcome B or C: answer again when resolved
ALTER TABLE matters ADD COLUMN reopened INTEGER NOT NULL DEFAULT 0;           -- times handled again after 不满意
ALTER TABLE matters ADD COLUMN transferred_to TEXT;                           -- the competent authority (§12)
ALTER TABLE matters ADD COLUMN concluded_at TEXT;
ALTER TABLE matters ADD COLUMN closed_at TEXT;
ALTER TABLE matters ADD COLUMN last_action_at TEXT;                           -- for "no action for N days" (§16)

CREATE TABLE replies (
    id            INTEGER PRIMARY KEY,
    matter_id     INTEGER NOT NULL REFERENCES matters (id),
    round         INTEGER NOT NULL,                                 -- 1, then 2 after a reopening or a final reply
    kind          TEXT NOT NULL CHECK (kind IN ('reply', 'cannot_meet', 'final')),
    body          TEXT NOT NULL,                                    -- the outcome, stated
    grounds       TEXT NOT NULL,                                    -- 理由/依据
    via           TEXT NOT NULL CHECK (via IN ('chat', 'in_person', 'paper')),
    state         TEXT NOT NULL CHECK (state IN ('draft', 'awaiting_leader', 'returned', 'sent')),
    drafted_by    INTEGER NOT NULL REFERENCES persons (id),
    drafted_at    TEXT NOT NULL,
    approved_by   INTEGER REFERENCES persons (id),
    leader_by     INTEGER REFERENCES persons (id),
    sent_at       TEXT,
    return_note   TEXT,
    rating        TEXT CHECK (rating IN ('satisfied', 'basically', 'dissatisfied', 'unrated')),
    rating_note   TEXT,
    rated_at      TEXT,
    asked_again_at TEXT
);
CREATE INDEX replies_matter ON replies (matter_id, id);
CREATE INDEX replies_state ON replies (state);

CREATE TABLE extensions (
    id            INTEGER PRIMARY KEY,
    matter_id     INTEGER NOT NULL REFERENCES matters (id),
    reason        TEXT NOT NULL,
    requested_by  INTEGER NOT NULL REFERENCES persons (id),
    requested_at  TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'refused')),
    old_due       TEXT NOT NULL,
    new_due       TEXT,
    decided_by    INTEGER REFERENCES persons (id),
    decided_at    TEXT,
    note          TEXT
);
CREATE INDEX extensions_matter ON extensions (matter_id, id);
CREATE INDEX extensions_state ON extensions (state);

ALTER TABLE attachments ADD COLUMN reply_id INTEGER REFERENCES replies (id);
CREATE INDEX matters_department ON matters (department_id, state);
