-- Personal data sealed at rest (bot/sealing.py, bot/data_key.py; PIPL Art. 28): persons.phone and
-- matters.complainant_name / complainant_contact hold `enc1:<key id>:<sealed>` from now on (the rows
-- already there are sealed by bot/data_key.py the first time the program starts with a key, in the same
-- transaction that writes the check value below). A phone is found by a keyed digest of its digits, never
-- by its text; the roster's key for a phone becomes `phone:<digest>` the same way.

ALTER TABLE persons ADD COLUMN phone_hash TEXT;                 -- '<key id>:<HMAC-SHA-256 hex>', NULL: no phone
CREATE INDEX persons_phone_hash ON persons (phone_hash);

-- A concluded referred case keeps its complainant's data `storage.keep_complainant_days` (0: as long as
-- the matter); then both columns become NULL and the moment is recorded here.
ALTER TABLE matters ADD COLUMN complainant_erased_at TEXT;

-- The data key's check value: a known text sealed with the key that sealed the data, so that a wrong or
-- missing key stops start-up instead of failing on some later read. One row, once the data is sealed.
CREATE TABLE data_key (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    key_id     TEXT NOT NULL,                                   -- the sealing key's id (never the key)
    canary     TEXT NOT NULL,
    sealed_at  TEXT NOT NULL
);
