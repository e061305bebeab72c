-- One set of figures (issue 16): every measure of a period reads only the matters it may count —
-- registered, due, concluded, replied to or closed since the period began, and those still open —
-- each part through an index (storage/reports.py `facts`). Matters closed (transferred, or closed after
-- their rating) had none: a period's transfers read the whole table of matters.
CREATE INDEX matters_closed ON matters (closed_at);
