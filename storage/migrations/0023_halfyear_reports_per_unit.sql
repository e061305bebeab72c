-- foreign keys off
-- The half-year report sent, per unit (issue 17, docs/design-units.md): each procuratorate of a deployment reports
-- its own half-year to the one above it, so a period is marked sent once per unit. SQLite cannot change a primary
-- key in place: the table is rebuilt, its rows kept (all unit 1's).
CREATE TABLE halfyear_reports_per_unit (
    period      TEXT NOT NULL CHECK (period LIKE '____H_'),       -- e.g. 2026H2
    sent_on     TEXT NOT NULL CHECK (sent_on LIKE '____-__-__'),
    marked_by   INTEGER REFERENCES persons (id),
    marked_at   TEXT NOT NULL,
    unit_id     INTEGER NOT NULL DEFAULT 1 REFERENCES units (id),  -- last, as 0021 added it (and PostgreSQL has it)
    PRIMARY KEY (unit_id, period)
);
INSERT INTO halfyear_reports_per_unit (period, sent_on, marked_by, marked_at, unit_id)
    SELECT period, sent_on, marked_by, marked_at, unit_id FROM halfyear_reports;
DROP TABLE halfyear_reports;
ALTER TABLE halfyear_reports_per_unit RENAME TO halfyear_reports;
