-- Transfer to another unit of the deployment (移送, issue 17, docs/design-units.md step 4): a matter outside the
-- unit's jurisdiction and within another's of the same deployment is transferred as before (closed, explained to
-- the deputy) and arrives in that unit's inbox as a new matter, registered with its own number; it names the
-- matter it came from.
ALTER TABLE matters ADD COLUMN transferred_from_id INTEGER REFERENCES matters (id);
