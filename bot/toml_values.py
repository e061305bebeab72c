"""Typed values out of a TOML table, each refused with one line that names its key (bot/config.py reads the
configuration's sections through it)."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.errors import ConfigError
from bot.workdays import parse_days


class TomlReader:
    """Typed access to nested TOML keys, remembering which keys were read."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.seen: set[str] = set()

    def _get(self, key: str) -> Any:
        self.seen.add(key)
        node: Any = self.raw
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def text(self, key: str, default: str, *, max_len: int = 1000, pattern: str = "", blank: bool = False) -> str:
        value = self._get(key)
        if value is None:
            return default
        if not isinstance(value, str) or not value.strip() and default and not blank:
            raise ConfigError(key, "must be a non-empty string")
        value = value.strip()
        if len(value) > max_len:
            raise ConfigError(key, f"must be at most {max_len} characters")
        if pattern == "A-Z0-9" and not (value.isascii() and value.replace("-", "").isalnum()):
            raise ConfigError(key, "must be letters, digits or '-'")
        return value

    def texts(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self._get(key)
        if value is None:
            return default
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise ConfigError(key, 'must be a list of names, e.g. ["中共", "民革", "民盟|中国民主同盟"]')
        return tuple(v.strip() for v in value)

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self._get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(key, f"must be a whole number from {low} to {high}")
        return value

    def number(self, key: str, default: float, low: float, high: float) -> float:
        value = self._get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise ConfigError(key, f"must be a number from {low:g} to {high:g}")
        return float(value)

    def days(self, key: str, default: tuple[int, ...]) -> tuple[int, ...]:
        value = self._get(key)
        if value is None:
            return default
        if (not isinstance(value, list) or not value
                or not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 365 for v in value)):
            raise ConfigError(key, "must be a list of whole numbers of days from 1 to 365, e.g. [30, 14, 7, 3]")
        return tuple(sorted(set(value), reverse=True))

    def dates(self, key: str) -> frozenset[date]:
        value = self._get(key)
        if value is None:
            return frozenset()
        if not isinstance(value, list):
            raise ConfigError(key, 'must be a list of dates, e.g. ["2027-01-01", "2027-02-06/2027-02-14"]')
        try:
            return parse_days(value)
        except ValueError as exc:
            raise ConfigError(key, str(exc)) from None

    def names(self, key: str) -> dict[str, str]:
        """A table of Chinese names to their English names."""
        value = self._get(key)
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(
                isinstance(k, str) and k.strip() and isinstance(v, str) and v.strip() and len(v) <= 200
                for k, v in value.items()):
            raise ConfigError(key, 'must be a table of names, e.g. "第二检察部" = "Second Procuratorial Department"')
        return {k.strip(): v.strip() for k, v in value.items()}

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise ConfigError(key, "must be true or false")
        return value

    def reject_unknown(self) -> None:
        """Name the first key that nothing reads: a typo must not pass silently."""

        def walk(node: dict[str, Any], prefix: str) -> None:
            for name, value in node.items():
                key = f"{prefix}{name}"
                if isinstance(value, dict) and key not in self.seen:
                    walk(value, key + ".")
                elif key not in self.seen:
                    raise ConfigError(key, "unknown key (see config.example.toml)")

        walk(self.raw, "")
