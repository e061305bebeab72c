"""What the handling of a matter tells people (seed §7: every change the representative should
know of reaches them). Each builder returns a function of the reader's Translator, so a notice
is worded in the reader's own language; every notice names its matter number, so that a rare
duplicate (see bot/dispatch.py) is recognisable.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from bot import callbacks
from bot.context import Context
from bot.domain import OWES_FINAL_REPLY
from bot.i18n import N_, Msg, Translator
from bot.messages import Button, OutFile, Reply
from bot.matter.model import Matter
from bot.matter.states import State
from handlers.labels import STATE_LABELS, deputy, kind_label, kind_noun, raised_or_referred
from storage import people

StaffNotice = Callable[[Translator], Reply]  # a notice to one member of staff, worded in their language

OUTCOME_LABELS = {
    "A": N_("A: resolved or basically resolved"),
    "B": N_("B: being resolved"),
    "C": N_("C: planned, or limited by conditions"),
    "D": N_("D: kept for reference"),
}
RATING_LABELS = {
    "satisfied": N_("Satisfied"),
    "basically": N_("Basically satisfied"),
    "dissatisfied": N_("Dissatisfied"),
}
VIA_LABELS = {"chat": N_("in writing, here"), "in_person": N_("in person"), "paper": N_("on paper")}


def state_word(state: str) -> Msg:
    """The state's label as a catalog id, for refusal messages rendered later in the reader's language."""
    return Msg(STATE_LABELS.get(state, state))


async def to_representative(ctx: Context, matter: Matter, make: Callable[[Matter], Callable[[Translator], Reply]]
                            ) -> None:
    await ctx.notify(matter.representative_id, make(matter), matter_id=matter.id)


async def to_staff(ctx: Context, person_id: int, matter: Matter, make: Callable[[Translator], Reply]) -> None:
    if ctx.person is not None and person_id == ctx.person.id:
        return  # nobody needs telling what they did themselves
    await ctx.notify(person_id, make, matter_id=matter.id)


def open_button(_: Translator, matter: Matter) -> tuple[tuple[Button, ...], ...]:
    """The button under a notice about one matter (the notice names its number): short enough for a WeCom card's
    button (10 characters, 90236), where "查看 LS-2026-0001" was too long and turned the card into a numbered list.
    Where choices are numbered, it is shown as the number to send instead (the number alone opens it, handlers/menu)."""
    return ((Button(_("Open the matter"), callbacks.encode("case", matter.id), typed=matter.number),),)


# -- to the representative -------------------------------------------------------------


def assigned(department: str) -> Callable[[Matter], Callable[[Translator], Reply]]:
    def make(matter: Matter) -> Callable[[Translator], Reply]:
        return lambda _: Reply(raised_or_referred(
            _, matter.kind,
            N_("Your {kind} {number} has been assigned to {department}, and is being handled."),
            N_("The {kind} {number} you referred has been assigned to {department}, and is being handled."),
            kind=kind_noun(_, matter.kind), number=matter.number, department=department), title=_("Progress"))
    return make


def reassigned(department: str) -> Callable[[Matter], Callable[[Translator], Reply]]:
    def make(matter: Matter) -> Callable[[Translator], Reply]:
        return lambda _: Reply(raised_or_referred(
            _, matter.kind,
            N_("Your {kind} {number} is now handled by another department: {department}. Its due date is unchanged."),
            N_("The {kind} {number} you referred is now handled by another department: {department}. Its due date is "
               "unchanged."),
            kind=kind_noun(_, matter.kind), number=matter.number, department=department), title=_("Progress"))
    return make


def transferred(authority: str, explanation: str,
                registered_as: str | None = None) -> Callable[[Matter], Callable[[Translator], Reply]]:
    """§12 "receive first, explain, then transfer": which authority, why (the office's explanation), what next;
    `registered_as`: the number it has in the unit of the deployment it went to (followed here too)."""
    def make(matter: Matter) -> Callable[[Translator], Reply]:
        return lambda _: Reply("\n\n".join([
            raised_or_referred(
                _, matter.kind,
                N_("We have received your {kind} {number}. Having examined it, we find that it falls within the "
                   "jurisdiction of {authority}, not of this procuratorate; we have therefore transferred it to "
                   "{authority}, to be handled according to law. Our explanation:"),
                N_("We have received the {kind} {number} you referred. Having examined it, we find that it falls "
                   "within the jurisdiction of {authority}, not of this procuratorate; we have therefore transferred "
                   "it to {authority}, to be handled according to law. Our explanation:"),
                kind=kind_noun(_, matter.kind), number=matter.number, authority=authority),
            explanation,
            _("{authority} has registered it as {number}: you can follow it here with {/my}, as your other matters. "
              "Thank you for your supervision and support.", authority=authority, number=registered_as)
            if registered_as else
            _("To follow it further, you may contact {authority}, or our liaison office. Thank you for your "
              "supervision and support.", authority=authority),
        ]), title=_("Transferred"))
    return make


def progress(note: str) -> Callable[[Matter], Callable[[Translator], Reply]]:
    def make(matter: Matter) -> Callable[[Translator], Reply]:
        return lambda _: Reply(_("Progress of {number}:", number=matter.number) + "\n" + note,
                               title=_("Progress notice"))
    return make


def extended(new_due: date) -> Callable[[Matter], Callable[[Translator], Reply]]:
    def make(matter: Matter) -> Callable[[Translator], Reply]:
        return lambda _: Reply(
            _("Handling {number} needs more time; it will be concluded by {day}. We will keep you informed.",
              number=matter.number, day=_.date(new_due)),
            title=_("Progress notice"))
    return make


def reply(reply_id: int, body: str, grounds: str, via: str, files: list[OutFile], kind: str = "reply"
          ) -> Callable[[Matter], Callable[[Translator], Reply]]:
    def make(matter: Matter) -> Callable[[Translator], Reply]:
        # outcome B or C (being resolved; to be resolved when conditions allow): this reply is not the last one, and
        # it says so — the matter's history says "concluded" (办结 with that class), which read as the end
        interim = kind == "reply" and matter.outcome in OWES_FINAL_REPLY

        def build(_: Translator) -> Reply:
            lines = [raised_or_referred(_, matter.kind, N_("Reply to your {kind} {number}: {subject}"),
                                        N_("Reply on the {kind} {number} you referred: {subject}"),
                                        kind=kind_noun(_, matter.kind), number=matter.number, subject=matter.subject),
                     "", body, "", _("Grounds:"), grounds]
            if via != "chat":
                lines += ["", _("This reply was also given {via}.", via=_(VIA_LABELS[via]))]
            if interim:
                lines += ["", _("The matter is still being resolved: once it is, we will tell you the final result.")]
            lines += ["", _("Are you satisfied with how it was handled?")]
            buttons = tuple(
                (Button(_(RATING_LABELS[r]), callbacks.encode("rate", matter.id, reply_id, r[0])),)
                for r in ("satisfied", "basically", "dissatisfied")
            )
            return Reply("\n".join(lines), title=_("Reply"), buttons=buttons, files=tuple(files))
        return build
    return make


def rating_thanks(_: Translator, number: str, state: str, due: date) -> str:
    """What the representative is told once a rating counts: it reopens the matter (due again on `due`),
    leaves it open for its final reply, or closes it."""
    if state == State.REOPENED:
        return _("Your matter {number} will be handled again, under the supervision of the office and discipline "
                 "inspection, and concluded by {day}. We will reply to you again.", number=number, day=_.date(due))
    if state == State.RATED:
        return _("Thank you for your rating. The matter is still being resolved; we will tell you the final result.")
    return _("Thank you for your rating and your supervision.")


def paper_rating_recorded(rating: str, state: str, due: date) -> Callable[[Matter], Callable[[Translator], Reply]]:
    """The feedback form returned for a reply on paper, recorded by the office: told as for a rating by button."""
    def make(matter: Matter) -> Callable[[Translator], Reply]:
        return lambda _: Reply(
            _("The office has recorded the feedback form you returned on the reply to {number}: {rating}.",
              number=matter.number, rating=_(RATING_LABELS[rating])) + "\n" + rating_thanks(_, matter.number, state,
                                                                                             due))
    return make


# -- to staff --------------------------------------------------------------------------


def new_assignment(matter: Matter, department: str, urger: str, slip: tuple[OutFile, ...] = ()
                   ) -> Callable[[Translator], Reply]:
    """To the department (with its assignment slip 交办单, `slip`) and the urger."""
    return lambda _: Reply(
        _("{number} ({kind}) is assigned to {department}; urger: {urger}. To be concluded by {day}.",
          number=matter.number, kind=kind_label(_, matter.kind), department=department, urger=urger,
          day=_.date(matter.due_date)) + _slip_line(_, slip),
        title=_("Assigned"), buttons=open_button(_, matter), files=slip)


def reassigned_here(matter: Matter, old: str, new: str, urger: str, reason: str, slip: tuple[OutFile, ...] = ()
                    ) -> Callable[[Translator], Reply]:
    return lambda _: Reply(
        _("{number} ({kind}) is re-assigned from {old} to {new}; urger: {urger}. Reason: {reason}\n"
          "To be concluded by {day}, as before.", number=matter.number, kind=kind_label(_, matter.kind), old=old,
          new=new, urger=urger, reason=reason, day=_.date(matter.due_date)) + _slip_line(_, slip),
        title=_("Re-assigned"), buttons=open_button(_, matter), files=slip)


def _slip_line(_: Translator, slip: tuple[OutFile, ...]) -> str:
    return "\n" + _("The assignment slip is attached, to print and sign for.") if slip else ""


def reassigned_away(matter: Matter, old: str, new: str, reason: str) -> Callable[[Translator], Reply]:
    return lambda _: Reply(
        _("The office has re-assigned {number} from {old} to {new}. Reason: {reason}\nYour department's work on it "
          "ends here; please hand over anything it needs.", number=matter.number, old=old, new=new, reason=reason),
        title=_("Re-assigned"))


def work_ended_by_transfer(matter: Matter, authority: str) -> Callable[[Translator], Reply]:
    return lambda _: Reply(
        _("The office has transferred {number} to {authority}, as outside this procuratorate's jurisdiction, and "
          "explained it to the representative. Your work on it ends here.", number=matter.number,
          authority=authority),
        title=_("Transferred"))


def work_ended_by_cannot_meet(matter: Matter) -> Callable[[Translator], Reply]:
    return lambda _: Reply(
        _("The office has explained to the representative that {number} cannot be met; that explanation is the "
          "reply. Your work on it ends here.", number=matter.number),
        title=_("Cannot be met"))


async def reopened(ctx: Context, matter: Matter, due: date, comment: str = "") -> Callable[[Translator], Reply]:
    """To the department that handled it and the urger: it comes back, by when, and why (the comment, if any)."""
    rep = await people.get(ctx.tx, matter.representative_id, as_in=matter.unit_id)

    def build(_: Translator) -> Reply:
        text = _("{deputy} is dissatisfied with the reply to {number}: it is to be handled again and concluded by "
                 "{day}. The office will assign it again.", deputy=deputy(_, rep), number=matter.number,
                 day=_.date(due))
        if comment:
            text += "\n" + _("Their comment: {comment}", comment=comment)
        return Reply(text, title=_("To be handled again"), buttons=open_button(_, matter))
    return build


def extension_requested(matter: Matter, reason: str) -> Callable[[Translator], Reply]:
    return lambda _: Reply(_("The department asks to extend {number} (due {day}). Reason: {reason}",
                             number=matter.number, day=_.date(matter.due_date), reason=reason),
                           title=_("Extension requested"), buttons=open_button(_, matter))


def extension_decided(matter: Matter, new_due: date | None) -> Callable[[Translator], Reply]:
    if new_due is None:
        return lambda _: Reply(_("The extension of {number} was refused.", number=matter.number),
                               buttons=open_button(_, matter))
    return lambda _: Reply(_("The extension of {number} was approved: now due {day}.", number=matter.number,
                             day=_.date(new_due)), buttons=open_button(_, matter))


def reply_to_approve(matter: Matter) -> Callable[[Translator], Reply]:
    return lambda _: Reply(_("The reply to {number} waits for your approval.", number=matter.number),
                           title=_("Reply to approve"), buttons=open_button(_, matter))


def reply_returned(matter: Matter, note: str) -> Callable[[Translator], Reply]:
    return lambda _: Reply(_("The reply to {number} was returned: {note}", number=matter.number, note=note),
                           title=_("Reply returned"), buttons=open_button(_, matter))


async def reply_sent(ctx: Context, matter: Matter) -> Callable[[Translator], Reply]:
    rep = await people.get(ctx.tx, matter.representative_id, as_in=matter.unit_id)
    return lambda _: Reply(_("The reply to {number} was approved and sent to {deputy}.", number=matter.number,
                             deputy=deputy(_, rep)), buttons=open_button(_, matter))


async def dissatisfied(ctx: Context, matter: Matter, comment: str) -> Callable[[Translator], Reply]:
    """To the office and discipline inspection: who is dissatisfied, with what, and the rule that applies (§14)."""
    rep = await people.get(ctx.tx, matter.representative_id, as_in=matter.unit_id)

    def build(_: Translator) -> Reply:
        text = _("{deputy} is dissatisfied with the reply to {number}. Under Article 14 of the {regulation}, the "
                 "matter is reopened and must be handled again.", deputy=deputy(_, rep), number=matter.number)
        if comment:
            text += "\n" + _("Their comment: {comment}", comment=comment)
        return Reply(text, title=_("Dissatisfied"), buttons=open_button(_, matter))
    return build


async def rated(ctx: Context, matter: Matter, rating: str) -> Callable[[Translator], Reply]:
    rep = await people.get(ctx.tx, matter.representative_id, as_in=matter.unit_id)
    return lambda _: Reply(_("{deputy} rated the reply to {number}: {rating}.", deputy=deputy(_, rep),
                             number=matter.number, rating=_(RATING_LABELS[rating])), buttons=open_button(_, matter))


def onsite_recorded(matter: Matter, findings: str) -> Callable[[Translator], Reply]:
    return lambda _: Reply(_("Joint on-site supervision of {number} recorded. Findings: {findings}",
                             number=matter.number, findings=findings), title=_("On-site supervision"),
                           buttons=open_button(_, matter))
