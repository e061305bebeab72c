-- Assignment to a county (交办, issue 17, docs/design-units.md step 4): the city's office may assign its matter to
-- a department of a county below it. The matter stays the city's (its number, due date, urging, reply and the
-- deputy's word are the city's); `handling_unit_id` is the county whose department handles it, NULL when the
-- matter's own unit does.
ALTER TABLE matters ADD COLUMN handling_unit_id INTEGER REFERENCES units (id);
CREATE INDEX matters_handling_unit ON matters (handling_unit_id, state) WHERE handling_unit_id IS NOT NULL;
