"""Languages: gettext catalogs through Babel, and dates and numbers in the reader's locale.

Source strings are English (msgids); `locales/zh_Hans/LC_MESSAGES/messages.po` holds the
Simplified Chinese, the default. Strings take named parameters, filled after translation:
`_("Registered as {number}.", number=...)`. Dates and times are shown in the unit's time
zone, formatted by Babel (`2026年11月28日`, `09:30`).

Two kinds of proper names come from the configuration (`Terms`), not the catalogs: the title of
the regulation the bot implements, which a message cites as `{regulation}` without its caller
passing it (`terms.regulation`, `terms.regulation_en`); and the English names of Chinese proper
names (`terms.english_names`): in English, a parameter that is exactly such a name, a department
or the unit, reads `第二检察部 (Second Procuratorial Department)`; unconfigured, the Chinese alone.

A message names a command a person may type as `{/my}`, also without its caller passing it: `/my`, or,
in Chinese on a channel whose members type words (`ChannelTraits.words`: WeCom), `“我的”`
(`messages.TYPED_WORDS`), set into the sentence without the spaces "/my" needs ("发送“我的”可随时查看").
"""

from __future__ import annotations

import gettext
import io
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cache, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.messages import TELEGRAM_TRAITS, TYPED_WORDS, TextBudget

log = logging.getLogger(__name__)
_Date = date  # the class has a method named `date`

LOCALE_DIR = Path(__file__).with_name("locales")
DOMAIN = "messages"
SUPPORTED = ("zh_Hans", "en")
BABEL_LOCALE = {"zh_Hans": "zh_Hans_CN", "en": "en"}
LANGUAGE_NAMES = {"zh_Hans": "简体中文", "en": "English"}


REGULATION = "卢氏县检察院加强与人大代表政协委员联络工作实施办法（暂行）"
REGULATION_EN = ("Measures of the Lushi County Procuratorate for Strengthening Liaison with NPC Deputies and CPPCC "
                 "Members (Provisional)")


@dataclass(frozen=True)
class Terms:
    """The configured proper names a message may show (see the module docstring)."""

    regulation: str = REGULATION
    regulation_en: str = REGULATION_EN
    english_names: Mapping[str, str] = field(default_factory=dict)


class Msg(str):
    """A catalog id passed as a parameter: translated when the message around it is rendered."""


def N_(message: str) -> str:
    """Mark a string for extraction without translating it here (tables of labels)."""
    return message


def locale_for(language_code: str | None, default: str) -> str:
    """Map a channel's language code (zh-hans, zh-CN, en-US...) to a supported locale."""
    if not language_code:
        return default
    code = language_code.replace("_", "-").lower()
    if code.startswith("zh"):
        return "zh_Hans"
    if code.startswith("en"):
        return "en"
    return default


@cache
def _catalog(locale: str) -> gettext.NullTranslations:
    if locale == "en":
        return gettext.NullTranslations()
    folder = LOCALE_DIR / locale / "LC_MESSAGES"
    mo, po = folder / f"{DOMAIN}.mo", folder / f"{DOMAIN}.po"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as handle:
            return gettext.GNUTranslations(handle)
    if not po.exists():
        raise FileNotFoundError(po)
    # The set-up compiles catalogs; when it has not (a bare checkout), compile in memory.
    log.warning("compiled catalog for %s missing or stale; compiling %s in memory", locale, po.name)
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=BABEL_LOCALE[locale])
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


_WORD_OPEN, _WORD_CLOSE = "\ue000", "\ue001"  # around a command's words until the sentence is made (private use)
_CJK = "\u2e80-\u9fff\uff00-\uffef"
_SPACED_OPEN = re.compile(f"(?<=[{_CJK}]) ?{_WORD_OPEN}|{_WORD_OPEN}")
_SPACED_CLOSE = re.compile(f"{_WORD_CLOSE} ?(?=[{_CJK}])|{_WORD_CLOSE}")


def _set_words(text: str) -> str:
    """A command's words set into a Chinese sentence: the spaces "/my" needed beside Chinese text removed."""
    return _SPACED_CLOSE.sub("", _SPACED_OPEN.sub("", text))


@cache
def _babel_locale(locale: str) -> Locale:
    # One Locale per language for the process: parsing one costs more than a handler's query, and Babel
    # keeps the CLDR data it loads on the instance, so every date after the first is formatted from memory.
    return Locale.parse(BABEL_LOCALE[locale])


# Babel formats a date by interpreting its CLDR pattern anew each time (a few dozen calls): the same few days
# and minutes are written into every receipt and notice, so each is formatted once per language.
@lru_cache(maxsize=4096)
def _long_date(locale: str, day: date) -> str:
    return format_date(day, format="long", locale=_babel_locale(locale))


@lru_cache(maxsize=4096)
def _hours_minutes(locale: str, hour: int, minute: int) -> str:
    return format_time(time(hour, minute), "HH:mm", locale=_babel_locale(locale))


class Translator:
    """Everything a handler needs to speak one person's language."""

    def __init__(self, locale: str, tz: ZoneInfo, terms: Terms = Terms(), budget: TextBudget | None = None,
                 words: bool = False) -> None:
        if locale not in SUPPORTED:
            raise ValueError(locale)
        self.locale = locale
        self.words = words and locale.startswith("zh")  # commands named by their words (`command`)
        # how much text the reader's channel holds in one reply (bot/messages.py TextBudget)
        self.budget = budget or TELEGRAM_TRAITS.budget
        self.tz = tz
        self.terms = terms
        self._catalog = _catalog(locale)
        self._babel = _babel_locale(locale)

    def __call__(self, message: str, /, **params: object) -> str:
        text = self._catalog.gettext(message)
        if "{regulation}" in text:
            params = {"regulation": self.regulation, **params}
        if "{/" in text:
            params = {**{f"/{name}": self._marked(name) for name in TYPED_WORDS}, **params}
        if not params:
            return text
        text = text.format(**{k: self._param(v) for k, v in params.items()})
        return _set_words(text) if self.words and _WORD_OPEN in text else text

    def command(self, name: str) -> str:
        """How a message names the command `name` to this reader: "/my", or its typed words (see the module)."""
        return _set_words(self._marked(name))

    def _marked(self, name: str) -> str:
        """`command`, its words marked for `_set_words` to set into the sentence."""
        if self.words and name in TYPED_WORDS:
            return f"{_WORD_OPEN}“{TYPED_WORDS[name]}”{_WORD_CLOSE}"
        return f"/{name}"

    @property
    def regulation(self) -> str:
        """The title of the regulation, without quotation marks (the messages add them as the language wants)."""
        return self.terms.regulation_en if self.locale == "en" else self.terms.regulation

    def name(self, chinese: str) -> str:
        """A Chinese proper name as this reader reads it: in English, with its configured English name."""
        english = self.terms.english_names.get(chinese) if self.locale == "en" else None
        return f"{chinese} ({english})" if english else chinese

    def _param(self, value: object) -> object:
        if isinstance(value, Msg):
            return self._catalog.gettext(value)
        if isinstance(value, str) and self.locale == "en":
            return self.name(value)
        return value

    def plural(self, singular: str, plural: str, n: int, /, **params: object) -> str:
        return self._catalog.ngettext(singular, plural, n).format(n=n, **params)

    def date(self, day: date) -> str:
        return _long_date(self.locale, day)

    def month(self, day: _Date) -> str:
        """2026年11月 / November 2026"""
        return format_skeleton("yMMMM", day, locale=self._babel)

    def datetime(self, moment: datetime) -> str:
        local = moment.astimezone(self.tz)
        return f"{self.date(local.date())} {_hours_minutes(self.locale, local.hour, local.minute)}"
