-- The contact log (seed §5, §11; SPEC §6): each contact of the procuratorate with a
-- representative: how, on which day, by which staff member. `contacted_on` is the unit's
-- local calendar day as 'YYYY-MM-DD', so a year's coverage is a range of text.
--
-- `source` says where a row came from (typed in chat, an imported file, a reply to a matter,
-- an event, an opinion card answer) and `source_ref` what in it (the row's hash, the matter
-- number, ...). The UNIQUE key makes recording the same contact again a no-op, so that an
-- import, a reply or an event may be recorded twice without counting twice. Contacts typed in
-- chat have no source_ref, and NULLs never collide: each one recorded there is its own row.

CREATE TABLE contacts (
    id                 INTEGER PRIMARY KEY,
    representative_id  INTEGER NOT NULL REFERENCES persons (id),
    method             TEXT NOT NULL CHECK (method IN ('forum', 'work_report', 'home_visit', 'inspection',
                                                      'documents', 'letter', 'opinion_card', 'other')),
    contacted_on       TEXT NOT NULL CHECK (contacted_on LIKE '____-__-__'),
    staff_id           INTEGER REFERENCES persons (id),            -- NULL: not known (an old record, a file)
    note               TEXT NOT NULL DEFAULT '',
    source             TEXT NOT NULL CHECK (source IN ('chat', 'import', 'reply', 'event', 'card')),
    source_ref         TEXT,
    created_at         TEXT NOT NULL,
    UNIQUE (representative_id, method, contacted_on, source, source_ref)
);
CREATE INDEX contacts_representative ON contacts (representative_id, contacted_on);
CREATE INDEX contacts_day ON contacts (contacted_on);
