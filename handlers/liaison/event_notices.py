"""What invitees and departments are told of an event (seed §5, §15): its kind in words, its time and
place, the invitation with its answer buttons (and, for a case discussion, what its invitees may learn
of the matter), the preparation task a department is given, and the button that opens the event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from bot import callbacks
from bot.i18n import N_, Translator
from bot.messages import Button, Reply
from bot.matter.model import Matter
from handlers.labels import kind_label
from storage.events import Event, Preparation

Make = Callable[[Translator], Reply]

KIND_LABELS: Final = {
    "forum": N_("Forum"),
    "work_report": N_("Work report"),
    "inspection": N_("Inspection"),
    "open_day": N_("Open day"),
    "visit": N_("Home visit"),
    "case_discussion": N_("Case discussion"),
    "other": N_("Other"),
}


def kind_name(_: Translator, kind: str) -> str:
    return _(KIND_LABELS[kind])


def when_where(_: Translator, event: Event) -> list[str]:
    return [_("Time: {when}", when=_.datetime(event.starts_at)), _("Place: {place}", place=event.place)]


def public_summary(_: Translator, matter: Matter) -> str:
    """What a case discussion's invitees learn of its matter: never the complainant's data, nor its text."""
    return _("The matter to discuss: {number}, {kind}: {subject}", number=matter.number,
             kind=kind_label(_, matter.kind), subject=matter.subject)


def invitation(event: Event, matter: Matter | None, unit: str) -> Make:
    def build(_: Translator) -> Reply:
        lines = [_("{unit} sincerely invites you to: {title}", unit=unit, title=event.title),
                 _("Kind: {kind}", kind=kind_name(_, event.kind)), *when_where(_, event)]
        answer = (Button(_("Attend"), callbacks.encode("event", "yes", event.id)),
                  Button(_("Not attend"), callbacks.encode("event", "no", event.id)))
        rows: tuple[tuple[Button, ...], ...] = (answer,)
        if matter is not None:
            lines += [public_summary(_, matter),
                      _("As a law-enforcement supervisor you may also send us your view on it: choose the option "
                        "below.")]
            rows = (answer, (Button(_("Give my view"), callbacks.encode("sv", "view", event.id)),))
        lines.append(_("Will you attend? Please choose an option below."))
        return Reply("\n".join(lines), title=_("Invitation"), buttons=rows)
    return build


def preparation_task(event: Event, prep: Preparation, first: bool = False) -> Make:
    def build(_: Translator) -> Reply:
        head = (_("{department} is to prepare for {title}.", department=prep.department, title=event.title)
                if first else _("Reminder: {department} has not yet finished preparing for {title}.",
                                department=prep.department, title=event.title))
        lines = [head, *when_where(_, event),
                 _("Please prepare by {day}, and arrive on time (Article 15 of the {regulation}). Choose the option below "
                   "when the preparation is done.", day=_.date(prep.deadline))]
        done = Button(_("Preparation done"), callbacks.encode("event", "prep", event.id, prep.department_id))
        return Reply("\n".join(lines), title=_("Preparation task"), buttons=((done,),))
    return build


def open_button(_: Translator, event: Event) -> tuple[tuple[Button, ...], ...]:
    return ((Button(_("Open the event"), callbacks.encode("event", "open", event.id)),),)

