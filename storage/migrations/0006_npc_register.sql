-- The NPC register (seed §4; SPEC §6): each major case the procuratorate reported to the county
-- people's congress, and each protest 抗诉 it lodged with the court, which must be filed 备案
-- with the county standing committee; and the half-year reports to the higher procuratorate
-- (seed §17) the office has marked as sent. Days are the unit's local calendar days 'YYYY-MM-DD'.

CREATE TABLE npc_register (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('major_case_report', 'protest')),
    matter_id    INTEGER REFERENCES matters (id),                  -- when it concerns a matter registered here
    case_name    TEXT NOT NULL,
    case_number  TEXT NOT NULL DEFAULT '',
    happened_on  TEXT NOT NULL CHECK (happened_on LIKE '____-__-__'),  -- reported (major case) or lodged (protest)
    filed_on     TEXT CHECK (filed_on IS NULL
                             OR (kind = 'protest' AND filed_on LIKE '____-__-__' AND filed_on >= happened_on)),
    filed_by     INTEGER REFERENCES persons (id),
    note         TEXT NOT NULL DEFAULT '',
    recorded_by  INTEGER REFERENCES persons (id),
    created_at   TEXT NOT NULL
);
CREATE INDEX npc_register_day ON npc_register (happened_on);
CREATE INDEX npc_register_unfiled ON npc_register (kind, filed_on);

CREATE TABLE halfyear_reports (
    period      TEXT PRIMARY KEY CHECK (period LIKE '____H_'),       -- e.g. 2026H2
    sent_on     TEXT NOT NULL CHECK (sent_on LIKE '____-__-__'),
    marked_by   INTEGER REFERENCES persons (id),
    marked_at   TEXT NOT NULL
);
