"""A Reply as Telegram message text: HTML with every piece of user text escaped, split at line
breaks into parts within Telegram's limit of 4096 UTF-16 code units (after entity parsing)."""

from __future__ import annotations

import html

from bot.messages import Reply

MAX_TEXT = 4096  # UTF-16 code units, after entity parsing
SPLIT_AT = 4000  # leave room for the bold title and an ellipsis


def render_html(reply: Reply) -> str:
    """Telegram HTML with every piece of text escaped: user text can never break the markup."""
    body = html.escape(reply.text, quote=False)
    if reply.title:
        return f"<b>{html.escape(reply.title, quote=False)}</b>\n{body}"
    return body


def utf16_len(text: str) -> int:
    """The length Telegram counts: UTF-16 code units (an emoji beyond the BMP is two)."""
    return len(text.encode("utf-16-le")) // 2



def utf16_prefix(text: str, limit: int) -> str:
    """The longest start of `text` of at most `limit` UTF-16 units, never half a character."""
    if utf16_len(text) <= limit:
        return text
    used, end = 0, 0
    for end, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return text[:end]
    return text


def split_text(text: str, limit: int = SPLIT_AT) -> list[str]:
    """Split rendered HTML at line breaks into parts of at most `limit` UTF-16 units.

    Only the title carries a tag, on the first line, so splitting at line breaks never
    cuts a tag in two; a single line longer than the limit is cut between characters,
    never inside an escape such as &amp;.
    """
    if utf16_len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while utf16_len(line) > limit:
            head = _cut(line, limit - utf16_len(current) - 1 if current else limit)
            if current:
                parts.append(current + "\n" + head if head else current)
            else:
                parts.append(head)
            current = ""
            line = line[len(head):]
        candidate = f"{current}\n{line}" if current else line
        if utf16_len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current:
        parts.append(current)
    return [p for p in parts if p.strip()] or [text[:limit]]


def _cut(line: str, budget: int) -> str:
    """The longest prefix within `budget` UTF-16 units that does not end inside an HTML escape."""
    out, used = [], 0
    for ch in line:
        width = 2 if ord(ch) > 0xFFFF else 1
        if used + width > budget:
            break
        out.append(ch)
        used += width
    head = "".join(out)
    amp = head.rfind("&")
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    return head
