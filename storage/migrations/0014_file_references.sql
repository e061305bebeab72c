-- A stored file (storage.files_dir, by SHA-256) is removed when the last thing that names it goes:
-- an abandoned dialogue's attachments (storage/retention.py) are looked up here before removal.
CREATE INDEX attachments_sha256 ON attachments (sha256);
CREATE INDEX briefing_files_sha256 ON briefing_files (sha256);
