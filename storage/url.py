"""Database URLs: which engine, and what may be shown of one. No imports of the engines: bot/config.py uses it."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def redacted(url: str) -> str:
    """The URL without its password: what may be logged or shown."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def without_password(url: str) -> tuple[str, str | None]:
    """The URL without its password (for a child's command line, which others on the machine can read), and the
    password, for the child's environment (PGPASSWORD)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url, None
    host = f"{parts.username}@" if parts.username else ""
    host += parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment)), parts.password
