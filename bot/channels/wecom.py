"""The WeCom 企业微信 (and 政务微信) channel: a self-built app's messages, in and out.

Receiving (bot/channels/wecom_callback.py): each callback is verified, decrypted and stored in the
inbox before it is answered; a message is known by its MsgId, an event — which has none — by who,
when, which event and which key, so WeCom's resends are stored once and distinct events never merged.

Sending (bot/channels/wecom_send.py): text in parts of at most 2 048 bytes (wecom_text.py); choices as
a button card (`button_interaction`) or, for whoever reads WeCom in personal WeChat, where cards do not
show, as a numbered list answered by typing the number (each person's presentation:
persons.presentation, else the configured default of their role); files as temporary media, uploaded
once and reused while valid. WeCom's errcodes become the outbox's outcomes. A press of a card is user input
like any button: its data is looked up by the card's task_id and the button key, and the core checks
again who may do what. The pressed card's buttons are then replaced by the choice
(update_template_card), so an old card cannot be pressed twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.channels.base import DeliveryError, MaybeDelivered, Pacing, Progress, TemporaryFailure, fetch_attachments
from bot.channels.wecom_api import WeComAPI, WeComError
from bot.channels.wecom_callback import CallbackServer
from bot.channels.wecom_link import InviteLinks
from bot.channels.wecom_crypto import WeComCrypto
from bot.channels.wecom_send import TASK_PREFIX, WeComSender
from bot.channels.wecom_text import EXTRA_COMMANDS, MAX_TEXT_BYTES, choice_number, parse_command
from bot.config import WECOM_SECRET_ENV
from bot.domain import normalise_phone
from bot.errors import ConfigError
from bot.i18n import Translator
from bot.ports import Tx
from bot.messages import Attachment, Button, ChannelTraits, Contact, Incoming, Reply, SendResult, TextBudget
from handlers.routes import MENU_COMMANDS
from bot.model import Dialog, actor_of
from bot.router import DIALOG_NS
from storage import dialogs, outbox
from storage import wecom as store

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

NAME = "wecom"

# What handlers may put in one reply: 2 048 bytes of UTF-8 a text message (90236), split at lines into at
# most 6 messages (a fifth of the 30 a minute WeCom lets an app send one member, 90454) — about 4 000
# Chinese characters, what one Telegram message holds. Members send pictures, voice, video, places and
# links, never documents (90239/90240 接收消息: no file message type).
TRAITS = ChannelTraits(TextBudget("utf8", MAX_TEXT_BYTES, parts=6), documents=False, popups=False,
                       words=True, contact_button=False, invite_link=False)
# 90236 频率限制 (and 90454): "每应用对同一个成员不可超过30次/分钟，1000次/小时，超过部分会被丢弃不下发" —
# silently dropped, with errcode 0. The outbox paces each member below both, with a margin.
MEMBER_WINDOWS = ((25, 60.0), (900, 3600.0))
_PHONE = re.compile(r"^\+?[\d\s-]{7,20}$")
# A notice's list shown this recently does not take a number typed in a dialogue (`settle`): a person reads a new
# message and types its number in more than a few seconds; one typing the dialogue's answer may meet it sooner.
JUST_ARRIVED = timedelta(seconds=30)
DIALOGUE_ANSWERED = timedelta(minutes=15)  # its step this recent: the member is in the middle of the dialogue
WORD_CHARS = 40  # a choice typed out is as long as a label at most: 10 characters on a card (90236), more in English ("Back to the summary")


class WeComChannel:
    name = NAME
    traits = TRAITS

    def __init__(self, app: App) -> None:
        self.app = app
        self.config = app.config.wecom
        self.db = app.db
        self.clock = app.clock
        self.files = app.files
        self.max_file_bytes = app.config.intake.max_file_mb * 1024 * 1024
        self.api = WeComAPI(self.config, app.db, app.clock)
        self.crypto = WeComCrypto(self.config.token, self.config.encoding_aes_key, self.config.corp_id)
        self.server = CallbackServer(self.crypto, app.clock, self._store, host=self.config.callback_host,
                                     port=self.config.callback_port, path=self.config.callback_path,
                                     max_skew=self.config.max_clock_skew, opened=self._open_link,
                                     tz=app.config.unit.tz)
        # an invite link opened in WeCom: its member's "绑定 CODE", stored as a callback is (bot/channels/wecom_link.py)
        self.links = InviteLinks(self.api, app.db, app.clock, self._store)
        self.pacing = Pacing(per_chat_interval=0.5, global_rate=self.config.global_rate, windows=MEMBER_WINDOWS)
        self.redelivery_window = timedelta(days=1)  # WeCom resends a callback within seconds, never days later
        self.sender = WeComSender(app, self.api)  # what an outbox item becomes, and what an errcode means

    @property
    def alerts(self) -> int:
        """How many times the administrators were told of an error only they can fix (60020 and the like)."""
        return self.sender.alerts

    def cost(self, chat_id: str, op: str, payload: dict[str, Any]) -> int:
        return self.sender.cost(chat_id, op, payload)

    async def deliver(self, chat_id: str, op: str, payload: dict[str, Any], progress: Progress | None = None) -> SendResult:
        return await self.sender.deliver(chat_id, op, payload, progress)

    async def look_up(self, q: Tx, chat_ids: list[str]) -> None:
        await self.sender.look_up(q, chat_ids)

    @property
    def callback_url(self) -> str:
        return f"http://{self.server.host}:{self.server.port}{self.server.path}"

    async def start(self) -> None:
        """Open the API client, check the credentials, listen for callbacks, set the app's menu.

        Credentials WeCom refuses stop start-up with a ConfigError naming the key (40001 the secret, 40013
        the CorpID, 40056 the AgentId); WeCom unreachable, or the server's IP not trusted (60020, reported),
        do not: the callback server runs, and sends wait in the outbox."""
        await self.api.start()
        try:
            await self.api.token()
            await self.server.start()
            await self.set_menu()
        except WeComError as exc:
            wrong = {40001: WECOM_SECRET_ENV, 40013: "wecom.corp_id", 40056: "wecom.agent_id"}.get(exc.errcode)
            if wrong is not None:
                await self.stop()
                raise ConfigError(wrong, f"WeCom refused it (errcode {exc.errcode})") from None
            await self.sender.report(exc)
            log.warning("wecom: start-up call refused (errcode %d); typed commands still work", exc.errcode)
        except DeliveryError as exc:
            log.warning("wecom: WeCom cannot be reached at start-up (%s); sends wait and are retried", exc)
        if not self.server.started:  # the token or the menu failed first: callbacks are received all the same
            await self.server.start()

    async def stop(self) -> None:
        await self.server.stop()
        await self.api.close()

    async def receive(self, app: App) -> None:
        """The callback server receives on its own; this task only keeps the channel's place in the app."""
        await asyncio.Event().wait()

    # -- the menu -------------------------------------------------------------------------

    def menu(self) -> dict[str, Any]:
        """The app menu (90231 创建菜单: at most 3 buttons, 5 under each; names of at most 16 and 40 bytes), in
        the unit's language, from the same table as Telegram's command list: its first two (提交事项, 我的事项: what
        a deputy does) at the top, and under 更多 the to-do list staff open most (WeCom's menu is one for every member
        of the app; a deputy who presses 待办 is told it is for staff), then the rest of the table and the
        presentation."""
        _ = Translator(self.app.config.default_locale, self.app.config.unit.tz)

        def item(key: str, text: str) -> dict[str, str]:
            return {"type": "click", "name": _(text), "key": key}

        extra = dict(EXTRA_COMMANDS)
        top = [item(key, text) for key, text in MENU_COMMANDS[:2]]
        more = [item("inbox", extra["inbox"]), *(item(k, t) for k, t in MENU_COMMANDS[2:]), item("view", extra["view"])]
        # 90231: at most 5 under one (the test of the menu fails when the table outgrows it)
        return {"button": [*top, {"name": _("More"), "sub_button": more[:5]}]}

    async def set_menu(self) -> None:
        await self.api.call("POST", "/cgi-bin/menu/create", {"agentid": str(self.config.agent_id)},
                            body=self.menu(), idempotent=True)

    # -- receiving --------------------------------------------------------------------------

    async def _store(self, fields: dict[str, str]) -> bool:
        """Keep a callback in the inbox; False for one the bot does not handle (answered all the same)."""
        agent = fields.get("AgentID", "").strip()
        if agent and agent != str(self.config.agent_id):
            # Another app of the corp whose callbacks come here with this app's Token and EncodingAESKey (90239,
            # 90240: every message and app event names its AgentID): its members are not to be answered by this one.
            log.warning("wecom: a callback of another app (AgentID %s) ignored; this app is %d", agent[:16],
                        self.config.agent_id)
            return False
        item = inbox_item(fields)
        if item is None:  # enter_agent, LOCATION every few seconds...: nothing to answer, not worth a line each
            log.debug("wecom: %s callback ignored", fields.get("Event") or fields.get("MsgType") or "unknown")
            return False
        await self.app.store(NAME, [item], window=self.redelivery_window)
        return True

    async def _open_link(self, code: str, invite: str) -> str:
        return await self.links.open(code, invite, report=self.sender.report)

    async def prepare(self, payload: str) -> Incoming | None:
        fields: dict[str, str] = json.loads(payload)
        user = member_of(fields)
        if not user:
            return None
        base: dict[str, Any] = {"channel": NAME, "user_id": user, "chat_id": user,
                                "message_id": fields.get("MsgId") or None}
        kind = fields.get("MsgType", "")
        if kind == "text":
            return await self._text(base, fields.get("Content", ""))
        if kind in ("image", "voice", "video"):  # described only: fetched for a bound sender (`fetch`)
            return Incoming(**base, attachments=(_described(kind, fields),))
        if kind == "location":
            return Incoming(**base, text=fields.get("Label", ""))
        if kind == "link":
            return Incoming(**base, text="\n".join(filter(None, (fields.get("Title"), fields.get("Url")))))
        if kind == "event":
            return await self._event(base, fields)
        # A kind of message WeCom may add (90239 lists the six above): nothing in it to read, answered as an empty
        # message is — "not understood", or the dialogue's step asked again — rather than with silence.
        return Incoming(**base)

    async def _text(self, base: dict[str, Any], text: str) -> Incoming:
        command = parse_command(text)
        if command is not None:
            return Incoming(**base, text=text, command=command[0], args=command[1])
        number = choice_number(text)
        if number is not None:  # which list it answers is read in the update's transaction (`settle`)
            return Incoming(**base, text=text, typed_number=number)
        contact = None
        if _PHONE.match(text.strip()) and await self._binding_by_phone(base["user_id"]):
            contact = Contact(normalise_phone(text), base["user_id"])  # WeCom has no share-contact button
        # a choice typed out ("满意" under the ratings): short, one line; a subject or a content is rarely so short,
        # and is never read against the list unless it is
        word = text.strip() if contact is None and 0 < len(text.strip()) <= WORD_CHARS and "\n" not in text else ""
        return Incoming(**base, text=text, contact=contact, typed_word=word)

    async def settle(self, q: Tx, inc: Incoming) -> Incoming:
        """A typed number presses the choice of that number in the list the member has before them (cards keep
        one too); a number beyond the list, or on a card already pressed (it shows the choice alone, or will once
        the press's answer is sent), stays text.

        In the middle of a dialogue the member is answering, a notice that came just now (a reply to rate, an
        invitation: a list the member did not ask for) does not take the number: it was meant for the dialogue's
        step, which came before, and must not rate a reply or answer an invitation. Later, the notice's list is
        the one a number answers; and a list the member asked for in the dialogue (/view, /my) takes it at once."""
        number, word, inc = inc.typed_number, inc.typed_word, replace(inc, typed_number=None, typed_word="")
        if number is None and not word:
            return inc
        lists = await outbox.shown_lists(q, NAME, inc.user_id, edits=False)
        if not lists:
            return inc
        shown, now = lists[0], self.clock.now()
        if not shown.asked and _within(shown, now, JUST_ARRIVED) and len(lists) > 1:
            dialog = await dialogs.load(q, actor_of(NAME, inc.user_id))
            if dialog is not None and not _of_dialog(shown, dialog):
                shown = next((older for older in lists[1:] if _of_dialog(older, dialog)
                              and _within(older, now, DIALOGUE_ANSWERED)), shown)
        choices = Reply.from_json(shown.payload).choices()
        if number is None:  # a word: the one choice of the list so named, or the text it is
            named = [index for index, choice in enumerate(choices, 1) if _plain(choice.label) == _plain(word)]
            if len(named) != 1 or await _of_an_ended_dialogue(q, inc.user_id, choices):
                return inc
            number = named[0]
        elif number > len(choices):  # told which numbers the list takes, unless the list has ended with its dialogue
            return inc if await _of_an_ended_dialogue(q, inc.user_id, choices) else replace(inc, beyond=len(choices))
        for task_id in (i for i in shown.message_ids if i.startswith(TASK_PREFIX)):  # a card, maybe before files
            card = await store.card(q, task_id)
            if card is not None and (card.chosen_at is not None or await _being_answered(q, inc.user_id, task_id)):
                return inc  # pressed: it shows (or is about to show) the choice alone
        return replace(inc, message_id=shown.message_id, action=choices[number - 1].data)

    async def _binding_by_phone(self, user: str) -> bool:
        async with self.db.snapshot() as q:
            dialog = await dialogs.load(q, actor_of(NAME, user))
        return dialog is not None and dialog.flow == "bind"

    async def _event(self, base: dict[str, Any], fields: dict[str, str]) -> Incoming | None:
        event = fields.get("Event", "").lower()
        if event == "click":  # the app menu
            return Incoming(**base, command=fields.get("EventKey", "") or "help")
        if event == "subscribe":  # added to the app's visible range (90240): told, as /start tells, how to begin
            return Incoming(**base, command="start")
        if event != "template_card_event":
            return None
        task_id, key = fields.get("TaskId", ""), fields.get("EventKey", "")
        async with self.db.snapshot() as q:
            card = await store.card(q, task_id)
        found = card.button(key) if card is not None and card.userid == base["user_id"] else None
        action = found[1] if found is not None and card is not None and card.chosen_at is None else ""
        # The answer replaces the card's buttons; it needs the press's response code (single use, valid 24 h
        # by the older pages and WxJava, 72 h by the current 94888: the shorter is assumed) and its time.
        callback = f"{task_id}:{fields.get('ResponseCode', '')}:{key}:{fields.get('CreateTime', '')}"
        return Incoming(**base | {"message_id": task_id}, action=action, callback_id=callback)

    async def fetch(self, inc: Incoming) -> Incoming:
        return await fetch_attachments(inc, self._download)

    async def _download(self, item: Attachment) -> Attachment:
        for attempt in range(3):
            try:
                data, filename, mime = await self.api.download(item.file_ref, self.max_file_bytes)
            except ValueError:
                return _with(item, error="too_large")
            except WeComError as exc:
                log.warning("wecom: media/get refused (errcode %d)", exc.errcode)
                return _with(item, error="download_failed")
            except (TemporaryFailure, MaybeDelivered) as exc:
                log.warning("wecom: media/get failed (%s), attempt %d", exc, attempt + 1)
                await asyncio.sleep(0.5 * 2 ** attempt)
                continue
            digest, path = self.files.put(data)
            return _with(item, sha256=digest, stored_path=path, size=len(data),
                         mime=mime if mime and "/" in mime and item.kind != "photo" else item.mime)
        return _with(item, error="download_failed")

async def _of_an_ended_dialogue(q: Tx, userid: str, choices: list[Button]) -> bool:
    """Whether the list's choices are a dialogue's step that is no longer the member's (the dialogue ended, or moved
    on): "please reply 1 to 2" for a confirmation already given would only lead to "no longer valid"."""
    steps = [choice.data.split(":") for choice in choices]
    if not steps or any(len(step) < 3 or step[0] != DIALOG_NS for step in steps):
        return False
    dialog = await dialogs.load(q, actor_of(NAME, userid))
    return dialog is None or dialog.nonce != steps[0][1]


def _plain(label: str) -> str:
    """A label as a member types it: no marks around it, no final stop, any case ("✓ 王建国" is "王建国")."""
    return label.strip().removeprefix("✓").strip().rstrip("。.!！").casefold()


def member_of(fields: dict[str, str]) -> str:
    """The member a callback comes from, as the bot keeps WeCom userids: in lower case, since WeCom's are not
    case-sensitive (90236: "不区分大小写，统一转为小写"; the office may have typed it otherwise when binding)."""
    return fields.get("FromUserName", "").strip().lower()


def inbox_item(fields: dict[str, str]) -> tuple[str, str, str] | None:
    """(external id, chat key, payload) of a callback worth handling, or None (enter_agent and the like).

    A message is known by its MsgId. An event has none, and WeCom resends it unchanged: it is known by
    who, when, which event and which key (and card), so that two real presses are never taken for one."""
    user = member_of(fields)
    kind = fields.get("MsgType", "")
    if not user:
        return None
    if kind == "event":
        event = fields.get("Event", "").lower()
        if event not in ("click", "template_card_event", "subscribe"):
            return None
        key = json.dumps([user, fields.get("CreateTime", ""), event, fields.get("EventKey", ""),
                          fields.get("TaskId", "")], ensure_ascii=False)
        external = "ev:" + hashlib.sha256(key.encode()).hexdigest()[:40]
    elif kind and fields.get("MsgId"):  # the six kinds of 90239, and any it may add (answered as not understood)
        external = "msg:" + fields["MsgId"]
    else:
        return None
    return external, f"{NAME}:{user}", json.dumps(fields, ensure_ascii=False)


def _described(kind: str, fields: dict[str, str]) -> Attachment:
    """A member's picture, voice or video as the callback describes it (its MediaId), not yet downloaded."""
    msg_id = fields.get("MsgId", "")
    voice = "".join(ch for ch in fields.get("Format", "").lower() if ch.isascii() and ch.isalnum())[:8] or "amr"
    name = {"image": f"photo-{msg_id}.jpg", "voice": f"voice-{msg_id}.{voice}", "video": f"video-{msg_id}.mp4"}[kind]
    return Attachment("photo" if kind == "image" else "document", fields.get("MediaId", ""), name, None,
                      "image/jpeg" if kind == "image" else None)


def _with(item: Attachment, **changes: Any) -> Attachment:
    return replace(item, **changes)


async def _being_answered(q: Tx, userid: str, task_id: str) -> bool:
    """Whether a press of this card is answered by an update of the card not yet known to be done (queued, being
    sent, or sent with an unknown outcome: it may show): the card is as good as pressed, and once updated shows the
    choice alone (`mark_chosen`). A press that changed nothing (`unchanged`) leaves the card to be pressed again, and
    so does an update that failed (the card still shows its buttons). An answer's callback id starts with its
    card's task id (`_event`)."""
    return any(str(answer.get("callback_id") or "").startswith(f"{task_id}:") and not answer.get("unchanged")
               for answer in await outbox.unsent_answers(q, NAME, userid))


def _within(shown: outbox.Shown, now: datetime, span: timedelta) -> bool:
    """Whether a list was sent less than `span` ago (one still being sent was sent just now)."""
    return shown.sent_at is None or now - shown.sent_at < span


def _of_dialog(shown: outbox.Shown, dialog: Dialog) -> bool:
    """Whether a list is the dialogue's current step (its choices carry the step's nonce, bot/router.py)."""
    prefix = f"{DIALOG_NS}:{dialog.nonce}:"
    return any(b.data.startswith(prefix) for b in Reply.from_json(shown.payload).choices())
