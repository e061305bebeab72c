"""What a handler works with: the transaction, the incoming event, the person, their language.

Everything a handler says goes into the outbox inside the handler's own transaction:
`reply` answers the chat the event came from, `notify` reaches another person by any
chat they are bound to, in their own language. So a state change and the messages it
owes are committed together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from bot.config import Config
from bot.i18n import Translator, locale_for
from bot.messages import ChannelTraits, Incoming, Reply, traits_of
from bot.model import FIRST_UNIT, Dialog, Person, UnitScope, actor_of
from bot.ports import ANSWER, Records, Tx


@dataclass
class Context:
    tx: Tx
    inc: Incoming
    now: datetime
    config: Config
    person: Person | None
    _: Translator
    inbox_id: int | None = None
    answered: bool = False
    dialog: Dialog | None = None
    dialog_read: bool = False  # `dialog` is the stored one, read with the sender (bot/inbox.py): not read again
    outbox_ids: list[int] = field(default_factory=list)
    channels: frozenset[str] = frozenset()  # the channels running now: where notifications can go
    prepared: object | None = None  # what the command read before its transaction (bot/router.py `Preparer`)
    records: Records = field(kw_only=True)  # storage's side of the outbox, dialogues and people (bot/ports.py)
    unit: int = field(default=FIRST_UNIT, kw_only=True)  # the unit the operator or the bot itself acts in, no person

    @property
    def today(self) -> date:
        """Today's date where the unit is (`unit.timezone`): the day a deputy and the office call today."""
        return self.now.astimezone(self.config.unit.tz).date()

    @property
    def scope(self) -> UnitScope:
        """The unit the person acting acts in, and the units they may read (bot/model.py); someone not yet bound
        is in the configured unit's chat; the operator's command line acts in the unit its `--unit` names. A
        representative on several units' rosters reads and acts on their own in each (their matters, invitations,
        cards); what they submit goes to the unit they choose (handlers/matters/intake.py)."""
        if self.person is None:
            return UnitScope.of(self.unit)
        if self.person.is_representative:  # their own matters wherever they are (a roster they have since left)
            return UnitScope(self.person.unit_id, self.person.member_of, self.person.units, self.person.id)
        return UnitScope.of(self.person.unit_id)

    @property
    def actor(self) -> str:
        """The dialogue key of whoever is acting: one per channel account."""
        return actor_of(self.inc.channel, self.inc.user_id)

    def translator(self, locale: str | None, channel: str | None = None) -> Translator:
        """A translator for `locale`, with the text budget of `channel` (else of the chat answered)."""
        traits = traits_of(channel or self.inc.channel)
        return Translator(locale or self.config.default_locale, self.config.unit.tz, self.config.terms, traits.budget,
                          traits.words)

    @property
    def traits(self) -> ChannelTraits:
        """What the channel of the chat answered can carry (its budget, whether documents can be sent)."""
        return traits_of(self.inc.channel)

    async def reply(self, reply: Reply) -> None:
        """Say something in the chat the event came from."""
        await self._enqueue(self.inc.channel, self.inc.chat_id, "message", reply.to_json(), "retry",
                            person_id=self.person.id if self.person else None, priority=ANSWER)

    async def answer(self, text: str = "", *, alert: bool = False, unchanged: bool = False) -> None:
        """Acknowledge a button press, once (Telegram allows one answer per press). `unchanged`: the press did
        nothing (a dialogue to finish first, a failure): a channel that marks the pressed choice on its message
        (WeCom's cards, which then cannot be pressed again) leaves it as it was, to be pressed again."""
        if self.inc.callback_id is None or self.answered:
            return
        self.answered = True
        payload: dict[str, object] = {"callback_id": self.inc.callback_id, "text": text, "alert": alert}
        if unchanged:
            payload["unchanged"] = True
        # A second answer is refused and a late one is useless: never retry it blindly.
        await self._enqueue(self.inc.channel, self.inc.chat_id, "answer", payload, "hold", priority=ANSWER)

    async def notify(
        self,
        person_id: int,
        make: Callable[[Translator], Reply],
        *,
        matter_id: int | None = None,
        policy: str = "retry",
        dedup_key: str | None = None,
    ) -> bool:
        """Queue a message to a person in their language; False if they have no chat bound."""
        person = await self.records.person(self.tx, person_id)
        if person is not None and person.disabled and person.is_representative and matter_id is not None:
            return await self._forward_to_office(person, make, matter_id, policy, dedup_key)
        chats = [c for c in await self.records.chats_of(self.tx, person_id) if c[0] in self.channels]
        if person is None or not chats:
            return False
        channel, chat_id = chats[0]
        reply = make(self.translator(person.locale, channel))
        await self._enqueue(channel, chat_id, "message", reply.to_json(), policy,
                            person_id=person_id, matter_id=matter_id, dedup_key=dedup_key)
        return True

    async def _forward_to_office(self, person: Person, make: Callable[[Translator], Reply], matter_id: int,
                                 policy: str, dedup_key: str | None) -> bool:
        """A representative whose access was taken away (handlers/people/access.py) is still owed what concerns their
        matters: it goes to the liaison office, to be passed on in person or on paper (and recorded so)."""
        def forwarded(_: Translator) -> Reply:
            inner = make(_)
            lead = _("The access of {name} is disabled. Please pass this on to them in person or on paper, and "
                     "record it so:", name=person.name)
            return Reply(lead + "\n\n" + (f"{inner.title}\n" if inner.title else "") + inner.text)

        told = False
        unit = await self.records.unit_of_matter(self.tx, matter_id)  # the office of the unit whose matter it is
        for office_id in await self.records.with_role(self.tx, UnitScope.of(unit), "office"):
            key = None if dedup_key is None else f"{dedup_key}:office:{office_id}"
            told = await self.notify(office_id, forwarded, matter_id=matter_id, policy=policy, dedup_key=key) or told
        return told

    async def save_dialog(self, dialog: Dialog, *, new_step: bool = True) -> None:
        await self.records.save_dialog(self.tx, self.actor, dialog, self.now, new_step=new_step)
        self.dialog = dialog

    async def end_dialog(self) -> None:
        await self.records.clear_dialog(self.tx, self.actor)
        self.dialog = None

    async def set_locale(self, locale: str) -> None:
        """Switch the language of this conversation from now on."""
        if self.person is not None:
            await self.records.set_locale(self.tx, self.person.id, locale, self.now)
        self._ = self.translator(locale)

    async def _enqueue(self, channel: str, chat_id: str, op: str, payload: dict[str, object], policy: str,
                       **extra: object) -> None:
        item = await self.records.enqueue(self.tx, channel=channel, chat_id=chat_id, op=op, payload=payload,
                                    policy=policy, now=self.now, inbox_id=self.inbox_id, **extra)  # type: ignore[arg-type]
        if item is not None:
            self.outbox_ids.append(item)


def initial_locale(config: Config, person: Person | None, language_code: str | None) -> str:
    """The person's chosen language, else the one their app reports, else the unit's default."""
    if person is not None and person.locale:
        return person.locale
    return locale_for(language_code, config.default_locale)
