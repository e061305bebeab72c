"""What the leadership digest says (digest_figures.py computes it): its title and text in the reader's
language, within the budget of the reader's channel, long lists cut to their first ten; and the full
lists as a CSV file, attached when a list was cut. Matters are named by number, kind, department and
dates only."""

from __future__ import annotations

from datetime import date

from bot.domain import days_left, days_overdue
from bot.export import csv_bytes
from bot.i18n import N_, Translator
from bot.messages import OutFile, Reply
from handlers.labels import kind_label
from handlers.reports import measures
from handlers.reports.digest_figures import LIST_LIMIT, Digest
from handlers.reports.measures import percent
from storage.digest import DepartmentLoad, DueItem


def reply(_: Translator, d: Digest, files: tuple[OutFile, ...]) -> Reply:
    title, text, _cut = render(_, d)
    return Reply(text, title=title, files=files)


def render(_: Translator, d: Digest) -> tuple[str, str, bool]:
    """The title and the text, within the text budget of the reader's channel (`_.budget`: one Telegram
    message, or a few WeCom ones split at lines); True when a list was cut (then the full one is attached)."""
    p = d.period
    title_id = N_("Weekly digest, {first} to {last}") if p.kind == "week" else N_("Monthly digest, {first} to {last}")
    title = _(title_id, first=_.date(p.first), last=_.date(p.last))
    head = _head(_, d)
    sections = [
        (_("Overdue, not concluded ({n}):", n=len(d.overdue)), [_overdue(_, d.today, m) for m in d.overdue]),
        (_("Due within the next 7 days ({n}):", n=len(d.due_soon)), [_due_soon(_, d.today, m) for m in d.due_soon]),
        (_("Owing a progress notice ({n}):", n=len(d.owing_notice)), [_due(_, m) for m in d.owing_notice]),
    ]

    def body(limit: int) -> tuple[str, bool]:
        lines, cut = list(head), False
        for header, items in sections:
            if not items:
                continue
            lines += ["", header, *items[:limit]]
            if len(items) > limit:
                lines.append(_("…and {n} more matters", n=len(items) - limit))
                cut = True
        if cut:
            lines += ["", _("The full list is attached.")]
        return "\n".join(lines), cut

    limit = LIST_LIMIT
    text, cut = body(limit)
    while not _.budget.fits(f"{title}\n{text}") and limit > 0:
        limit -= 1
        text, cut = body(limit)
    return title, text, cut


def _head(_: Translator, d: Digest) -> list[str]:
    """The figures, each named by its measure's words (handlers/reports/measures.py)."""
    t, s = d.timeliness, d.satisfaction
    lines = [
        _("Registered: {registered}; concluded: {handled}", registered=d.registered, handled=d.handled),
        _("Due in the period: {due}, of which concluded on time {on_time}, concluded late {late}, due and not "
          "concluded {due_open}; on-time rate {rate}", due=t.due, on_time=t.on_time, late=t.late, due_open=t.due_open,
          rate=percent(t.rate.value)),
        _("Not yet concluded: {n}, of which overdue {overdue}, due within the next 7 days {soon}; concluded, reply "
          "not yet sent: {awaiting}", n=d.not_concluded, overdue=len(d.overdue), soon=len(d.due_soon),
          awaiting=d.awaiting_reply),
        _("Owing a progress notice (major matters): {n}", n=len(d.owing_notice)),
        _("Handled again after a dissatisfied rating: {n}; being handled again now: {now}", n=d.reopened,
          now=d.reopened_now),
    ]
    if d.units:  # a roll-up: the figures above are the sum of these
        lines.append(_("By unit (the figures above are their sum):"))
        lines += [_("{unit}: registered {registered}, concluded {handled}, not yet concluded {open}, of which "
                    "overdue {overdue}", unit=u.name, registered=u.registered, handled=u.handled,
                    open=u.not_concluded, overdue=u.overdue) for u in d.units]
    if s.replies:
        lines.append(_("Satisfaction in {year}: replies sent {replies}, rated {rated}, response rate {response}; "
                       "satisfied {satisfied}, basically satisfied {basically}, dissatisfied {dissatisfied}; "
                       "satisfaction rate {rate}", year=str(d.year), replies=s.replies, rated=s.rated,
                       response=percent(s.response_rate.value), satisfied=s.satisfied, basically=s.basically,
                       dissatisfied=s.dissatisfied, rate=percent(s.satisfaction_rate.value)))
    else:
        lines.append(_("Satisfaction in {year}: no reply sent yet", year=str(d.year)))
    lines.append(_("Contacts in {year}: representatives contacted {contacted}/{total}, contact coverage {rate}",
                   year=str(d.year), contacted=d.contacted, total=d.representatives,
                   rate=percent(measures.Rate(d.contacted, d.representatives).value)))
    if d.events:
        lines.append(_("Upcoming events:"))
        lines += [f"{_.date(e.day)} · {e.title}" for e in d.events[:LIST_LIMIT]]
        if len(d.events) > LIST_LIMIT:
            lines.append(_("…and {n} more events", n=len(d.events) - LIST_LIMIT))
    else:
        lines.append(_("Upcoming events: none"))
    lines.append(_("Next half-year report due: {day}", day=_.date(d.half_year_due)))
    return lines


def _department(_: Translator, m: DueItem | DepartmentLoad) -> str:
    return m.department if m.department is not None else _("not yet assigned")


def _prefix(_: Translator, m: DueItem) -> str:
    mark = "⚠" if m.major else ""
    return f"{mark}{m.number} · {kind_label(_, m.kind)} · {_department(_, m)}"


def _overdue(_: Translator, today: date, m: DueItem) -> str:
    return _("{matter} · due {day}, {n} days overdue", matter=_prefix(_, m), day=_.date(m.due_date),
             n=days_overdue(m.due_date, today))


def _due_soon(_: Translator, today: date, m: DueItem) -> str:
    left = days_left(m.due_date, today)
    if left == 0:
        return _("{matter} · due today", matter=_prefix(_, m))
    return _("{matter} · due {day}, {n} days left", matter=_prefix(_, m), day=_.date(m.due_date), n=left)


def _due(_: Translator, m: DueItem) -> str:
    return _("{matter} · due {day}", matter=_prefix(_, m), day=_.date(m.due_date))


def table(_: Translator, d: Digest) -> bytes:
    """Every listed matter as CSV (bot/export.py: UTF-8 with a byte-order mark, text never a formula)."""
    rows: list[list[object]] = [[_("List"), _("Number"), _("Kind"), _("Major"), _("Department"), _("Due date"),
                                 _("Days left (negative: overdue)")]]
    for label, items in ((_(measures.OVERDUE.msgid), d.overdue), (_(measures.DUE_SOON.msgid), d.due_soon),
                         (_(measures.OWING_NOTICE.msgid), d.owing_notice)):
        for m in items:
            rows.append([label, m.number, kind_label(_, m.kind), _("yes") if m.major else "", _department(_, m),
                         m.due_date.isoformat(), days_left(m.due_date, d.today)])
    return csv_bytes(rows)

