"""The words for kinds, states, timeline events and contact methods, in the procuratorate's own terms
(SPEC §10), and the ways a person and a list of names are written.

A representative 提出 (raises) their own suggestions, criticisms and opinions, and 转交 (refers) the
reports, accusations and appeals of citizens: every sentence about "their" matter comes in both
forms (`raised_or_referred`), so that a referred report never reads as the representative's own.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain import is_referred
from bot.i18n import N_, Translator
from bot.model import Person
from bot.matter.states import Happened, State
from bot.text import clip

KIND_LABELS = {
    "suggestion": N_("Suggestion"),
    "criticism": N_("Criticism"),
    "opinion": N_("Opinion"),
    "report": N_("Report"),
    "accusation": N_("Accusation"),
    "appeal": N_("Appeal"),
}

# The same words inside a sentence ("Your suggestion has been registered"): English lowers their case.
KIND_NOUNS = {
    "suggestion": N_("suggestion"),
    "criticism": N_("criticism"),
    "opinion": N_("opinion"),
    "report": N_("report"),
    "accusation": N_("accusation"),
    "appeal": N_("appeal"),
}

STATE_LABELS: dict[str, str] = {
    State.REGISTERED: N_("Registered"),
    State.ASSIGNED: N_("Assigned"),
    State.IN_PROGRESS: N_("Being handled"),
    State.CONCLUDED: N_("Concluded, reply not yet sent"),  # not "已办结" twice: CLOSED is the end of the matter
    State.REPLIED: N_("Replied"),
    State.RATED: N_("Rated"),
    State.CLOSED: N_("Closed"),
    State.TRANSFERRED: N_("Transferred"),
    State.REOPENED: N_("Being handled again"),
}

EVENT_LABELS: dict[str, str] = {
    Happened.REGISTERED: N_("Registered"),
    Happened.ASSIGNED: N_("Assigned to a department"),
    Happened.REASSIGNED: N_("Re-assigned to another department"),
    "major": N_("Marked major, difficult or complex"),
    "not_major": N_("No longer marked major"),
    Happened.TRANSFERRED: N_("Transferred to the competent authority"),
    Happened.CANNOT_MEET: N_("Explained: cannot be met"),
    "progress_public": N_("Progress notice"),
    "progress_internal": N_("Progress note"),
    "extension_requested": N_("Extension requested"),
    "extension_refused": N_("Extension refused"),
    Happened.EXTENDED: N_("Deadline extended"),
    Happened.CONCLUDED: N_("Concluded"),
    "reply_drafted": N_("Reply drafted"),
    "reply_to_leader": N_("Reply passed to a leader for approval"),
    "reply_returned": N_("Reply returned for changes"),
    Happened.REPLIED: N_("Replied"),
    "rated_satisfied": N_("Rated: satisfied"),
    "rated_basically": N_("Rated: basically satisfied"),
    "rated_dissatisfied": N_("Rated: dissatisfied; to be handled again"),
    Happened.REOPENED: N_("Reopened, to be concluded by a new due date"),
    "urged": N_("Urged"),
    "stale": N_("Flagged: no action for a long time"),
    Happened.UNRATED: N_("Not rated; recorded as unrated"),
    "onsite": N_("Joint on-site supervision"),
    "supervisor_view": N_("Law-enforcement supervisor's view"),
}

# The ways a contact with a representative is made (SPEC §6; bot/contacts_file.py: METHODS).
METHOD_LABELS = {
    "forum": N_("Forum"),
    "work_report": N_("Work report"),
    "home_visit": N_("Home visit"),
    "inspection": N_("Inspection"),
    "documents": N_("Documents"),
    "letter": N_("Letter"),
    "opinion_card": N_("Opinion card"),
    "other": N_("Other"),
}

VIA_LABELS = {
    "chat": N_("by chat"),
    "letter": N_("by letter"),
    "meeting": N_("at a meeting"),
    "visit": N_("on a visit"),
    "phone": N_("by phone"),
    "other": N_("other"),
    "card": N_("by opinion card"),
    "briefing": N_("in reply to a briefing"),
    "transfer": N_("transferred from another procuratorate"),
}

# The ways the office receives a matter that it registers on a representative's behalf (SPEC §3).
OFFICE_VIA = ("letter", "meeting", "visit", "phone", "other")

# What the representative is told when the office has registered their matter for them.
VIA_REGISTERED = {
    "letter": N_("Your {kind} sent by letter has been registered as {number}."),
    "meeting": N_("Your {kind} raised at a meeting has been registered as {number}."),
    "visit": N_("Your {kind} raised during a visit has been registered as {number}."),
    "phone": N_("Your {kind} made by phone has been registered as {number}."),
    "other": N_("Your {kind} has been registered for you by the liaison office as {number}."),
}
VIA_REFERRED = {
    "letter": N_("The {kind} you referred by letter has been registered as {number}."),
    "meeting": N_("The {kind} you referred at a meeting has been registered as {number}."),
    "visit": N_("The {kind} you referred during a visit has been registered as {number}."),
    "phone": N_("The {kind} you referred by phone has been registered as {number}."),
    "other": N_("The {kind} you referred has been registered for you by the liaison office as {number}."),
}


def attachments_line(_: Translator, n: int) -> str:
    """附件：2 个, or 无附件."""
    return _("Attachments: {n}", n=n) if n else _("No attachments")


def raised_or_referred(_: Translator, kind: str, own: str, referred: str, /, **params: object) -> str:
    """`own` said of a representative's own matter (提出), or `referred` of a citizen's case they referred (转交).
    Callers mark both with N_(), outside any _() call, so that the catalogs' extraction finds them."""
    return _(referred if is_referred(kind) else own, **params)


COMPLAINANT_LINES = {"report": N_("Reporter: {name}, {contact}"), "accusation": N_("Accuser: {name}, {contact}"),
                     "appeal": N_("Appellant: {name}, {contact}")}


def complainant_line(_: Translator, kind: str, name: str, contact: str) -> str:
    """举报人 / 控告人 / 申诉人: the citizen of a referred case, named as its kind names them (当事人 would be read as
    the one reported)."""
    return _(COMPLAINANT_LINES.get(kind, N_("Complainant: {name}, {contact}")), name=name, contact=contact)


def deputy(_: Translator, person: Person | None) -> str:
    """A representative as staff notices name them: 王建国代表, 李秀梅委员 (NPC deputy 王建国); staff by name."""
    if person is None:
        return ""
    if person.body == "npc":
        return _("NPC deputy {name}", name=person.name)
    if person.body == "cppcc":
        return _("CPPCC member {name}", name=person.name)
    return person.name


def via_label(_: Translator, via: str) -> str:
    return _(VIA_LABELS[via]) if via in VIA_LABELS else via


def kind_label(_: Translator, kind: str) -> str:
    return _(KIND_LABELS[kind])


def kind_noun(_: Translator, kind: str) -> str:
    return _(KIND_NOUNS[kind])


def state_label(_: Translator, state: str) -> str:
    return _(STATE_LABELS[state])


def event_label(_: Translator, event: str) -> str:
    return _(EVENT_LABELS[event]) if event in EVENT_LABELS else event


def method_label(_: Translator, method: str) -> str:
    return _(METHOD_LABELS[method])


def representative_line(_: Translator, name: str, body: str | None, sector: str, limit: int | None = None) -> str:
    """王建国 · 人大代表 · 农业界: enough to tell two people of one name apart."""
    title = _("NPC deputy") if body == "npc" else _("CPPCC member")
    if limit is not None:
        name, sector = clip(name, limit), clip(sector, limit)
    return " · ".join(part for part in (name, title, sector) if part)


def listed(_: Translator, items: Sequence[str], limit: int | None = None, gap: str = "") -> str:
    """王建国、李秀梅 in Chinese, "Wang, Li" in English; past `limit` items, the rest counted after `gap`:
    王建国、李秀梅…and 3 more."""
    shown = ("、" if _.locale.startswith("zh") else ", ").join(items[:limit])
    if limit is not None and len(items) > limit:
        shown += gap + _("…and {n} more", n=len(items) - limit)
    return shown
