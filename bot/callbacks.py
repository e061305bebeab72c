"""Button data: short namespaced strings, encoded and decoded only here.

Format `ns:part:part...`, ASCII letters, digits, `_` and `-` in each part, at most 64
bytes (Telegram's limit for callback_data). Decoding treats the data as what it is, user
input: anything malformed raises StaleActionError, which the router answers politely.
Handlers still check, on every press, that this person may do this now.
"""

from __future__ import annotations

import re

from bot.errors import StaleActionError

MAX_BYTES = 64
_PART = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def encode(namespace: str, *parts: str | int) -> str:
    """Build button data; raises ValueError for data no channel could carry (a bug, not input)."""
    items = [namespace, *(str(p) for p in parts)]
    if not all(_PART.match(item) for item in items):
        raise ValueError(f"bad button part in {items!r}")
    data = ":".join(items)
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"button data over {MAX_BYTES} bytes: {data!r}")
    return data


def decode(data: str) -> tuple[str, list[str]]:
    """Split button data into its namespace and parts, refusing anything malformed."""
    if not data or len(data.encode("utf-8", "replace")) > MAX_BYTES:
        raise StaleActionError("This button is no longer valid.")
    namespace, *parts = data.split(":")
    if not all(_PART.match(item) for item in (namespace, *parts)):
        raise StaleActionError("This button is no longer valid.")
    return namespace, parts


def to_int(text: str) -> int:
    """Parse an id out of button data."""
    if not text.isdigit() or len(text) > 12:
        raise StaleActionError("This button is no longer valid.")
    return int(text)
