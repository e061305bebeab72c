"""What each staff action on a matter asks for, step by step (`STEPS`), the choices a step offers, the rule
each value must pass as it is given (the same rule the use case applies), and the use case that carries
the action out once every value is in. The dialogue that walks a person through them is `actions.py`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot import domain
from bot.context import Context
from bot.errors import UserError
from bot.i18n import N_
from bot.messages import Reply
from bot.matter.model import Matter
from handlers.matters import assignment, departments, extensions, rating, replies
from handlers.matters import casework as cases
from handlers.matters.notices import OUTCOME_LABELS, RATING_LABELS, VIA_LABELS
from handlers.dialog_state import ActionData, stored_files
from handlers.matters.rating import MAX_COMMENT
from storage import people, units

MAX_TEXT = 4000


@dataclass(frozen=True)
class Step:
    name: str
    kind: str  # "text" or "choice"
    prompt: str
    label: str  # the value's name on the confirm screen and on its change button


GROUNDS = Step("grounds", "text", N_("Please state the grounds (理由/依据): the law, the rules or the facts it rests on "
                                     "(at least {min_grounds} characters)."), N_("Grounds"))
NOTE = Step("note", "text", N_("What should be changed?"), N_("What should be changed"))
STEPS: dict[str, tuple[Step, ...]] = {
    "assign": (Step("department", "choice", N_("Assign {number} to which department?"), N_("Department")),
               Step("urger", "choice", N_("Who in the office urges it (专人催办)?"), N_("Urger"))),
    "reassign": (Step("department", "choice", N_("Re-assign {number}, now with {department}, to which department? Its "
                                                 "due date, {day}, stays as it is."), N_("Department")),
                 Step("urger", "choice", N_("Who in the office urges it (专人催办)?"), N_("Urger")),
                 Step("reason", "text", N_("Why is it re-assigned? Both departments will be told."), N_("Reason"))),
    "transfer": (Step("authority", "text", N_("Which authority is competent? Please send its name."),
                      N_("Competent authority")),
                 Step("explanation", "text", N_("Please write the explanation for the representative: why it is "
                                                "outside our jurisdiction, and where it goes (at least {min_explanation} "
                                                "characters)."), N_("Explanation to the representative"))),
    "cannot_meet": (Step("body", "text", N_("Please write the explanation for the representative: what cannot be "
                                            "done, patiently and clearly (at least {min_outcome} characters; with the "
                                            "grounds, at least {min_reply} in all). You may attach files at any step."),
                         N_("Explanation")),
                    GROUNDS),
    "progress": (Step("note", "text", N_("Please write the progress note."), N_("Progress note")),
                 Step("public", "choice", N_("Send this note to the representative as a progress notice?"),
                      N_("Progress notice"))),
    "request_extension": (Step("reason", "text", N_("Please give the reason for the extension (at least {min_reason} "
                                                    "characters)."), N_("Reason")),),
    "decide_extension": (Step("decision", "choice", N_("Extend {number} (now due {day}) to:"), N_("Decision")),),
    "conclude": (Step("outcome", "choice", N_("Outcome class of {number}:"), N_("Outcome class")),),
    "draft_reply": (Step("via", "choice", N_("How is the reply given?"), N_("How it is given")),
                    Step("body", "text", N_("Please write the reply: the outcome of the handling (at least "
                                            "{min_outcome} characters; with the grounds, at least {min_reply} in all). "
                                            "You may attach files at any step."), N_("Outcome")),
                    GROUNDS),
    "onsite": (Step("participants", "text", N_("Who took part? (discipline inspection, the office, the department)"),
                    N_("Participants")),
               Step("findings", "text", N_("What was found, and what was decided?"), N_("Findings"))),
    "record_rating": (Step("rating", "choice", N_("The feedback form returned for {number}: which rating is ticked?"),
                           N_("Rating")),
                      Step("comment", "text", N_("Please copy the comments written on the form, or choose the option below if "
                                                 "there are none."), N_("Comments on the form"))),
    "return_reply": (NOTE,),
    "leader_return": (NOTE,),
}
CONFIRMED = frozenset({"reassign", "transfer", "cannot_meet", "draft_reply", "onsite", "record_rating"})
WITH_FILES = frozenset({"cannot_meet", "draft_reply"})  # a reply's files (§7), taken at any of its steps
REQUIRES = {"unmark_major": "mark_major", "leader_return": "leader_approve", "files": "view"}


async def choices(ctx: Context, action: str, step: Step, matter: Matter) -> list[tuple[str, str]]:
    """The (value, label) pairs offered for a choice step of `action`: departments, urgers, classes, dates..."""
    _ = ctx._
    if step.name == "department":
        return [(str(i), name if staffed else _("{department} (no handler yet)", department=name))
                for i, name, staffed in await departments.department_choices(ctx, matter, action)]
    if step.name == "urger":
        office = [await people.get(ctx.tx, i) for i in await people.with_role(ctx.tx, ctx.scope, "office")]
        return [(str(p.id), p.name) for p in office if p is not None]
    if step.name == "public":
        return [("yes", _("Yes, send it")), ("no", _("No, internal only"))]
    if step.name == "outcome":
        return [(o, _(OUTCOME_LABELS[o])) for o in domain.OUTCOMES]
    if step.name == "via":
        return [(v, _(VIA_LABELS[v])) for v in domain.REPLY_VIA]
    if step.name == "rating":
        return [(r, _(RATING_LABELS[r])) for r in domain.RATINGS]
    if step.name == "authority":  # a text step's buttons: the other units of the deployment, by name (移送 within it)
        return [(f"unit{u.id}", u.name) for u in await units.listed(ctx.tx) if u.id != matter.unit_id]
    if step.name == "comment":  # a text step's button: nothing written on the form
        return [("none", _("No comments on the form"))]
    if step.name == "decision":
        days = cases.extension_choices(ctx, matter)
        return [(d.strftime("d%Y%m%d"), _.date(d)) for d in days] + [("refuse", _("Refuse"))]
    return []


async def check(ctx: Context, action: str, values: dict[str, str], matter: Matter, step: Step, value: str) -> None:
    """The rule of the action for this one value, as the use case applies it when the action is done."""
    if step.kind == "text" and len(value) > MAX_TEXT:
        raise UserError("The text is too long: {n} characters, at most {max}.", n=len(value), max=MAX_TEXT)
    if step.name == "department":
        await departments.check_department(ctx, matter, int(value), action)
    elif step.name == "authority":
        assignment.check_authority(value)
        await assignment.check_not_own(ctx, matter, value)
    elif step.name == "explanation":
        assignment.check_transfer_explanation(value)
    elif action in ("cannot_meet", "draft_reply") and step.name in ("body", "grounds"):
        given = {**values, step.name: value}
        replies.check_reply(ctx, given.get("body"), given.get("grounds"))
    elif action == "request_extension":
        extensions.check_extension_reason(value)
    elif action == "record_rating" and step.name == "comment" and len(value) > MAX_COMMENT:
        raise UserError("The comment is too long: at most {max} characters.", max=MAX_COMMENT)


async def carry_out(ctx: Context, data: ActionData) -> None:
    """Do the action with the values given, through its use case (which checks everything once more)."""
    action, matter_id, v = data["action"], int(data["matter_id"]), data["values"]
    files = stored_files(data["files"])
    if action == "assign":
        await assignment.assign(ctx, matter_id, int(v["department"]), int(v["urger"]))
    elif action == "reassign":
        await assignment.reassign(ctx, matter_id, int(v["department"]), int(v["urger"]), v["reason"])
    elif action == "transfer":
        await assignment.transfer(ctx, matter_id, v["authority"], v["explanation"])
    elif action == "cannot_meet":
        if not await replies.cannot_meet(ctx, matter_id, v["body"], v["grounds"], files):
            await ctx.reply(Reply(ctx._("The matter is major, difficult or complex: the explanation goes to a "
                                        "leader for approval, and is sent once approved.")))
    elif action == "progress":
        await cases.progress(ctx, matter_id, v["note"], v["public"] == "yes")
    elif action == "request_extension":
        await extensions.request_extension(ctx, matter_id, v["reason"])
    elif action == "decide_extension":
        decision = v["decision"]
        new_due = None if decision == "refuse" else date(int(decision[1:5]), int(decision[5:7]), int(decision[7:9]))
        await extensions.decide_extension(ctx, matter_id, new_due)
    elif action == "conclude":
        await cases.conclude(ctx, matter_id, v["outcome"])
    elif action == "draft_reply":
        await replies.draft_reply(ctx, matter_id, v["body"], v["grounds"], v["via"], files)
    elif action == "onsite":
        await cases.onsite(ctx, matter_id, v["participants"], v["findings"])
    elif action == "record_rating":
        await rating.rate(ctx, matter_id, data["reply_id"], v["rating"], v["comment"], on_paper=True)
    elif action in ("return_reply", "leader_return"):
        await replies.return_reply(ctx, matter_id, v["note"], as_leader=action == "leader_return")
