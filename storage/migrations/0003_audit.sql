-- The audit log (storage/audit.py): every state change and every permission refusal,
-- append-only and hash-chained. Each entry's hash covers its fields and the hash of the
-- entry before it; `audit_head` holds the number of entries and the newest hash, so that
-- removing entries from the end is detected too.
--
-- The tables are portable SQL. The triggers are SQLite's: on PostgreSQL each becomes a
-- plpgsql function that does `RAISE EXCEPTION '...'` and a `CREATE TRIGGER ... BEFORE
-- UPDATE OR DELETE ... FOR EACH ROW EXECUTE FUNCTION ...` (plus `REVOKE UPDATE, DELETE,
-- TRUNCATE` from the bot's role, since TRUNCATE fires no row triggers).

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,                         -- 1, 2, 3... without gaps; part of the hash
    at         TEXT NOT NULL,
    actor_id   INTEGER REFERENCES persons (id),             -- NULL: the system (scheduler, recovery)
    action     TEXT NOT NULL,
    matter_id  INTEGER,                                     -- no foreign key: the log never blocks anything
    detail     TEXT NOT NULL,                               -- JSON: ids, states, kinds; never bodies or personal data
    prev_hash  TEXT NOT NULL,                               -- the previous entry's hash; 64 zeros for the first
    hash       TEXT NOT NULL UNIQUE                         -- SHA-256 hex of all the fields above
);
CREATE INDEX audit_log_matter ON audit_log (matter_id, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- INSERT OR REPLACE deletes the row it conflicts with without firing the DELETE trigger
-- (SQLite fires it only with recursive_triggers on), so inserts must come in chain order:
-- the next id, chained to the newest entry, with a hash not seen before.
CREATE TRIGGER audit_log_append_in_order BEFORE INSERT ON audit_log
WHEN NEW.id IS NOT (SELECT COALESCE(MAX(id), 0) + 1 FROM audit_log)
  OR NEW.prev_hash IS NOT COALESCE((SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1),
                                   '0000000000000000000000000000000000000000000000000000000000000000')
  OR EXISTS (SELECT 1 FROM audit_log WHERE hash = NEW.hash)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- The chain head: one row, advanced by each append in the same transaction.
CREATE TABLE audit_head (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    count  INTEGER NOT NULL,                                -- entries in audit_log
    hash   TEXT NOT NULL                                    -- the newest entry's hash; 64 zeros when empty
);
INSERT INTO audit_head (id, count, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- The head only moves forward, one entry at a time, to the newest entry (whose id is the
-- count, since the ids run 1, 2, 3... without gaps).
CREATE TRIGGER audit_head_advance_only BEFORE UPDATE ON audit_head
WHEN NEW.id IS NOT OLD.id
  OR NEW.count IS NOT OLD.count + 1
  OR NEW.count IS NOT (SELECT MAX(id) FROM audit_log)
  OR NEW.hash IS NOT (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1)
BEGIN
    SELECT RAISE(ABORT, 'audit_head only advances with audit_log');
END;

CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN
    SELECT RAISE(ABORT, 'audit_head cannot be deleted');
END;

-- Created after the one row: no second row, and no INSERT OR REPLACE of the first.
CREATE TRIGGER audit_head_no_insert BEFORE INSERT ON audit_head
BEGIN
    SELECT RAISE(ABORT, 'audit_head has exactly one row');
END;
