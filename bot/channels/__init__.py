"""Transports: each turns what it receives into Incoming and sends outbox entries; nothing else knows them."""
