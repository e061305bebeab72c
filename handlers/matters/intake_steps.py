"""The order of a submission's steps, and what the confirmation's 修改 may change (handlers/matters/intake.py):
rules on a dialogue's data alone, no screen and no storage.

A step applies to some matters only (the complainant to referred cases, the disputed handling to an appeal, the
unit to a representative on several rosters). While a step is changed from the confirmation (`editing`), the next
step is the next that still lacks its answer, else the confirmation.
"""

from __future__ import annotations

from bot.domain import is_referred
from bot.i18n import N_
from bot.model import Dialog
from handlers.dialog_state import IntakeData, intake

# the steps of a representative's submission, in order; `following` skips what does not apply
ORDER = ("unit", "kind", "subject", "text", "files", "complainant_name", "complainant_contact", "disputes", "department",
         "confirm")
# what the confirmation's 修改 offers: the choice, its label, and the step it asks again
CHANGES = (("unit", N_("Procuratorate"), "unit"), ("kind", N_("Kind"), "kind"), ("subject", N_("Subject"), "subject"),
           ("text", N_("Content"), "text"), ("files", N_("Attachments"), "files"),
           ("complainant", N_("Complainant"), "complainant_name"),
           ("disputes", N_("Whether it disputes our handling"), "disputes"))
# the steps that offer 不修改 when asked again (the attachments have their own way: 附件已发完)
KEPT = ("unit", "kind", "subject", "text", "complainant_name", "complainant_contact", "disputes", "department")


def applies(data: IntakeData, step: str) -> bool:
    """Whether a step is asked for this matter: the complainant for referred cases, the disputed handling for an
    appeal, the original department when it disputes ours."""
    if step in ("complainant_name", "complainant_contact"):
        return is_referred(data["kind"])
    if step == "disputes":
        return data["kind"] == "appeal"
    if step == "department":
        return data["kind"] == "appeal" and bool(data.get("disputes"))
    if step == "unit":
        return "unit" in data
    return True


def filled(data: IntakeData, step: str) -> bool:
    """Whether a step has its answer (the attachments always do: none is an answer)."""
    if step == "text":
        return bool(data["text"] or data.get("old_text"))
    if step == "department":
        return "department_id" in data
    return step == "files" or step in data


def following(data: IntakeData, step: str) -> str:
    """The step after `step`: the next that applies; while changing from the confirmation, the next that still
    lacks its answer (the complainant's contact always follows their name: the two are changed together), else the
    confirmation."""
    changing = data.get("editing", False)
    for later in ORDER[ORDER.index(step) + 1:]:
        if not applies(data, later):
            continue
        if changing and filled(data, later) and not (step == "complainant_name" and later == "complainant_contact"):
            continue
        return later
    return "confirm"


def changeable(data: IntakeData, choice: str) -> bool:
    """What the confirmation's 修改 offers for this matter."""
    if choice == "unit":  # asked of a representative on several units' rosters
        return "unit" in data
    if choice == "complainant":
        return is_referred(data["kind"])
    if choice == "disputes":
        return data["kind"] == "appeal"
    return True


def on_behalf(dialog: Dialog) -> bool:
    """Whether the office is registering this matter for a representative."""
    return "on_behalf_of" in intake(dialog)
