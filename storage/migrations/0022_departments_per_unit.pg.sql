-- Departments per unit (issue 17, docs/design-units.md): two procuratorates of one deployment each have their
-- 第一检察部, so a department's name is unique within its unit, not across the database (the SQLite text
-- rebuilds the table; PostgreSQL changes the constraint in place).
ALTER TABLE departments DROP CONSTRAINT departments_name_key;
ALTER TABLE departments ADD CONSTRAINT departments_unit_name UNIQUE (unit_id, name);
