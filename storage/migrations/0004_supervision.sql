-- Supervision that runs by itself (seed §13, §16): every reminder the scheduler fires is
-- recorded under its key (rule, subject, period), so that none is ever sent twice, and one
-- missed while the bot was down is fired when it comes back.

CREATE TABLE reminders (
    key        TEXT PRIMARY KEY,                 -- e.g. due:7:12:2027-02-27, overdue:12:3, urge:12:2
    rule       TEXT NOT NULL,
    matter_id  INTEGER REFERENCES matters (id),
    fired_at   TEXT NOT NULL
);
CREATE INDEX reminders_matter ON reminders (matter_id);
CREATE INDEX timeline_event ON timeline (event, matter_id);
