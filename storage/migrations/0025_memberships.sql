-- Memberships (issue 17, docs/design-units.md, green step 2): a deputy of the county's congress may also be a
-- deputy of the city's; each congress appoints its own, so the body (人大/政协), the sector 界别, the
-- law-enforcement-supervisor flag and the roster's key are a unit's own. A representative's first unit stays on
-- their `persons` row (its unit_id, body, sector, supervisor, roster_key: every existing row unchanged); each
-- further unit is a row here. The person (name, phone, chat accounts) is one: one human, one chat.
CREATE TABLE memberships (
    person_id   INTEGER NOT NULL REFERENCES persons (id),
    unit_id     INTEGER NOT NULL REFERENCES units (id),
    body        TEXT NOT NULL CHECK (body IN ('npc', 'cppcc')),
    sector      TEXT NOT NULL DEFAULT '',
    supervisor  INTEGER NOT NULL DEFAULT 0,
    roster_key  TEXT,                         -- how that unit's re-import finds them (as persons.roster_key)
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (person_id, unit_id)
);
CREATE UNIQUE INDEX memberships_roster_key ON memberships (unit_id, roster_key);
CREATE INDEX memberships_unit ON memberships (unit_id);
-- Every unit's representatives, first units and further ones alike: what a unit's roster, quota, audiences and
-- supervisors are read from.
CREATE VIEW unit_members AS
    SELECT id AS person_id, unit_id, body, sector, supervisor, roster_key FROM persons WHERE body IS NOT NULL
    UNION ALL
    SELECT person_id, unit_id, body, sector, supervisor, roster_key FROM memberships;
