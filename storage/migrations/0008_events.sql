-- Events and law-enforcement supervisors (seed §5, §6, §15; SPEC §6).
--
-- An event (a forum, a work report, an inspection, an open day, a home visit, a case
-- discussion or another gathering) invites representatives, who answer by button; the
-- departments named prepare for it by a deadline; afterwards the office records who came,
-- and each attendee gets a contact (contacts.source 'event', source_ref the event id).
-- `starts_at` is a moment (ISO 8601 UTC text like every timestamp); deadlines are the
-- unit's local days ('YYYY-MM-DD'). A case discussion is the one kind with a matter: its
-- supervisors' views go on that matter's timeline (event 'supervisor_view'), not here.

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('forum', 'work_report', 'inspection', 'open_day', 'visit',
                                              'case_discussion', 'other')),
    title       TEXT NOT NULL,
    starts_at   TEXT NOT NULL,
    place       TEXT NOT NULL,
    matter_id   INTEGER REFERENCES matters (id),
    audience    TEXT NOT NULL,                       -- all | npc | cppcc | sector:NAME | supervisors | named
    created_by  INTEGER REFERENCES persons (id),     -- NULL: created from the command line
    created_at  TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'planned' CHECK (state IN ('planned', 'held', 'cancelled')),
    held_at     TEXT,                                -- when attendance was first recorded
    CHECK ((kind = 'case_discussion') = (matter_id IS NOT NULL))
);
CREATE INDEX events_starts ON events (starts_at);
CREATE INDEX events_matter ON events (matter_id);

-- Seed §15 "prepare in advance": one task per department named, reminded until done.
CREATE TABLE event_departments (
    event_id       INTEGER NOT NULL REFERENCES events (id),
    department_id  INTEGER NOT NULL REFERENCES departments (id),
    deadline       TEXT NOT NULL CHECK (deadline LIKE '____-__-__'),
    done_at        TEXT,
    done_by        INTEGER REFERENCES persons (id),
    PRIMARY KEY (event_id, department_id)
);

CREATE TABLE invitations (
    event_id     INTEGER NOT NULL REFERENCES events (id),
    person_id    INTEGER NOT NULL REFERENCES persons (id),
    state        TEXT NOT NULL DEFAULT 'invited' CHECK (state IN ('invited', 'accepted', 'declined')),
    reason       TEXT,                               -- why not, if the invitee said
    invited_at   TEXT NOT NULL,
    answered_at  TEXT,
    PRIMARY KEY (event_id, person_id)
);
CREATE INDEX invitations_person ON invitations (person_id, event_id);

CREATE TABLE attendance (
    event_id     INTEGER NOT NULL REFERENCES events (id),
    person_id    INTEGER NOT NULL REFERENCES persons (id),
    recorded_at  TEXT NOT NULL,
    recorded_by  INTEGER REFERENCES persons (id),
    PRIMARY KEY (event_id, person_id)
);

-- Seed §6: the terms of the law-enforcement supervisors. The roster's flag
-- (persons.supervisor) appoints those the office has not recorded a term for; once the
-- office has appointed or removed someone in chat, their latest row here decides.
CREATE TABLE supervisor_terms (
    id          INTEGER PRIMARY KEY,
    person_id   INTEGER NOT NULL REFERENCES persons (id),
    starts_on   TEXT NOT NULL CHECK (starts_on LIKE '____-__-__'),
    ends_on     TEXT CHECK (ends_on LIKE '____-__-__'),       -- the last day of the term; NULL: open
    removed_on  TEXT CHECK (removed_on LIKE '____-__-__'),    -- removed by the office: not in office from that day
    created_by  INTEGER REFERENCES persons (id),
    created_at  TEXT NOT NULL,
    removed_by  INTEGER REFERENCES persons (id)
);
CREATE INDEX supervisor_terms_person ON supervisor_terms (person_id, id);
