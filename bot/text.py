"""Text from people, made safe where it enters and where it leaves.

`normalise` is applied where user text enters the bot (every incoming message, every cell of an
imported spreadsheet, the operator's command-line arguments): Unicode NFC, line ends as "\\n", and no
control character but newline and tab. So what is stored is what a document can hold, and two
spellings of one name (a precomposed letter and its decomposed form) are one name.

`printable` is the writers' own guard, for text stored before `normalise` existed or built from
stored parts: it drops what XML 1.0 (so .docx and .xlsx) cannot hold at all. A writer never fails
on a character: a vertical tab in a department's name once stopped the half-year report.
"""

from __future__ import annotations

import re
import unicodedata

# C0 and C1 controls and DEL, but not tab (\x09) and newline (\x0a); \r is turned into \n first.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# What XML 1.0 forbids outright: C0 controls but tab, newline and carriage return; lone surrogates;
# U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _whole_utf8(text: str) -> str:
    """A lone UTF-16 surrogate (a JSON escape such as \\ud83d without its pair decodes to one) cannot be
    encoded as UTF-8: it becomes U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def normalise(text: str) -> str:
    """User text as it is stored: whole UTF-8, NFC, "\\r\\n" and "\\r" as "\\n", other controls but tab removed."""
    text = _whole_utf8(text)
    if text.isascii() and text.isprintable():
        return text  # the common case, cheaply
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", _CONTROLS.sub("", text))


def normalise_opt(text: str | None) -> str | None:
    return None if text is None else normalise(text)


def printable(text: str) -> str:
    """The text without what an XML document (.docx, .xlsx) cannot hold."""
    return _NOT_XML.sub("", text)


def clip(text: str, limit: int) -> str:
    """The text, shortened to at most `limit` characters with an ellipsis (…) when it is longer."""
    return text if len(text) <= limit else text[:limit - 1] + "…"
