-- The half-year report sent, per unit (issue 17, docs/design-units.md): each procuratorate of a deployment reports
-- its own half-year to the one above it, so a period is marked sent once per unit (the SQLite text rebuilds the
-- table; PostgreSQL changes the key in place).
ALTER TABLE halfyear_reports DROP CONSTRAINT halfyear_reports_pkey;
ALTER TABLE halfyear_reports ADD PRIMARY KEY (unit_id, period);
