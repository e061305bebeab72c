"""Staff screens: the office's /inbox, a department's list, the overview, and a matter's card
with the buttons this person may press on it now (re-checked on every press)."""

from __future__ import annotations

from datetime import date

from bot import callbacks, domain
from bot.context import Context
from bot.errors import NotFoundError, PermissionDeniedError, StaleActionError, UserError
from bot.i18n import N_, Translator
from bot.messages import Button, OutFile, Reply, rows
from bot.model import UnitScope
from bot.permissions import may
from bot.matter.model import Matter
from bot.matter import life
from bot.matter.states import AT_DEPARTMENTS, OPEN_STATES, TO_ASSIGN, ReplyState, State
from handlers.common import roll_up_family
from handlers.matters import casework as cases
from handlers.oversight import discipline
from handlers.people import undelivered
from handlers.reports import papers
from handlers.labels import complainant_line, deputy, event_label, kind_label, raised_or_referred, state_label
from handlers.matters.notices import OUTCOME_LABELS
from storage import casework, matters, people, units
from storage.supervision import DEADLINE_STATES
from storage.db import parse_ts

LIST_LIMIT = 20
BODY_PREVIEW = 1500


def _require_staff(ctx: Context) -> None:
    if ctx.person is None or not ctx.person.is_staff:
        raise PermissionDeniedError.of("staff_screen", None, "This is for the procuratorate's staff.")


def _line(_: Translator, m: Matter) -> str:
    flag = "⚠" if m.major else ""
    return f"{flag}{m.number} · {kind_label(_, m.kind)} · {state_label(_, m.state)} · {_.date(m.due_date)}\n{m.subject}"


def _list(_: Translator, title: str, items: list[Matter], empty: str) -> Reply:
    if not items:
        return Reply(empty, title=title)
    buttons = tuple((Button(m.number, callbacks.encode("case", m.id)),) for m in items[:LIST_LIMIT])
    return Reply("\n\n".join(_line(_, m) for m in items[:LIST_LIMIT]), title=title, buttons=buttons)


async def _matters(ctx: Context, ids: list[int], action: str) -> list[Matter]:
    """The matters with these ids (replies and extensions name them by id) that the person may take `action` on:
    their unit's own, never one a county of theirs handles for the unit above (交办)."""
    found = [await matters.get(ctx.tx, ctx.scope, matter_id) for matter_id in ids]
    return [m for m in found if m is not None and may(ctx.person, action, cases.access(m), cases.policy(ctx))]


async def inbox(ctx: Context) -> None:
    """/inbox: what waits for this person, by role."""
    _require_staff(ctx)
    person, _ = ctx.person, ctx._
    assert person is not None
    shown = False
    if "office" in person.roles:
        new = await casework.matters_in(ctx.tx, ctx.scope, TO_ASSIGN)
        await ctx.reply(_list(_, _("To assign"), new, _("No new matter waits to be assigned.")))
        drafts = await _matters(ctx, [m for _r, m in await casework.awaiting_approval(ctx.tx, ReplyState.DRAFT)],
                                "approve_reply")
        if drafts:
            await ctx.reply(_list(_, _("Replies to approve"), drafts, ""))
        await undelivered.section(ctx)
        shown = True
    if person.roles & {"office", "leader"} and ctx.config.casework.extension_approver in person.roles:
        pending = await _matters(ctx, await casework.pending_extensions(ctx.tx), "decide_extension")
        if pending:
            await ctx.reply(_list(_, _("Extensions to decide"), pending, ""))
        shown = True
    if "discipline" in person.roles:
        await discipline.inbox(ctx)  # the second line (SPEC §1): overdue, stale, reopened, disputed, on site
        shown = True
    if "leader" in person.roles:
        waiting = await _matters(ctx, [m for _r, m in await casework.awaiting_approval(ctx.tx,
                                                                                           ReplyState.AWAITING_LEADER)],
                                 "leader_approve")
        await ctx.reply(_list(_, _("Replies to approve"), waiting, _("No reply waits for a leader's approval.")))
        shown = True
    if person.roles & {"handler", "head"} and person.department_id is not None:
        await department(ctx)
        shown = True
    if not shown:
        await overview(ctx)


async def department(ctx: Context) -> None:
    """A department's open matters (handlers see only their own department's)."""
    _require_staff(ctx)
    person, _ = ctx.person, ctx._
    assert person is not None
    if person.department_id is None:
        raise PermissionDeniedError.of("department_list", None, "You do not belong to a department.")
    items = await casework.matters_in(ctx.tx, ctx.scope, AT_DEPARTMENTS,
                                      department_id=person.department_id)
    await ctx.reply(_list(_, _("Your department's matters"), items, _("Your department has no open matter.")))


async def overview(ctx: Context) -> None:
    """Discipline inspection and leaders: every matter by state, the open ones listed."""
    _require_staff(ctx)
    person, _ = ctx.person, ctx._
    assert person is not None
    if not person.roles & {"office", "discipline", "leader"}:
        raise PermissionDeniedError.of("overview", None, "This is for the office, discipline inspection and leaders.")
    counts = await casework.count_by_state(ctx.tx, ctx.scope)
    summary = "  ".join(f"{state_label(_, s)} {n}" for s, n in sorted(counts.items()))
    today = ctx.today
    items = await casework.matters_in(ctx.tx, ctx.scope, OPEN_STATES, limit=LIST_LIMIT)
    overdue = sum(1 for m in items if m.state in DEADLINE_STATES and domain.days_overdue(m.due_date, today))
    title = _("Overview: {summary}; overdue among those listed: {n}", summary=summary or "0", n=overdue)
    await ctx.reply(_list(_, title, items, _("No open matter.")))
    family = await roll_up_family(ctx)
    if len(family) > 1:  # a city's: its counties' matters by state too, read only (their lists are theirs)
        lines = [_("By unit:")]
        for unit in family:
            those = await casework.count_by_state(ctx.tx, UnitScope.of(unit.id))
            lines.append(_("{unit}: {summary}", unit=unit.name, summary="  ".join(
                f"{state_label(_, s)} {n}" for s, n in sorted(those.items())) or "0"))
        await ctx.reply(Reply("\n".join(lines)))


async def open_by_number(ctx: Context) -> None:
    """/case LS-2026-0001"""
    await open_number(ctx, ctx.inc.args.strip())


async def open_number(ctx: Context, number: str, *, alone: bool = False) -> None:
    """The card of the matter with this number (/case NUMBER, or the number sent `alone`), for staff who may see it."""
    _require_staff(ctx)
    matter = await matters.by_number(ctx.tx, ctx.scope, number) if number else None
    if matter is None and alone:  # they sent a number as it should be: there is no such matter
        raise NotFoundError("No such matter.")
    if matter is None:
        raise NotFoundError("No such matter. Send /case followed by its number, e.g. /case LS-2026-0001.")
    await show(ctx, matter.id)


async def on_case(ctx: Context, parts: list[str]) -> None:
    """case:<id> opens a card; case:<id>:slip and case:<id>:letter send its assignment slip and its reply
    letter (handlers/reports/papers.py)."""
    if len(parts) not in (1, 2) or parts[1:] not in ([], ["slip"], ["letter"]):
        raise StaleActionError("This button is no longer valid.")
    await ctx.answer()
    if parts[1:] == ["slip"]:
        return await papers.send_slip(ctx, callbacks.to_int(parts[0]))
    if parts[1:] == ["letter"]:
        return await papers.send_reply_letter(ctx, callbacks.to_int(parts[0]))
    await show(ctx, callbacks.to_int(parts[0]))


async def show(ctx: Context, matter_id: int) -> None:
    """A matter's card, whole, for staff who may see it; the complainant masked where the rules say."""
    matter = await cases.load(ctx, matter_id, "view")
    _ = ctx._
    rep = await people.get(ctx.tx, matter.representative_id, as_in=matter.unit_id)
    lines = [
        f"{kind_label(_, matter.kind)} · {state_label(_, matter.state)}" + (" · " + _("major") if matter.major else ""),
        raised_or_referred(_, matter.kind, N_("From: {name}"), N_("Referred by: {name}"), name=deputy(_, rep) or "?"),
        _("Subject: {subject}", subject=matter.subject),
        _("Content:"),
        matter.body[:BODY_PREVIEW] + ("…" if len(matter.body) > BODY_PREVIEW else ""),
    ]
    if domain.is_referred(matter.kind):
        if may(ctx.person, "view_personal", cases.access(matter)):
            who = await matters.complainant(ctx.tx, matter)
            lines.append(_("Complainant: (erased after the retention period)") if who.erased
                         else complainant_line(_, matter.kind, who.name, who.contact))
        else:
            lines.append(_("Complainant: (withheld)"))
    if matter.transferred_from_id is not None:  # 移送 from another unit of the deployment
        number, unit = await matters.number_and_unit(ctx.tx, matter.transferred_from_id)
        lines.append(_("Transferred here by {unit} (its {number})", unit=(await units.get(ctx.tx, unit)).name,
                       number=number))
    if matter.disputes_own_handling:
        original = await people.department_name(ctx.tx, matter.original_department_id or 0)
        lines.append(_("Disputes this procuratorate's handling; handled originally by: {dept}",
                       dept=original or _("not sure")))
    if matter.department_id is not None:
        dept = await people.department_name(ctx.tx, matter.department_id, of_unit=matter.unit_id)
        urger = await people.get(ctx.tx, matter.urger_id) if matter.urger_id else None
        lines.append(_("Handled by: {dept}; urger: {urger}", dept=dept or "", urger=urger.name if urger else ""))
    if matter.outcome:
        lines.append(_("Outcome: {outcome}", outcome=_(OUTCOME_LABELS[matter.outcome])))
    lines.append(_("Registered: {when}", when=_.datetime(parse_ts(matter.registered_at))))
    lines.append(_due_line(ctx, matter))
    draft = await casework.open_reply(ctx.tx, matter.id)
    if draft is not None:
        lines += ["", _("Reply waiting for approval:"), draft.body, _("Grounds:"), draft.grounds]
    pending = await casework.pending_extension(ctx.tx, matter.id)
    if pending is not None:
        lines.append(_("Extension requested: {reason}", reason=pending.reason))
    lines += ["", _("Timeline:")]
    replies = await casework.sent_replies(ctx.tx, matter.id)
    for event in await matters.events(ctx.tx, matter.id, public_only=False):
        mark = "" if event.public else _("(internal) ")
        label = f"{mark}{event_label(_, event.event)}"
        note = event.detail.get("note") or event.detail.get("reason") or _due(_, event.detail.get("due"))
        rated = replies.get(event.detail.get("reply_id") or 0) if event.event.startswith("rated_") else None
        if rated is not None and rated.rating_note:  # why the representative rated so: what handling again needs
            note = _("their comment: “{comment}”", comment=rated.rating_note)
        lines.append(f"{_.datetime(parse_ts(event.at))}  " + (_("{label}: {value}", label=label, value=note) if note
                                                             else label))
    buttons = await action_buttons(ctx, matter)
    papers_row = []
    if matter.department_id is not None:  # the assignment slip 交办单, to print for the department
        papers_row.append(Button(_("Assignment slip"), callbacks.encode("case", matter.id, "slip")))
    last = await casework.last_sent_reply(ctx.tx, matter.id)
    if last is not None and last.via == "paper" and may(ctx.person, "reply_letter", cases.access(matter)):
        papers_row.append(Button(_("Reply letter"), callbacks.encode("case", matter.id, "letter")))
        if (matter.state == State.REPLIED and last.rating in (None, "unrated")
                and may(ctx.person, "record_rating", cases.access(matter))):  # its 征询意见表, come back
            papers_row.append(Button(_("Record the returned form"),
                                     callbacks.encode("act", matter.id, "record_rating")))
    if papers_row:
        buttons += (tuple(papers_row),)
    await ctx.reply(Reply("\n".join(lines), title=matter.number, buttons=buttons))


def _due(_: Translator, day: object) -> str | None:
    """A due date set by the event (an extension, a reopening), as the reader writes dates."""
    return _.date(date.fromisoformat(day)) if isinstance(day, str) else None


def _due_line(ctx: Context, matter: Matter) -> str:
    """The due date, and how many days overdue while it is not concluded (§12: the count of the reminders)."""
    _ = ctx._
    due = _("To be concluded by: {day}", day=_.date(matter.due_date))
    late = domain.days_overdue(matter.due_date, ctx.today)
    if matter.state in DEADLINE_STATES and late:
        return _("{due} ({n} days overdue)", due=due, n=late)
    return due


ACTION_LABELS = {
    "assign": N_("Assign"), "reassign": N_("Re-assign"), "mark_major": N_("Mark major"), "unmark_major": N_("Not major"),
    "transfer": N_("Transfer"),
    "cannot_meet": N_("Cannot be met"), "progress": N_("Progress note"), "request_extension": N_("Ask for extension"),
    "decide_extension": N_("Decide extension"), "conclude": N_("Conclude"), "draft_reply": N_("Draft reply"),
    "approve_reply": N_("Approve reply"), "return_reply": N_("Return reply"), "leader_approve": N_("Approve reply"),
    "leader_return": N_("Return reply"), "files": N_("Files"), "onsite": N_("On-site supervision"),
    "record_rating": N_("Record the returned form"),
}


async def action_buttons(ctx: Context, matter: Matter) -> tuple[tuple[Button, ...], ...]:
    """The actions this person may take on this matter now: the same checks the actions make."""
    _ = ctx._
    access, policy = cases.access(matter), cases.policy(ctx)
    names: list[str] = []
    draft = await casework.open_reply(ctx.tx, matter.id)
    for action in ("assign", "reassign", "mark_major", "transfer", "cannot_meet", "progress", "request_extension",
                   "conclude", "draft_reply", "onsite"):
        if action == "draft_reply" and draft is not None:
            continue
        if may(ctx.person, action, access, policy) and life.allowed(action, matter.state,
                                                                     owes_final_reply=matter.owes_final_reply):
            names.append("unmark_major" if action == "mark_major" and matter.major else action)
    if draft is not None and draft.state == ReplyState.DRAFT and may(ctx.person, "approve_reply", access, policy):
        names += ["approve_reply", "return_reply"]
    if draft is not None and draft.state == ReplyState.AWAITING_LEADER and may(ctx.person, "leader_approve", access,
                                                                           policy):
        names += ["leader_approve", "leader_return"]
    if await casework.pending_extension(ctx.tx, matter.id) and may(ctx.person, "decide_extension", access, policy):
        names.append("decide_extension")
    if await matters.files(ctx.tx, matter.id) and may(ctx.person, files_permission(matter), access, policy):
        names.append("files")
    buttons = [Button(_(ACTION_LABELS[n]), callbacks.encode("act", matter.id, n)) for n in names]
    return rows(buttons, 3)


def files_permission(matter: Matter) -> str:
    """What receiving a matter's files takes: a referred case's may carry the complainant's name, contact or
    papers, so they follow the complainant's rule (SPEC §1), not the card's."""
    return "view_personal" if domain.is_referred(matter.kind) else "view"


async def send_files(ctx: Context, matter_id: int) -> None:
    matter = await cases.load(ctx, matter_id, "view")
    if not may(ctx.person, files_permission(matter), cases.access(matter), cases.policy(ctx)):
        raise PermissionDeniedError.of(files_permission(matter), matter.id,
                                       "The files of a referred case may carry the complainant's personal data: "
                                       "they go only to the office, the handling department and discipline "
                                       "inspection.")
    stored = await matters.files(ctx.tx, matter.id)
    if not stored:
        raise UserError("This matter has no files.")
    files = tuple(OutFile(f.path, f.name, "photo" if f.kind == "photo" else "document") for f in stored)
    await ctx.reply(Reply(ctx._("Files of {number}:", number=matter.number), files=files))
