-- A unit's representatives are read through the view `unit_members` (0025): its first branch, the persons whose
-- first unit it is, read `persons` whole for each unit asked about (docs/performance.md §9, "Twenty units"). Both
-- engines push the unit's condition into the view's branches; this index lets them find a unit's own there.
CREATE INDEX persons_unit_members ON persons (unit_id) WHERE body IS NOT NULL;
