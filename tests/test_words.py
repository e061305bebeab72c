"""SPEC §10, Words and tone: rules of the Chinese text that hold for every message, checked on the catalog itself
so that they stay true as strings are added.

- Chinese punctuation in Chinese text: never an ASCII colon (a time such as 09:30 is not punctuation).
- A date inside a Chinese sentence has no spaces around it: 将于2027年5月5日前办结, not 将于 2027年5月5日 前办结.
- The regulation is cited by its title: 《{regulation}》第十四条, never an article alone or "seed §14".
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.pofile import read_po

from bot.i18n import LOCALE_DIR

ROOT = Path(__file__).resolve().parent.parent
TIME = re.compile(r"\d{1,2}:\d{2}")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Punctuation and letters of a Chinese sentence: a space between one of these and a date is a stray space.
CJK = r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]"
ALWAYS_DATES = frozenset({"day", "when", "date", "month"})  # by convention these parameters are dates
FORMATTERS = frozenset({"date", "datetime", "month"})  # Translator's date formatting methods


def catalog() -> dict[str, str]:
    with (LOCALE_DIR / "zh_Hans" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return {m.id: m.string for m in read_po(handle) if m.id}  # type: ignore[misc]


def date_parameters() -> dict[str, set[str]]:
    """msgid -> the names of its parameters that the code fills with a formatted date (`day=_.date(...)`)."""
    found: dict[str, set[str]] = {}
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                first = node.args[0]
                if not isinstance(first, ast.Constant) or not isinstance(first.value, str):
                    continue
                for keyword in node.keywords:
                    value = keyword.value
                    if (keyword.arg and isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                            and value.func.attr in FORMATTERS):
                        found.setdefault(first.value, set()).add(keyword.arg)
    return found


def test_the_chinese_catalog_has_no_ascii_colon() -> None:
    offending = {msgid: msgstr for msgid, msgstr in catalog().items() if ":" in TIME.sub("", msgstr)}
    assert offending == {}, "use the Chinese colon ：" + "".join(f"\n{k!r} → {v!r}" for k, v in offending.items())


def test_dates_in_chinese_sentences_have_no_spaces_around_them() -> None:
    dates = date_parameters()
    assert "day" in dates["To be concluded by: {day}"]  # the scan finds what the code formats
    offending = {}
    for msgid, msgstr in catalog().items():
        for name in ALWAYS_DATES | dates.get(msgid, set()):
            spaced = rf"{CJK}\s+\{{{name}\}}|\{{{name}\}}\s+{CJK}"
            if re.search(spaced, msgstr):
                offending[msgid] = msgstr
    assert offending == {}, "no spaces around a date" + "".join(f"\n{k!r} → {v!r}" for k, v in offending.items())


def test_the_regulation_is_cited_by_its_title() -> None:
    """Every article cited in Chinese is cited with the regulation's title; no English message says "seed"."""
    for msgid, msgstr in catalog().items():
        assert "seed" not in msgid.lower(), msgid
        if re.search(r"第[一二三四五六七八九十]+条", msgstr):
            assert "《{regulation}》第" in msgstr, msgstr
        if "§" in msgid or "Article" in msgid:
            assert "{regulation}" in msgid, msgid
