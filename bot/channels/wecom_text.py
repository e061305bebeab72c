"""Text on WeCom: byte-safe splitting, numbered choices, and typed commands.

A text message holds at most 2 048 bytes of UTF-8 (90236 发送应用消息, text.content "最长不超过2048个
字节，超过将截断"): about 680 Chinese characters. Longer text is split into several messages, at line
breaks, else after a sentence, else between two characters — never inside one, never cut off.

WeCom has no slash-command menu, and a deputy using the app from personal WeChat sees no cards: a
command may be typed as "/submit" or as its words ("提交", "我的事项"), and a choice as its number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from zoneinfo import ZoneInfo

from bot.i18n import SUPPORTED, N_, Translator
from bot.messages import TYPED_WORDS, Button
from handlers.routes import MENU_COMMANDS

MAX_TEXT_BYTES = 2048  # 90236: text.content, bytes of UTF-8
_SENTENCE_END = re.compile(r"(?<=[。！？；…!?;])")
_SPACES = re.compile(r"[\s\u3000]+")
_UTC = ZoneInfo("UTC")  # the menu texts hold no dates

# What WeCom's app menu adds to handlers/routes.MENU_COMMANDS, with its text. The app has one menu for every member
# (90231), and Telegram's "/" list has no need of these: staff open their to-do list most, and on WeCom there is no
# "/" to type it with; the presentation is WeCom's alone.
EXTRA_COMMANDS = (("inbox", N_("To do")), ("view", N_("Display")))
# Words typed for commands, beside the menu texts of every language (which are added at import).
COMMAND_WORDS = {word: command for command, word in TYPED_WORDS.items()} | {  # the messages name the first ones
    "菜单": "menu", "显示方式": "view", "开始": "start",
} | {command: command for command in (*TYPED_WORDS, "menu", "view")} | {"language": "lang"}  # English, as /help
# names them without the "/" a phone's keyboard hides
BIND_WORDS = ("绑定", "bind")


def size(text: str) -> int:
    return len(text.encode("utf-8"))


def split_bytes(text: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """`text` as parts of at most `limit` bytes of UTF-8, split at lines, else sentences, else characters."""
    if size(text) <= limit:
        return [text]
    parts: list[str] = []
    current, used = "", 0
    for piece in _pieces(text, limit):
        width = size(piece)
        if used + width > limit and current:
            parts.append(current)
            current, used = "", 0
        current += piece
        used += width
    if current:
        parts.append(current)
    trimmed = [p.strip("\n") for p in parts]
    return [p for p in trimmed if p.strip()] or [text[:1]]


def _pieces(text: str, limit: int) -> Iterator[str]:
    """Consecutive pieces of `text`, each within `limit` bytes: lines, else sentences, else characters."""
    for line in text.splitlines(keepends=True):
        if size(line) <= limit:
            yield line
            continue
        for sentence in _SENTENCE_END.split(line):
            if size(sentence) <= limit:
                yield sentence
                continue
            chunk: list[str] = []
            used = 0
            for ch in sentence:
                width = size(ch)
                if used + width > limit:
                    yield "".join(chunk)
                    chunk, used = [], 0
                chunk.append(ch)
                used += width
            if chunk:
                yield "".join(chunk)


def numbered(text: str, buttons: Sequence[Button], _: Translator) -> str:
    """The text with its choices as a numbered list, to be answered by typing a number; a button with a typed
    form (a matter's number) is shown as what to send instead, unnumbered (bot.messages.Button)."""
    lines = [text, ""] if text else []
    choices = [b for b in buttons if not b.typed]
    lines += [f"{index}. {b.label}" for index, b in enumerate(choices, 1)]
    lines += [_("{label}: send {typed}", label=b.label, typed=b.typed) for b in buttons if b.typed]
    if choices:
        lines.append(_("Reply with the number of your choice."))
    return "\n".join(lines)


def _menu_words() -> dict[str, str]:
    words = {}
    for locale in SUPPORTED:
        _ = Translator(locale, _UTC)
        for name, description in (*MENU_COMMANDS, *EXTRA_COMMANDS):
            words[_(description).strip().lower()] = name
    return words


def parse_command(text: str) -> tuple[str, str] | None:
    """(command, args) of a typed command — "/submit", "提交", "我的事项", "绑定 CODE" — or None for text."""
    stripped = _SPACES.sub(" ", text).strip()
    if stripped.startswith("/") and len(stripped) > 1:
        word, _, args = stripped[1:].partition(" ")
        return word.split("@")[0].lower(), args.strip()
    lowered = stripped.lower()
    for word in BIND_WORDS:
        if lowered.startswith(word) and len(stripped) > len(word):
            code = stripped[len(word):].strip(" :：")
            if code and " " not in code:
                return "start", code
    name = COMMAND_WORDS.get(lowered) or _WORDS.get(lowered)
    return (name, "") if name else None


def choice_number(text: str) -> int | None:
    """The number typed to choose (1-99, ASCII or full-width digits), or None."""
    stripped = text.strip().rstrip(".。、")
    if not stripped or len(stripped) > 2:
        return None
    digits = stripped.translate(_FULL_WIDTH)
    return int(digits) if digits.isascii() and digits.isdigit() and int(digits) > 0 else None


_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_WORDS = _menu_words()
