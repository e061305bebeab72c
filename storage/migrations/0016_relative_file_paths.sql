-- Stored files are named by a path relative to the files folder (storage.files_dir), `ab/abcd…` (the
-- first two hex digits of the SHA-256, then the digest: bot/files.py), no longer by an absolute path,
-- so that a backup restored into another folder or on another machine finds them (bot/backup.py).
-- The layout is fixed by the digest, so the relative path is computed from it. Paths inside dialogues
-- and queued messages (JSON) are resolved the same way when read.
UPDATE attachments SET path = substr(sha256, 1, 2) || '/' || sha256 WHERE path <> substr(sha256, 1, 2) || '/' || sha256;
UPDATE briefing_files SET path = substr(sha256, 1, 2) || '/' || sha256 WHERE path <> substr(sha256, 1, 2) || '/' || sha256;
