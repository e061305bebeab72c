"""The papers' own words, in Chinese whatever the reader's language (the office sends them upward as they
are): the report's words for a matter's states (the chat's labels say 已办结 for both concluded and closed),
for the two bodies, the staff's roles and the halves of the year; and the chat's labels in Chinese."""

from __future__ import annotations

from typing import Final
from zoneinfo import ZoneInfo

from bot.i18n import Translator
from bot.matter.states import State

STATE_WORDS: Final[dict[str, str]] = {
    State.REGISTERED: "已登记待交办", State.ASSIGNED: "已交办", State.IN_PROGRESS: "办理中",
    State.CONCLUDED: "已办结待答复", State.REPLIED: "已答复待评价", State.RATED: "已评价待最终答复",
    State.CLOSED: "已完结", State.TRANSFERRED: "已移送", State.REOPENED: "重新办理中",
}
BODY_WORDS: Final = {"npc": "人大代表", "cppcc": "政协委员"}
ROLE_WORDS: Final = {"office": "办公室", "handler": "承办人", "head": "部门负责人", "discipline": "纪检监察",
                     "leader": "院领导", "admin": "系统管理员"}
HALF_WORDS: Final = {1: "上半年", 2: "下半年"}


def zh() -> Translator:
    """A translator into Chinese, for the chat's labels on the papers."""
    return Translator("zh_Hans", ZoneInfo("Asia/Shanghai"))  # for labels only: no date is formatted with it


def zh_words(msgid: str) -> str:
    """A label of the chat in the papers' language, Chinese, whoever draws them."""
    return zh()(msgid)
