"""A matter from intake to rating (seed §3, §7, §12-§14): intake, registering, casework, replies, rating, /my and
the staff's screens."""
