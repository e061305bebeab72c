-- Access can be taken away (issue 15 item 1).

-- A disabled person: none of their chat accounts is recognised, nothing is sent to them; their matters,
-- contacts and history stay. NULL: active.
ALTER TABLE persons ADD COLUMN disabled_at TEXT;

-- An invite that binds a staff member's new account ends their other accounts on the same channel (a new
-- phone), unless it was made to keep them (`invite --keep-accounts`).
ALTER TABLE invites ADD COLUMN keep_accounts INTEGER NOT NULL DEFAULT 0;
