-- The sweep reads, for each open matter, the moment of its latest assignment, registration and
-- progress notice (storage/supervision.py `watched`); the reports count timeline events of one
-- kind in a period. With the moment in the index those read the index alone, never the rows of a
-- timeline of millions. It serves every lookup the index on (event, matter_id) did, so that one goes.
CREATE INDEX timeline_event_at ON timeline (event, matter_id, at);
DROP INDEX timeline_event;
