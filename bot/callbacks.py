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


ID_DIGITS = 12  # a number longer than this names nothing of ours


def choice(prefix: str, number: int) -> str:
    """A dialogue's choice that names a number: `d12` (a department's id), `rep7`, `o3` (the fourth option
    shown). Parsed back only by `chosen`."""
    if number < 0:
        raise ValueError(f"a choice names no negative number: {prefix}{number}")
    return f"{prefix}{number}"


def chosen(data: str, prefix: str, *, below: int | None = None) -> int | None:
    """The number a `<prefix><digits>` choice names; None when it names none: another choice, a forged one,
    or an index at or past `below` (the length of the list that was shown). Button data is user input."""
    digits = data[len(prefix):] if data.startswith(prefix) else ""
    if not (digits.isascii() and digits.isdigit() and len(digits) <= ID_DIGITS):
        return None
    number = int(digits)
    return number if below is None or number < below else None
