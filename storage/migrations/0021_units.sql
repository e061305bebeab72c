-- Units (issue 17, docs/design-units.md, green step 1): a unit (单位) is one procuratorate — the city's, a
-- county's. The unit the database served until now is unit 1; its name, prefix and time zone are the [unit]
-- section's, written over these defaults at every start (storage/units.py `follow_config`). Every row that
-- belongs to a unit says which; all existing rows are unit 1's. Nothing reads the column yet (one unit: nothing
-- visible changes); queries gain it table by table in the next steps.
CREATE TABLE units (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    prefix      TEXT NOT NULL UNIQUE,          -- the matter numbers' prefix: LS-2026-0001
    parent_id   INTEGER REFERENCES units (id), -- the city for a county; NULL for the top unit
    timezone    TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
INSERT INTO units (id, name, prefix, parent_id, timezone, created_at)
    VALUES (1, '卢氏县人民检察院', 'LS', NULL, 'Asia/Shanghai', '2026-12-06T00:00:00.000+00:00');
-- SQLite adds a column with a REFERENCES clause only with a NULL default: the key is checked by storage here
ALTER TABLE departments ADD COLUMN unit_id INTEGER NOT NULL DEFAULT 1;
ALTER TABLE persons ADD COLUMN unit_id INTEGER NOT NULL DEFAULT 1;
ALTER TABLE matters ADD COLUMN unit_id INTEGER NOT NULL DEFAULT 1;
ALTER TABLE contacts ADD COLUMN unit_id INTEGER NOT NULL DEFAULT 1;
ALTER TABLE events ADD COLUMN unit_id INTEGER NOT NULL DEFAULT 1;
ALTER TABLE cards ADD COLUMN unit_id INTEGER NOT NULL DEFAULT 1;
ALTER TABLE briefings ADD COLUMN unit_id INTEGER NOT NULL DEFAULT 1;
ALTER TABLE invites ADD COLUMN unit_id INTEGER NOT NULL DEFAULT 1;
ALTER TABLE supervisor_terms ADD COLUMN unit_id INTEGER NOT NULL DEFAULT 1;
ALTER TABLE npc_register ADD COLUMN unit_id INTEGER NOT NULL DEFAULT 1;
ALTER TABLE halfyear_reports ADD COLUMN unit_id INTEGER NOT NULL DEFAULT 1;
ALTER TABLE reminders ADD COLUMN unit_id INTEGER NOT NULL DEFAULT 1;
