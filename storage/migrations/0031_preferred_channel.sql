-- A person bound on two channels chooses where their notices go (issue 14: "on the channel they used last, or
-- their chosen one"; `/channel`, handlers/people/receive.py). NULL: the one they used last.
ALTER TABLE persons ADD COLUMN preferred_channel TEXT;
