"""What runs by itself and who watches (seed §12, §13, §16): the deadline sweep and the reminders it is given,
discipline inspection, the NPC register."""
