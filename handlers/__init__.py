"""Use cases, one module per area; each takes a Context and an Incoming and changes state through storage."""
