"""The work with representatives (seed §5, §6, §15): contacts, events, opinion cards, briefings, and the
law-enforcement supervisors."""
