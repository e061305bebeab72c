-- foreign keys off
-- Departments per unit (issue 17, docs/design-units.md): two procuratorates of one deployment each have their
-- 第一检察部, so a department's name is unique within its unit, not across the database. SQLite cannot drop
-- the UNIQUE of 0001 in place: the table is rebuilt (rows, ids and everything referring to them kept; the
-- runner checks every reference before COMMIT). Its unit now refers to `units`, as on PostgreSQL.
CREATE TABLE departments_per_unit (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    unit_id     INTEGER NOT NULL DEFAULT 1 REFERENCES units (id),
    UNIQUE (unit_id, name)
);
INSERT INTO departments_per_unit (id, name, created_at, unit_id)
    SELECT id, name, created_at, unit_id FROM departments ORDER BY id;
DROP TABLE departments;
ALTER TABLE departments_per_unit RENAME TO departments;
