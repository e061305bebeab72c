-- The audit log names its unit (issue 17, docs/design-units.md step 4): one chain for the deployment, each entry
-- carrying the unit it belongs to (the matter's, else the acting person's, else unit 1), under its hash. The
-- entries from before have none (NULL): their hashes stay as they were computed.
ALTER TABLE audit_log ADD COLUMN unit_id INTEGER;
CREATE INDEX audit_log_unit ON audit_log (unit_id, id);
