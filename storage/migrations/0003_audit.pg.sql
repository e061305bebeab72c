-- 0003_audit.sql on PostgreSQL: the same tables, the triggers as plpgsql functions (see that file for
-- what each rule guards). TRUNCATE fires no row trigger: a statement trigger refuses it too.

CREATE TABLE audit_log (
    id         BIGINT PRIMARY KEY,                          -- 1, 2, 3... without gaps; part of the hash
    at         TEXT NOT NULL,
    actor_id   BIGINT REFERENCES persons (id),              -- NULL: the system (scheduler, recovery)
    action     TEXT NOT NULL,
    matter_id  BIGINT,                                      -- no foreign key: the log never blocks anything
    detail     TEXT NOT NULL,                               -- JSON: ids, states, kinds; never bodies or personal data
    prev_hash  TEXT NOT NULL,                               -- the previous entry's hash; 64 zeros for the first
    hash       TEXT NOT NULL UNIQUE                         -- SHA-256 hex of all the fields above
);
CREATE INDEX audit_log_matter ON audit_log (matter_id, id);

CREATE FUNCTION audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0];
END $$;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_refuse('audit_log is append-only');
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse('audit_log is append-only');

CREATE FUNCTION audit_log_append_in_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS DISTINCT FROM (SELECT COALESCE(MAX(id), 0) + 1 FROM audit_log)
       OR NEW.prev_hash IS DISTINCT FROM COALESCE((SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1),
                                                  '0000000000000000000000000000000000000000000000000000000000000000')
       OR EXISTS (SELECT 1 FROM audit_log WHERE hash = NEW.hash) THEN
        RAISE EXCEPTION 'audit_log is append-only';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_log_append_in_order BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_in_order();

-- The chain head: one row, advanced by each append in the same transaction.
CREATE TABLE audit_head (
    id     BIGINT PRIMARY KEY CHECK (id = 1),
    count  BIGINT NOT NULL,                                 -- entries in audit_log
    hash   TEXT NOT NULL                                    -- the newest entry's hash; 64 zeros when empty
);
INSERT INTO audit_head (id, count, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE FUNCTION audit_head_advance_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS DISTINCT FROM OLD.id
       OR NEW.count IS DISTINCT FROM OLD.count + 1
       OR NEW.count IS DISTINCT FROM (SELECT MAX(id) FROM audit_log)
       OR NEW.hash IS DISTINCT FROM (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1) THEN
        RAISE EXCEPTION 'audit_head only advances with audit_log';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_head_advance_only BEFORE UPDATE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_head_advance_only();
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_refuse('audit_head cannot be deleted');
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse('audit_head cannot be deleted');
-- Created after the one row: no second row.
CREATE TRIGGER audit_head_no_insert BEFORE INSERT ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_refuse('audit_head has exactly one row');
