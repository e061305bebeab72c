"""What the deadline sweep's own rules say (handlers/oversight/matter_rules.py): each notice built in the
language of the person it goes to, with a button that opens the matter."""

from __future__ import annotations

from datetime import date

from bot.i18n import Translator
from bot.matter.model import Matter
from bot.messages import Reply
from handlers.labels import kind_label
from handlers.matters import notices
from handlers.oversight.reminders import Make


def nothing(_: Translator) -> Reply:
    return Reply("")


def due_soon(m: Matter, left: int) -> Make:
    return lambda _: Reply(_("{number} ({kind}: {subject}) is due on {day}: {n} days left.", number=m.number,
                             kind=kind_label(_, m.kind), subject=m.subject, day=_.date(m.due_date), n=left),
                           title=_("Deadline approaching"), buttons=notices.open_button(_, m))


def overdue(m: Matter, days: int) -> Make:
    return lambda _: Reply(_("{number} ({kind}: {subject}) is overdue: it was due on {day}, {n} days ago.",
                             number=m.number, kind=kind_label(_, m.kind), subject=m.subject,
                             day=_.date(m.due_date), n=days),
                           title=_("Overdue"), buttons=notices.open_button(_, m))


def major_prompt(m: Matter) -> Make:
    return lambda _: Reply(_("{number} is a major matter due on {day}, and the representative has had no progress "
                             "notice yet. Please send one (a public progress note), as Article 12 of the {regulation} "
                             "asks.", number=m.number, day=_.date(m.due_date)),
                           title=_("Progress notice owed"), buttons=notices.open_button(_, m))


def major_escalate(m: Matter) -> Make:
    return lambda _: Reply(_("{number}, a major matter, reached its due date {day} without a progress notice to the "
                             "representative.", number=m.number, day=_.date(m.due_date)),
                           title=_("Progress notice missing"), buttons=notices.open_button(_, m))


def urge(m: Matter, count: int, urger: str) -> Make:
    return lambda _: Reply(_("Urging no. {count} from {urger}: {number} ({subject}) is due on {day}. Please press on "
                             "with it.", count=count, urger=urger, number=m.number, subject=m.subject,
                             day=_.date(m.due_date)), title=_("Urging"), buttons=notices.open_button(_, m))


def stale_notice(m: Matter, idle: int, handlers_: str, heads: str) -> Make:
    return lambda _: Reply(_("{number}: no action for {n} days; possibly perfunctory handling (Article 16 of the "
                             "{regulation}). Handler: {handlers}; department head: {heads}.", number=m.number, n=idle,
                             handlers=handlers_, heads=heads), title=_("No action"), buttons=notices.open_button(_, m))


def bulletin_notice(today: date, rows: list[tuple[str, int, int, int]], unassigned: int,
                     head: tuple[int, str] | None = None) -> Make:
    def build(_: Translator) -> Reply:
        lines = [_("{name}: {open} open, {soon} due within 7 days, {late} overdue", name=name, open=n_open,
                   soon=soon, late=late) for name, n_open, soon, late in rows]
        lines.append(_("Not yet assigned: {n}", n=unassigned))
        if head is not None:
            lines += ["", _("Audit log: {count} entries; the newest one's check value is {hash}. Please keep this "
                            "bulletin: the value shows later that no earlier entry was removed.",
                            count=head[0], hash=head[1])]
        return Reply("\n".join(lines), title=_("Progress bulletin, {month}", month=_.month(today)))
    return build

